import type {
  Action,
  ChamberNode,
  Condition,
  Profile,
  ProfileNode,
  RepeatNode,
  StepLimit,
  StepNode,
  SweepNode,
} from "../../src/profile/ast.js";

/** Builds profile trees by hand so engine tests do not depend on the parser. Paths are assigned by `profile()`. */
export function step(
  action: Action,
  termination: { durationS?: number; conditions?: Condition[] } = {},
  extra: { label?: string; limits?: StepLimit[]; periodS?: number; text?: string } = {},
): StepNode {
  const node: StepNode = {
    type: "step",
    path: "",
    text: extra.text ?? action.kind,
    action,
    termination: { conditions: termination.conditions ?? [] },
    limits: extra.limits ?? [],
  };
  if (termination.durationS !== undefined) node.termination.durationS = termination.durationS;
  if (extra.label !== undefined) node.label = extra.label;
  if (extra.periodS !== undefined) node.periodS = extra.periodS;
  return node;
}

export function rest(durationS: number, label?: string): StepNode {
  return step(
    { kind: "rest" },
    { durationS },
    label ? { label, text: `Rest for ${durationS} s` } : { text: `Rest for ${durationS} s` },
  );
}

export function repeat(count: number, steps: ProfileNode[], label?: string): RepeatNode {
  const node: RepeatNode = { type: "repeat", path: "", text: `repeat ${count}`, count, steps };
  if (label) node.label = label;
  return node;
}

export function sweep(chamberC: number[], steps: ProfileNode[], soakS = 0, toleranceC = 1): SweepNode {
  return {
    type: "sweep",
    path: "",
    text: `sweep ${chamberC.join(", ")}`,
    chamberC,
    soakS,
    toleranceC,
    steps,
  };
}

export function chamber(setpointC: number, soakS = 0, toleranceC = 1): ChamberNode {
  return { type: "chamber", path: "", text: `chamber ${setpointC} °C`, setpointC, soakS, toleranceC };
}

export function profile(steps: ProfileNode[], extra: Partial<Profile> = {}): Profile {
  assignPaths(steps, "steps");
  return { name: "test", ...extra, steps };
}

function assignPaths(nodes: ProfileNode[], prefix: string): void {
  for (const [i, n] of nodes.entries()) {
    n.path = `${prefix}[${i}]`;
    if (n.type === "repeat" || n.type === "sweep") assignPaths(n.steps, `${n.path}.steps`);
  }
}

/** Three cycles of 1.5 A for 100 s each way (0.041 67 Ah per half cycle), a run's simplest loop. */
export function currentCycles(count = 3): Profile {
  return profile([
    repeat(count, [
      step(
        { kind: "constant", direction: "discharge", value: { kind: "current", amps: 1.5 } },
        { durationS: 100 },
      ),
      step(
        { kind: "constant", direction: "charge", value: { kind: "current", amps: 1.5 } },
        { durationS: 100 },
      ),
    ]),
  ]);
}
