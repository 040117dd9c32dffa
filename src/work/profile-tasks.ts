/**
 * The profile work that runs on the worker (src/work/profile-worker.ts): parsing and validating a
 * profile sent over the API, dry-running it for POST /api/v1/profiles/check, and estimating a run.
 * Inputs and outputs cross the thread boundary by structured clone: plain data only.
 */
import { estimateProfile } from "../engine/estimate.js";
import { prefixProfileError, readProfile } from "../http/request-input.js";
import type { ProfileNode } from "../profile/ast.js";
import { forEachInstance, instantiate } from "../profile/loop-variables.js";
import { ProfileError } from "../profile/profile-error.js";
import { assertProfileValid } from "../profile/validate.js";
import type {
  CheckInput,
  CheckOutput,
  EstimateInput,
  ParseInput,
  ParseOutput,
  ProfileTasks,
  RunEstimate,
} from "./task-types.js";

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
  return readProfile(input.value, input.field, { driveCycleDir: input.driveCycleDir });
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
  const profile =
    "tree" in input.profile
      ? input.profile.tree
      : readProfile(input.profile.source, "profile", { driveCycleDir: input.profile.driveCycleDir }).profile;
  const { estimate } = await estimateProfile(profile, input.cell, {
    samples: input.samples,
    initialSoc: input.initialSoc,
    ...(input.initialChamberC === undefined ? {} : { initialChamberC: input.initialChamberC }),
  });
  return { state: estimate.state, durationS: estimate.durationS, timeline: estimate.timeline };
}

/**
 * The shortest `(… period)` of any step, seconds (the dry run samples at least this often); steps
 * written with loop variables count by their instances.
 */
export function shortestPeriodS(nodes: ProfileNode[]): number | undefined {
  let best: number | undefined;
  const consider = (p: number | undefined) => {
    if (p !== undefined && (best === undefined || p < best)) best = p;
  };
  const walk = (list: ProfileNode[]) => {
    for (const n of list) {
      if (n.type === "step") consider(n.periodS);
      else if (n.type === "repeat" || n.type === "sweep") walk(n.steps);
    }
  };
  walk(nodes);
  forEachInstance(nodes, ({ node, bindings }) => {
    try {
      consider(instantiate(node, bindings).periodS);
    } catch {
      // An instance that does not parse was refused by validation before any estimate.
    }
  });
  return best;
}
