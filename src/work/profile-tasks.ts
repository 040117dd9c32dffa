/**
 * The profile work that runs on the worker (src/work/profile-worker.ts): parsing and validating a
 * profile sent over the API, dry-running it for POST /api/v1/profiles/check, and estimating a run.
 * Inputs and outputs cross the thread boundary by structured clone: plain data only.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { estimateProfile } from "../engine/estimate.js";
import { prefixProfileError, readProfile } from "../http/request-input.js";
import type { Profile, ProfileNode } from "../profile/ast.js";
import { ProfileError } from "../profile/profile-error.js";
import { assertProfileValid } from "../profile/validate.js";
import {
  type CheckInput,
  type CheckOutput,
  type EstimateInput,
  HANDLE_EXPIRED,
  type ParseInput,
  type ParseOutput,
  type ProfileTasks,
  type RunEstimate,
} from "./task-types.js";

/** Profiles kept for estimates, newest last; a few are enough (an estimate follows its parse at once). */
const KEPT_PROFILES = 16;
const kept = new Map<number, Profile>();
let nextHandle = 1;

class HandleExpiredError extends CellbenchError {
  constructor() {
    super(HANDLE_EXPIRED, "the parsed profile is no longer kept on the worker; send the profile itself");
  }
}

export async function runTask(kind: keyof ProfileTasks, input: unknown): Promise<unknown> {
  switch (kind) {
    case "parse":
      return parse(input as ParseInput);
    case "check":
      return check(input as CheckInput);
    case "estimate":
      return estimate(input as EstimateInput);
  }
}

function parse(input: ParseInput): ParseOutput {
  const parsed = readProfile(input.value, input.field, { driveCycleDir: input.driveCycleDir });
  if (!input.keep) return parsed;
  const handle = nextHandle++;
  kept.set(handle, parsed.profile);
  for (const old of kept.keys()) {
    if (kept.size <= KEPT_PROFILES) break;
    kept.delete(old);
  }
  return { ...parsed, handle };
}

async function check(input: CheckInput): Promise<CheckOutput> {
  const { profile } = readProfile(input.value, input.field, { driveCycleDir: input.driveCycleDir });
  try {
    if (input.ranges) assertProfileValid(profile, input.cell, input.ranges);
    const { estimate, complete } = await estimateProfile(profile, input.cell, {
      samples: input.samples,
      initialSoc: input.initialSoc,
      finePeriodS: Math.min(1, shortestPeriodS(profile.steps) ?? 1),
    });
    return { name: profile.name, steps: profile.steps.length, estimate, complete };
  } catch (err) {
    if (err instanceof ProfileError) throw prefixProfileError(err, input.field);
    throw err;
  }
}

async function estimate(input: EstimateInput): Promise<RunEstimate> {
  const profile = (input.handle === undefined ? undefined : kept.get(input.handle)) ?? input.profile;
  if (!profile) throw new HandleExpiredError();
  if (input.handle !== undefined) kept.delete(input.handle);
  const { estimate } = await estimateProfile(profile, input.cell, {
    samples: input.samples,
    initialSoc: input.initialSoc,
    ...(input.initialChamberC === undefined ? {} : { initialChamberC: input.initialChamberC }),
  });
  return { state: estimate.state, durationS: estimate.durationS, timeline: estimate.timeline };
}

/** The shortest `(… period)` of any step, seconds (the dry run samples at least this often). */
function shortestPeriodS(nodes: ProfileNode[]): number | undefined {
  let best: number | undefined;
  for (const n of nodes) {
    const p =
      n.type === "step"
        ? n.periodS
        : n.type === "repeat" || n.type === "sweep"
          ? shortestPeriodS(n.steps)
          : undefined;
    if (p !== undefined && (best === undefined || p < best)) best = p;
  }
  return best;
}
