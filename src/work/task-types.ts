/** What the profile worker's tasks take and give (src/work/profile-tasks.ts): plain data, as structured clone carries it. */
import type { CellSpec, ChamberRanges, CyclerRanges } from "../../drivers/capabilities.js";
import type { DryRunEstimate } from "../engine/dry-run.js";
import type { StepTimeline } from "../engine/step-timeline.js";
import type { Profile } from "../profile/ast.js";
import type { RunState } from "../run/records.js";

/** An estimate asked for by handle after the worker let go of that parse: send the profile itself. */
export const HANDLE_EXPIRED = "PROFILE_HANDLE_EXPIRED";

export interface ParseInput {
  /** The profile as sent: YAML/JSON text or an object. */
  value: unknown;
  /** Prefix of issue paths (`body.profile`, `profile P…`). */
  field: string;
  driveCycleDir?: string | undefined;
  /** Keep the parsed profile on the worker for a following estimate (the reply carries its handle). */
  keep?: boolean;
}

export interface ParseOutput {
  profile: Profile;
  source: string;
  format: "yaml" | "json";
  handle?: number;
}

export interface CheckInput extends Omit<ParseInput, "keep"> {
  cell: CellSpec;
  /** The channel's (and its chamber's) ranges, when the check names a channel. */
  ranges?: { cycler: CyclerRanges; chamber?: ChamberRanges };
  samples: number;
  initialSoc: number;
}

export interface CheckOutput {
  name: string;
  steps: number;
  estimate: DryRunEstimate;
  complete: boolean;
}

export interface EstimateInput {
  /** A profile kept by an earlier parse; when it is gone, `profile` is used. */
  handle?: number;
  profile?: Profile;
  cell: CellSpec;
  samples: number;
  initialSoc: number;
  initialChamberC?: number;
}

/** What a run keeps of its estimate: its length and where each step starts (bounded). */
export interface RunEstimate {
  state: RunState;
  durationS: number;
  timeline: StepTimeline;
}

export interface ProfileTasks {
  parse: [ParseInput, ParseOutput];
  check: [CheckInput, CheckOutput];
  estimate: [EstimateInput, RunEstimate];
}
