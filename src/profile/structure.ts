/**
 * Checks a profile tree needs no cell or bench for: unique labels, goto targets, loop counts,
 * periods, soak and tolerance, loop variables (every step instance parses), cycle marks and loop
 * `until`s. Run by the document parser and again by validation (profiles can also be built in code).
 */
import type { LogCriteria, LoopNode, ProfileNode, StepNode, TemplateNode } from "./ast.js";
import { cycleLoops, holdsCycles } from "./cycles.js";
import {
  forEachInstance,
  instancePath,
  instantiate,
  iterationsOf,
  MAX_TEMPLATE_INSTANCES,
  namesOf,
  TemplateSyntaxError,
  variablesIn,
} from "./loop-variables.js";
import type { ProfileIssue } from "./profile-error.js";
import { StepStringError } from "./step-string.js";
import { didYouMean } from "./suggest.js";

/** Shortest sampling/logging period a step may ask for, s. */
export const MIN_PERIOD_S = 0.01;

/** Most nodes (steps, chamber steps, repeats, sweeps) a profile may hold, written out. */
export const MAX_PROFILE_NODES = 5000;
/** Most steps a profile may execute, loops unrolled (100 years of 5 min steps). */
export const MAX_EXECUTED_STEPS = 10_000_000;
/** Longest label, characters. */
export const MAX_LABEL_CHARS = 64;

/** Steps the profile executes with every loop unrolled (Infinity past MAX_EXECUTED_STEPS). */
export function executedSteps(nodes: ProfileNode[]): number {
  let total = 0;
  for (const n of nodes) {
    if (n.type === "repeat") total += n.count * executedSteps(n.steps);
    else if (n.type === "sweep") total += n.chamberC.length * (1 + executedSteps(n.steps));
    else total += 1;
    if (!(total <= MAX_EXECUTED_STEPS)) return Number.POSITIVE_INFINITY;
  }
  return total;
}

/** One instance of a step with loop variables, as parsed by checkStructure. */
export type InstanceVisitor = (step: StepNode, path: string, template: TemplateNode) => void;

/**
 * Returns the structural problems of a profile's steps (empty when there are none). Each instance
 * of a step with loop variables that parses is handed to `onInstance` (validation checks it there
 * rather than parsing it again).
 */
export function checkStructure(steps: ProfileNode[], onInstance?: InstanceVisitor): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const labels = new Map<string, string>();
  const gotos: { path: string; label: string }[] = [];

  const cycles = cycleLoops(steps);
  /** Templates whose variables are not all defined: not instantiated. */
  const unscoped = new Set<TemplateNode>();
  let nodeCount = 0;
  const visit = (nodes: ProfileNode[], loops: LoopNode[]): void => {
    for (const node of nodes) {
      if (++nodeCount > MAX_PROFILE_NODES) return;
      if (node.label !== undefined && node.label.length > MAX_LABEL_CHARS) {
        issues.push({
          path: `${node.path}.label`,
          message: `the label is ${node.label.length} characters long; use at most ${MAX_LABEL_CHARS}`,
        });
      } else if (node.label !== undefined) {
        const first = labels.get(node.label);
        if (first !== undefined) {
          issues.push({
            path: `${node.path}.label`,
            message: `label "${node.label}" is already used by ${first}; labels must be unique`,
          });
        } else {
          labels.set(node.label, node.path);
        }
      }
      switch (node.type) {
        case "step":
          checkStep(node, node.path, issues);
          for (const [k, limit] of node.limits.entries()) {
            if (limit.then.kind === "goto")
              gotos.push({ path: `${node.path}.limits[${k}].then`, label: limit.then.label });
          }
          if (node.log) checkLog(`${node.path}.log`, node.log, issues);
          break;
        case "template":
          if (!checkScope(node, loops, issues)) unscoped.add(node);
          for (const [k, limit] of node.limits.entries()) {
            if (limit.then.kind === "goto")
              gotos.push({ path: `${node.path}.limits[${k}].then`, label: limit.then.label });
          }
          if (node.log) checkLog(`${node.path}.log`, node.log, issues);
          break;
        case "chamber":
          checkSoak(node.path, node.soakS, node.toleranceC, issues);
          break;
        case "repeat":
          if (!(Number.isInteger(node.count) && node.count > 0)) {
            issues.push({
              path: `${node.path}.repeat`,
              message: `repeat count ${node.count} is not a positive integer; write e.g. "repeat: 3"`,
            });
          }
          if (node.steps.length === 0)
            issues.push({ path: `${node.path}.steps`, message: "a repeat needs at least one step" });
          checkLoop(node, loops, cycles, issues);
          visit(node.steps, [...loops, node]);
          break;
        case "sweep":
          if (node.chamberC.length === 0) {
            issues.push({
              path: `${node.path}.sweep.chamber`,
              message: "a sweep needs at least one temperature, e.g. sweep: { chamber: [0, 25, 45] }",
            });
          }
          checkSoak(node.path, node.soakS, node.toleranceC, issues);
          if (node.steps.length === 0)
            issues.push({ path: `${node.path}.steps`, message: "a sweep needs at least one step" });
          checkLoop(node, loops, cycles, issues);
          visit(node.steps, [...loops, node]);
          break;
      }
    }
  };
  visit(steps, []);
  if (nodeCount > MAX_PROFILE_NODES) {
    issues.push({
      path: "steps",
      message: `the profile has more than ${MAX_PROFILE_NODES} steps written out; loop with repeat: instead of writing steps out`,
    });
    return issues;
  }
  checkInstances(steps, unscoped, issues, onInstance);
  if (executedSteps(steps) > MAX_EXECUTED_STEPS)
    issues.push({
      path: "steps",
      message: `the loops would execute more than ${MAX_EXECUTED_STEPS} steps; lower the repeat counts`,
    });

  for (const g of gotos) {
    if (!labels.has(g.label)) {
      const known = [...labels.keys()];
      issues.push({
        path: g.path,
        message:
          `no step is labelled "${g.label}"${didYouMean(g.label, known)}; ` +
          (known.length > 0
            ? `labels are: ${known.slice(0, 20).join(", ")}${known.length > 20 ? ` and ${known.length - 20} more` : ""}`
            : "add `label: <name>` to the target step"),
      });
    }
  }
  return issues;
}

function checkStep(node: StepNode, path: string, issues: ProfileIssue[]): void {
  checkPeriod(path, node.text, node.periodS, issues);
  if (node.termination.durationS !== undefined && !(node.termination.durationS > 0)) {
    issues.push({ path, message: `"${node.text}": the duration must be greater than 0 s` });
  }
}

/** Whether every `{name}` of a template is a variable of an enclosing loop (reports those that are not). */
function checkScope(node: TemplateNode, loops: LoopNode[], issues: ProfileIssue[]): boolean {
  let used: string[];
  try {
    used = variablesIn(node.template);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    issues.push({ path: node.path, message: e.message });
    return false;
  }
  const defined = loops.flatMap(namesOf);
  const missing = used.filter((name) => !defined.includes(name));
  for (const name of missing) {
    issues.push({
      path: node.path,
      message:
        defined.length > 0
          ? `"${node.template}": {${name}} is not defined in this loop; the variables here are ${defined.map((d) => `{${d}}`).join(", ")}`
          : `"${node.template}": {${name}} is not defined: no loop around this step defines variables; add counter: ${name} to an enclosing repeat or sweep: { ${name}: [values] }`,
    });
  }
  return missing.length === 0 && used.length > 0;
}

/** A loop's variables (names unique along the nesting, one value per iteration), cycle mark and until. */
function checkLoop(loop: LoopNode, outer: LoopNode[], cycles: Set<LoopNode>, issues: ProfileIssue[]): void {
  const names = namesOf(loop);
  const outerNames = new Map(outer.flatMap((l) => namesOf(l).map((n) => [n, l.path] as const)));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      issues.push({
        path: loop.path,
        message: `the loop defines {${name}} twice (as its counter and a sweep list); give them different names`,
      });
    }
    seen.add(name);
    const by = outerNames.get(name);
    if (by !== undefined) {
      issues.push({
        path: loop.path,
        message: `{${name}} is already defined by the loop at ${by}; give this loop's variable another name`,
      });
    }
  }
  const count = iterationsOf(loop);
  for (const [name, values] of Object.entries(loop.variables?.values ?? {})) {
    if (values.length !== count) {
      issues.push({
        path: `${loop.path}.sweep.${name}`,
        message:
          loop.type === "sweep"
            ? `has ${values.length} values but the sweep has ${count} chamber temperatures; give one value per temperature`
            : `has ${values.length} values but the sweep runs ${count} times; give every list of the sweep the same length`,
      });
    }
  }
  for (const name of Object.keys(loop.variables?.values ?? {})) {
    if (usesVariable(loop.steps, name)) continue;
    issues.push({
      path: `${loop.path}.sweep.${name}`,
      message: `no step of the sweep uses {${name}}${didYouMean(name, ["chamber"])}; write chamber: [temperatures] to sweep the chamber, or use {${name}} in a step string such as "Discharge at {${name}} until 2.5 V"`,
    });
  }
  if (loop.cycle && outer.some((l) => l.cycle)) {
    issues.push({
      path: `${loop.path}.cycle`,
      message: `this loop is inside ${outer.filter((l) => l.cycle).map((l) => l.path)[0]}, also marked cycle: true; a cycle cannot hold cycles — mark one of them`,
    });
  }
  if (loop.type === "repeat" && loop.until) {
    for (const [k, c] of loop.until.entries()) {
      if (c.kind !== "retention")
        issues.push({
          path: `${loop.path}.until[${k}]`,
          message: `a loop ends on capacity retention only, e.g. "capacity < 80 % of cycle 1"; to end on ${c.kind}, put "until ..." in a step`,
        });
    }
    if (!holdsCycles(loop, cycles)) {
      issues.push({
        path: `${loop.path}.until`,
        message:
          "the loop holds no cycles, so its capacity is never measured; mark this loop (or one inside it) cycle: true",
      });
    }
  }
}

/** True when a step string in `nodes` (at any depth) uses `{name}`. */
function usesVariable(nodes: ProfileNode[], name: string): boolean {
  return nodes.some((n) => {
    if (n.type === "repeat" || n.type === "sweep") return usesVariable(n.steps, name);
    if (n.type !== "template") return false;
    try {
      return variablesIn(n.template).includes(name);
    } catch {
      return false;
    }
  });
}

/** Every instance of every template parses (the first failure of each is reported) and has sane timing. */
function checkInstances(
  steps: ProfileNode[],
  unscoped: Set<TemplateNode>,
  issues: ProfileIssue[],
  onInstance: InstanceVisitor | undefined,
): void {
  const failed = new Set<TemplateNode>();
  const complete = forEachInstance(steps, ({ node, bindings }) => {
    if (unscoped.has(node) || failed.has(node)) return;
    const path = instancePath(node, bindings);
    let step: StepNode;
    try {
      step = instantiate(node, bindings);
    } catch (e) {
      if (!(e instanceof StepStringError)) throw e;
      failed.add(node);
      issues.push({ path, message: e.message });
      return;
    }
    checkStep(step, path, issues);
    onInstance?.(step, path, node);
  });
  if (!complete) {
    issues.push({
      path: "steps",
      message: `the loop variables give more than ${MAX_TEMPLATE_INSTANCES} different steps; use fewer sweep values or counters in step strings`,
    });
  }
}

function checkPeriod(path: string, text: string, periodS: number | undefined, issues: ProfileIssue[]): void {
  if (periodS === undefined) return;
  if (!(periodS >= MIN_PERIOD_S - 1e-12)) {
    issues.push({
      path,
      message: `"${text}": the period ${formatSeconds(periodS)} is shorter than 10 ms; use (10 ms period) or longer`,
    });
  }
}

function checkSoak(path: string, soakS: number, toleranceC: number, issues: ProfileIssue[]): void {
  if (!(soakS >= 0))
    issues.push({ path: `${path}.soak`, message: `soak ${soakS} s is negative; use 0 s or more` });
  if (!(toleranceC > 0)) {
    issues.push({
      path: `${path}.tolerance`,
      message: `tolerance ${toleranceC} °C must be greater than 0, e.g. "1 °C"`,
    });
  }
}

/** Checks logging criteria: each given value must be positive. */
export function checkLog(path: string, log: LogCriteria, issues: ProfileIssue[]): void {
  if (log.everyS !== undefined && !(log.everyS >= MIN_PERIOD_S - 1e-12)) {
    issues.push({
      path: `${path}.every`,
      message: `every ${formatSeconds(log.everyS)} is shorter than 10 ms`,
    });
  }
  if (log.dV !== undefined && !(log.dV > 0)) {
    issues.push({ path: `${path}.dV`, message: `dV must be greater than 0, e.g. "5 mV"` });
  }
  if (log.dI !== undefined && !(log.dI > 0)) {
    issues.push({ path: `${path}.dI`, message: `dI must be greater than 0, e.g. "10 mA"` });
  }
}

/** Renders seconds for messages: `5 ms`, `30 s`, `2 h`. */
export function formatSeconds(s: number): string {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  if (s !== 0 && Math.abs(s) < 1) return `${round(s * 1000)} ms`;
  if (Math.abs(s) >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (Math.abs(s) >= 60 && s % 60 === 0) return `${s / 60} min`;
  return `${round(s)} s`;
}
