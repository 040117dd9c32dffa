/**
 * Loop variables: a repeat's `counter: n` (1-based) and a sweep's value lists (`sweep: { c: [0.1C,
 * 1C] }`) are usable as `{n}`, `{c}` in the step strings of the loop's body. Such a step is a
 * TemplateNode; it becomes a StepNode per iteration by substituting the values' text and parsing the
 * result, here, for the run cursor (the step it executes) and for validation (every instance).
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import type { LoopNode, ProfileNode, StepNode, TemplateNode } from "./ast.js";
import { parseStepString, StepStringError } from "./step-string.js";

/** A variable's name: a letter or "_", then letters, digits or "_". */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Most distinct step instances the loop variables of one profile may produce. Validation parses and
 * checks each, on the daemon's main thread when a run starts: they are bounded like written steps
 * (MAX_PROFILE_NODES).
 */
export const MAX_TEMPLATE_INSTANCES = 5000;

/** Values of the loop variables in scope at one moment: name → value text. */
export type Bindings = ReadonlyMap<string, string>;

/** A placeholder that is not `{name}`, or a `{` or `}` without its pair. */
export class TemplateSyntaxError extends CellbenchError {
  constructor(message: string) {
    super("STEP_STRING_INVALID", message);
  }
}

/** True when a step string uses loop variables (holds a brace). */
export function isTemplate(text: string): boolean {
  return text.includes("{") || text.includes("}");
}

/** The variables a step string uses, in order of first use; throws TemplateSyntaxError for bad braces. */
export function variablesIn(text: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    const close = text.indexOf("}", i);
    if (open === -1 && close === -1) break;
    if (open === -1 || (close !== -1 && close < open)) {
      throw new TemplateSyntaxError(`"${text}": a "}" without its "{"; write a loop variable as {name}`);
    }
    const end = text.indexOf("}", open + 1);
    const next = text.indexOf("{", open + 1);
    if (end === -1 || (next !== -1 && next < end)) {
      throw new TemplateSyntaxError(`"${text}": a "{" without its "}"; write a loop variable as {name}`);
    }
    const name = text.slice(open + 1, end).trim();
    if (!VARIABLE_NAME.test(name)) {
      throw new TemplateSyntaxError(
        `"${text}": {${text.slice(open + 1, end)}} is not a loop variable; write {name} with the name of a counter or sweep value, e.g. {c}`,
      );
    }
    if (!names.includes(name)) names.push(name);
    i = end + 1;
  }
  return names;
}

/** Substitutes each `{name}` with its value; a name without one is left as written. */
export function substitute(text: string, bindings: Bindings): string {
  return text.replace(
    /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g,
    (whole, name: string) => bindings.get(name) ?? whole,
  );
}

/** How many iterations a loop runs. */
export function iterationsOf(loop: LoopNode): number {
  return loop.type === "repeat" ? loop.count : loop.chamberC.length;
}

/** The names a loop defines (its counter first, then its value lists). */
export function namesOf(loop: LoopNode): string[] {
  const v = loop.variables;
  if (!v) return [];
  return [...(v.counter !== undefined ? [v.counter] : []), ...Object.keys(v.values ?? {})];
}

/** The values a loop binds in its iteration `iteration` (0-based). */
export function bindingsOf(loop: LoopNode, iteration: number): [string, string][] {
  const v = loop.variables;
  if (!v) return [];
  const out: [string, string][] = [];
  if (v.counter !== undefined) out.push([v.counter, String(iteration + 1)]);
  for (const [name, values] of Object.entries(v.values ?? {})) out.push([name, values[iteration] ?? ""]);
  return out;
}

/** Renders bindings for paths and messages: `c = 2C, n = 3`. */
export function describeBindings(bindings: Bindings): string {
  return [...bindings].map(([name, value]) => `${name} = ${value}`).join(", ");
}

/** A template's path naming the iteration: `steps[2].steps[0] (c = 2C)`. */
export function instancePath(node: TemplateNode, bindings: Bindings): string {
  let names: string[];
  try {
    names = variablesIn(node.template);
  } catch {
    names = [];
  }
  const used = new Map([...bindings].filter(([name]) => names.includes(name)));
  return used.size > 0 ? `${node.path} (${describeBindings(used)})` : node.path;
}

/**
 * The step a template is in one iteration. Throws StepStringError when the substituted string does
 * not parse or asks for what only the document can give (a drive cycle file, a chamber temperature).
 */
export function instantiate(node: TemplateNode, bindings: Bindings): StepNode {
  const text = substitute(node.template, bindings).trim();
  const missing = variablesIn(node.template).filter((name) => !bindings.has(name));
  if (missing.length > 0) {
    throw new StepStringError(
      node.template,
      `${missing.map((m) => `{${m}}`).join(", ")} is not defined here; define it on an enclosing loop (counter: ${missing[0]} or sweep: { ${missing[0]}: [...] })`,
    );
  }
  const parsed = parseStepString(text);
  if (parsed.action.kind === "drive-cycle-file") {
    throw new StepStringError(
      text,
      "a drive-cycle step cannot use loop variables (its file is read when the profile is loaded); write the step out for each file",
    );
  }
  if (parsed.ambientC !== undefined) {
    throw new StepStringError(
      text,
      'a step that uses loop variables cannot set the chamber ("at 25oC"); sweep the temperature with sweep: { chamber: [...] }',
    );
  }
  const step: StepNode = {
    type: "step",
    path: node.path,
    text,
    action: parsed.action,
    termination: parsed.termination,
    limits: node.limits,
  };
  if (node.label !== undefined) step.label = node.label;
  if (node.log) step.log = node.log;
  if (parsed.periodS !== undefined) step.periodS = parsed.periodS;
  return step;
}

/** One distinct instance of a template: the iteration's bindings (only the variables it uses). */
export interface TemplateInstance {
  node: TemplateNode;
  bindings: Bindings;
}

/**
 * Calls `visit` once for each distinct instance of every template: each combination of the values
 * of the enclosing loops whose variables it uses (a loop whose variables it does not use gives the
 * same step every iteration). Templates using undefined variables are visited once with what is
 * defined. Stops after MAX_TEMPLATE_INSTANCES instances and returns false; true otherwise.
 */
export function forEachInstance(nodes: ProfileNode[], visit: (instance: TemplateInstance) => void): boolean {
  let budget = MAX_TEMPLATE_INSTANCES;
  const walk = (list: ProfileNode[], loops: LoopNode[]): boolean => {
    for (const node of list) {
      if (node.type === "repeat" || node.type === "sweep") {
        if (!walk(node.steps, [...loops, node])) return false;
        continue;
      }
      if (node.type !== "template") continue;
      let used: string[];
      try {
        used = variablesIn(node.template);
      } catch {
        used = [];
      }
      const relevant = loops.filter((l) => namesOf(l).some((n) => used.includes(n)));
      const combos = relevant.reduce((product, l) => product * Math.max(1, iterationsOf(l)), 1);
      if (combos > budget) return false;
      budget -= combos;
      const iteration = relevant.map(() => 0);
      for (let k = 0; k < combos; k++) {
        const bindings = new Map<string, string>();
        for (const [j, loop] of relevant.entries()) {
          for (const [name, value] of bindingsOf(loop, iteration[j] as number))
            if (used.includes(name)) bindings.set(name, value);
        }
        visit({ node, bindings });
        // Odometer: the innermost relevant loop turns fastest.
        for (let j = relevant.length - 1; j >= 0; j--) {
          const next = (iteration[j] as number) + 1;
          if (next < iterationsOf(relevant[j] as LoopNode)) {
            iteration[j] = next;
            break;
          }
          iteration[j] = 0;
        }
      }
    }
    return true;
  };
  return walk(nodes, []);
}
