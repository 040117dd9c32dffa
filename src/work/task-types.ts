/** What the profile worker's tasks take and give (src/work/profile-tasks.ts): plain data, as structured clone carries it. */
import type { CellSpec, ChamberRanges, CyclerRanges } from "../../drivers/capabilities.js";
import type { DryRunEstimate } from "../engine/dry-run.js";
import type { StepTimeline } from "../engine/step-timeline.js";
import type { Profile } from "../profile/ast.js";
import type { RunState } from "../run/records.js";

export interface ParseInput {
  /** The profile as sent: YAML/JSON text or an object. */
  value: unknown;
  /** Prefix of issue paths (`body.profile`, `profile P…`). */
  field: string;
  driveCycleDir?: string | undefined;
}

export interface ParseOutput {
  profile: Profile;
  source: string;
  format: "yaml" | "json";
}

export interface CheckInput extends ParseInput {
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
  /**
   * The profile: its source text (a string crosses to the worker as one copy; the worker parses it
   * again), or the parsed tree (a run recovered from the store).
   */
  profile: { source: string; driveCycleDir?: string | undefined } | { tree: Profile };
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
