/**
 * Checks a profile tree needs no cell or bench for: unique labels, goto targets, loop counts,
 * periods, soak and tolerance. Run by the document parser and again by validation (profiles can
 * also be built in code).
 */
import type { LogCriteria, ProfileNode } from "./ast.js";
import type { ProfileIssue } from "./profile-error.js";
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

/** Returns the structural problems of a profile's steps (empty when there are none). */
export function checkStructure(steps: ProfileNode[]): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const labels = new Map<string, string>();
  const gotos: { path: string; label: string }[] = [];

  let nodeCount = 0;
  const visit = (nodes: ProfileNode[]): void => {
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
          checkPeriod(node.path, node.text, node.periodS, issues);
          if (node.termination.durationS !== undefined && !(node.termination.durationS > 0)) {
            issues.push({
              path: node.path,
              message: `"${node.text}": the duration must be greater than 0 s`,
            });
          }
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
          visit(node.steps);
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
          visit(node.steps);
          break;
      }
    }
  };
  visit(steps);
  if (nodeCount > MAX_PROFILE_NODES) {
    issues.push({
      path: "steps",
      message: `the profile has more than ${MAX_PROFILE_NODES} steps written out; loop with repeat: instead of writing steps out`,
    });
    return issues;
  }
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
