/**
 * Profile documents (YAML or JSON, DESIGN §4) into the Profile tree of ast.ts. Every problem is
 * collected with its path (`steps[3].steps[1].limits[0].when`) and thrown as one ProfileError.
 *
 *   name: formation                     required
 *   description: ...                    optional
 *   safety: { voltage: [2.5, 4.2], current: [-3, 3], temperature: [0, 45] }   may only narrow the cell
 *   log: { every: 1 s, dV: 5 mV, dI: 10 mA }
 *   drive_cycles: { US06: drive-cycles/us06.csv }     names for PyBaMM's "Run US06 (A)"
 *   steps:
 *     - Rest for 10 minutes                                     a step string (step-string.ts)
 *     - { step: "Charge at 1C until 4.2 V", label: top, log: {...},
 *         limits: [{ when: "45 °C", then: abort }] }            then: next | abort | goto <label>
 *     - { chamber: 25 °C, soak: 2 h, tolerance: 0.5 °C }        soak defaults to 0 s, tolerance to 1 °C
 *     - { repeat: 3, steps: [...] }
 *     - { sweep: { chamber: [-20, 0, 25] }, soak: 2 h, tolerance: 1 °C, steps: [...] }
 *     - { sweep: { c: [0.1C, 0.5C, 1C] }, steps: ["Discharge at {c} until 2.5 V"] }
 *     - { repeat: 500, counter: n, cycle: true, until: "capacity < 80 % of cycle 1", steps: [...] }
 *
 * Loops may name a 1-based `counter` and (sweeps) lists of values, alongside a `chamber` list or
 * instead of it (then the sweep is a repeat over the values, with no chamber); their names are
 * usable as `{name}` in the step strings of the body (loop-variables.ts). `cycle: true` marks the
 * loops whose iterations are the run's cycles. A repeat's `until` ends it on capacity retention.
 *
 * Quantities are strings with units ("2 h", "5 mV") or numbers in SI (seconds, V, A, °C).
 * A strict document (a JSON request body) keeps its JSON types: no "25" for 25, no 3 for label "3".
 * PyBaMM's per-step temperature ("Rest for 1 hour at 25oC") becomes a chamber step (soak 0 s,
 * tolerance 1 °C) placed before the step, with path `<step path>.ambient`; the chamber then stays
 * at that temperature until the next chamber step (PyBaMM would return to its global temperature).
 */
import { isAbsolute, resolve } from "node:path";
import type {
  Action,
  ChamberNode,
  Condition,
  LimitAction,
  LogCriteria,
  Profile,
  ProfileNode,
  RepeatNode,
  SafetyLimits,
  StepLimit,
  StepNode,
  SweepNode,
  TemplateNode,
} from "./ast.js";
import { DriveCycleCsvError, loopTrace, parseDriveCycleCsv } from "./drive-cycle-csv.js";
import { isTemplate, TemplateSyntaxError, VARIABLE_NAME, variablesIn } from "./loop-variables.js";
import { ProfileError, type ProfileIssue } from "./profile-error.js";
import {
  type DriveCycleReference,
  parseCondition,
  parseLoopUntil,
  parseStepString,
  StepStringError,
} from "./step-string.js";
import { checkLog, checkStructure, formatSeconds } from "./structure.js";
import { didYouMean, listOr } from "./suggest.js";
import { readTextFile } from "./text-file.js";
import { describeValue, parseQuantity, type QuantityKind, QuantityTypeError } from "./units.js";
import { parseYamlText } from "./yaml-text.js";

export interface ParseProfileOptions {
  /** Names the document in errors (a file path, "request body", ...). */
  sourceName: string;
  /** Folder that drive-cycle files are relative to; defaults to the working directory. */
  baseDir?: string;
  /** Reads a drive-cycle file (absolute path) as UTF-8 text; defaults to the file system. Tests inject one. */
  readFile?: (path: string) => string;
  /**
   * Take JSON types as sent (set for objects from JSON request bodies): a quantity is a number or
   * a string with its unit, never a number in quotes; a label and a limit's action are strings.
   * Off for YAML text, where `chamber: "25"` and `label: 3` are how authors happen to write them.
   */
  strict?: boolean;
}

/**
 * A strict document holds values of the wrong JSON type. Carries only those issues (the sender's
 * bug, answered by the API as a malformed request) even when the profile has others too.
 */
export class ProfileTypeError extends ProfileError {}

/**
 * Most drive-cycle points one profile may hold, all steps together, after looping each for its
 * "for" duration. A run carries them from the parser to the engine and its record: this keeps that
 * well under a millisecond of copying. Longer tests loop with `repeat:`, which costs nothing.
 */
export const MAX_DRIVE_CYCLE_POINTS = 50_000;

const TOP_KEYS = ["name", "description", "safety", "log", "drive_cycles", "steps"];
const KIND_KEYS = ["step", "chamber", "repeat", "sweep"] as const;
const KEYS_OF: Record<(typeof KIND_KEYS)[number], string[]> = {
  step: ["step", "label", "limits", "log"],
  chamber: ["chamber", "soak", "tolerance", "label"],
  repeat: ["repeat", "steps", "label", "counter", "cycle", "until"],
  sweep: ["sweep", "soak", "tolerance", "steps", "label", "counter", "cycle", "until"],
};
const KIND_NAMES: Record<(typeof KIND_KEYS)[number], string> = {
  step: "a step",
  chamber: "a chamber step",
  repeat: "a repeat",
  sweep: "a sweep",
};
const DEFAULT_TOLERANCE_C = 1;
const LABEL_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Parses a profile document: YAML/JSON text, or a value already parsed from JSON (an API body).
 * Throws ProfileError (code PROFILE_INVALID) listing every problem found.
 */
export function parseProfile(source: string | unknown, options: ParseProfileOptions): Profile {
  return new DocumentReader(options).read(source);
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

class DocumentReader {
  private readonly issues: ProfileIssue[] = [];
  private readonly typeIssues: ProfileIssue[] = [];
  private driveCycleNames = new Map<string, string>();
  private readonly fileCache = new Map<string, string>();
  private driveCyclePoints = 0;

  constructor(private readonly options: ParseProfileOptions) {}

  private get strict(): boolean {
    return this.options.strict === true;
  }

  read(source: string | unknown): Profile {
    const doc = typeof source === "string" ? this.parseText(source) : source;
    if (doc === undefined) throw this.error();
    if (!isObject(doc)) {
      this.issue("", `a profile is a mapping with name and steps, got ${describeValue(doc)}`);
      throw this.error();
    }
    this.unknownKeys(doc, TOP_KEYS, "", "a profile");

    const name = typeof doc.name === "string" ? doc.name.trim() : "";
    if (name === "") {
      this.issue(
        "name",
        doc.name === undefined ? "missing; give the profile a name" : "must be a non-empty string",
      );
    }
    const profile: Profile = { name, steps: [] };
    if (doc.description !== undefined) {
      if (typeof doc.description === "string") profile.description = doc.description;
      else this.issue("description", `must be a string, got ${describeValue(doc.description)}`);
    }
    if (doc.safety !== undefined) {
      const safety = this.safety(doc.safety);
      if (safety) profile.safety = safety;
    }
    if (doc.log !== undefined) {
      const log = this.log(doc.log, "log");
      if (log) profile.log = log;
    }
    if (doc.drive_cycles !== undefined) this.driveCycleMap(doc.drive_cycles);
    if (doc.steps === undefined) {
      this.issue("steps", "missing; list the steps, e.g. steps: [Rest for 10 minutes]");
    } else {
      profile.steps = this.nodeList(doc.steps, "steps");
    }
    if (this.typeIssues.length > 0) throw new ProfileTypeError(this.typeIssues, this.options.sourceName);
    if (this.issues.length === 0) this.issues.push(...checkStructure(profile.steps));
    if (this.issues.length > 0) throw this.error();
    return profile;
  }

  private error(): ProfileError {
    return new ProfileError(this.issues, this.options.sourceName);
  }

  private issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** A value of the wrong JSON type: a ProfileTypeError when strict, otherwise one more issue. */
  private typeIssue(path: string, message: string): void {
    (this.strict ? this.typeIssues : this.issues).push({ path, message });
  }

  private parseText(text: string): unknown {
    const parsed = parseYamlText(text);
    if (parsed.ok) return parsed.value;
    for (const e of parsed.errors) this.issue("", `${this.options.sourceName}: not valid YAML/JSON: ${e}`);
    return undefined;
  }

  private unknownKeys(obj: Json, allowed: readonly string[], path: string, what: string): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      this.issue(
        join(path, key),
        `unknown key "${key}"${didYouMean(key, allowed)}; ${what} takes ${listOr(allowed)}`,
      );
    }
  }

  private quantity(value: unknown, kind: QuantityKind, path: string): number | undefined {
    try {
      return parseQuantity(value, kind, { strict: this.strict });
    } catch (e) {
      if (e instanceof QuantityTypeError) this.typeIssue(path, e.message);
      else this.issue(path, (e as Error).message);
      return undefined;
    }
  }

  private range(value: unknown, kind: QuantityKind, path: string): [number, number] | undefined {
    if (!Array.isArray(value) || value.length !== 2) {
      this.issue(path, `expected [min, max], got ${describeValue(value)}`);
      return undefined;
    }
    const lo = this.quantity(value[0], kind, `${path}[0]`);
    const hi = this.quantity(value[1], kind, `${path}[1]`);
    if (lo === undefined || hi === undefined) return undefined;
    if (!(lo < hi)) {
      this.issue(path, `[${value[0]}, ${value[1]}]: min must be less than max`);
      return undefined;
    }
    return [lo, hi];
  }

  private safety(value: unknown): SafetyLimits | undefined {
    if (!isObject(value)) {
      this.issue(
        "safety",
        `expected { voltage: [min, max], current: [min, max], temperature: [min, max] }, got ${describeValue(value)}`,
      );
      return undefined;
    }
    this.unknownKeys(value, ["voltage", "current", "temperature"], "safety", "safety");
    const safety: SafetyLimits = {};
    if (value.voltage !== undefined) {
      const r = this.range(value.voltage, "voltage", "safety.voltage");
      if (r) safety.voltageV = r;
    }
    if (value.current !== undefined) {
      const r = this.range(value.current, "current", "safety.current");
      if (r) safety.currentA = r;
    }
    if (value.temperature !== undefined) {
      const r = this.range(value.temperature, "temperature", "safety.temperature");
      if (r) safety.temperatureC = r;
    }
    return safety;
  }

  private log(value: unknown, path: string): LogCriteria | undefined {
    if (!isObject(value)) {
      this.issue(path, `expected { every: 1 s, dV: 5 mV, dI: 10 mA }, got ${describeValue(value)}`);
      return undefined;
    }
    this.unknownKeys(value, ["every", "dV", "dI"], path, "log");
    const log: LogCriteria = {};
    if (value.every !== undefined) {
      const v = this.quantity(value.every, "duration", `${path}.every`);
      if (v !== undefined) log.everyS = v;
    }
    if (value.dV !== undefined) {
      const v = this.quantity(value.dV, "voltage", `${path}.dV`);
      if (v !== undefined) log.dV = v;
    }
    if (value.dI !== undefined) {
      const v = this.quantity(value.dI, "current", `${path}.dI`);
      if (v !== undefined) log.dI = v;
    }
    if (Object.keys(value).length === 0) this.issue(path, "give at least one of every, dV or dI");
    checkLog(path, log, this.issues);
    return log;
  }

  private driveCycleMap(value: unknown): void {
    if (!isObject(value)) {
      this.issue("drive_cycles", `expected { NAME: file.csv }, got ${describeValue(value)}`);
      return;
    }
    for (const [name, file] of Object.entries(value)) {
      if (typeof file !== "string" || file.trim() === "") {
        this.issue(`drive_cycles.${name}`, `expected a CSV file path, got ${describeValue(file)}`);
      } else {
        this.driveCycleNames.set(name, file);
      }
    }
  }

  private nodeList(value: unknown, path: string): ProfileNode[] {
    if (!Array.isArray(value)) {
      this.issue(path, `expected a list of steps, got ${describeValue(value)}`);
      return [];
    }
    if (value.length === 0) this.issue(path, "is empty; list at least one step");
    return value.flatMap((item, i) => this.node(item, `${path}[${i}]`));
  }

  private node(item: unknown, path: string): ProfileNode[] {
    if (typeof item === "string") return this.stepString(item, path, path, {});
    if (item === null || item === undefined) {
      this.issue(path, 'empty step; write a step string such as "Rest for 10 minutes" or an object');
      return [];
    }
    if (!isObject(item)) {
      this.issue(
        path,
        `expected a step string or an object with step, chamber, repeat or sweep, got ${describeValue(item)}`,
      );
      return [];
    }
    const kinds = KIND_KEYS.filter((k) => k in item);
    if (kinds.length !== 1) {
      this.issue(
        path,
        kinds.length === 0
          ? `an object step needs one of step, chamber, repeat or sweep; found ${Object.keys(item).join(", ") || "no keys"}`
          : `give one of step, chamber, repeat or sweep, not ${kinds.map((k) => `"${k}"`).join(" and ")}`,
      );
      return [];
    }
    const kind = kinds[0] as (typeof KIND_KEYS)[number];
    this.unknownKeys(item, KEYS_OF[kind], path, KIND_NAMES[kind]);
    const label = this.label(item.label, path);
    switch (kind) {
      case "step":
        return this.objectStep(item, path, label);
      case "chamber":
        return this.chamber(item, path, label);
      case "repeat":
        return this.repeat(item, path, label);
      case "sweep":
        return this.sweep(item, path, label);
    }
  }

  private label(value: unknown, path: string): string | undefined {
    if (value === undefined) return undefined;
    if (this.strict && typeof value !== "string") {
      const asText = String(value);
      this.typeIssue(
        `${path}.label`,
        typeof value === "number" && LABEL_PATTERN.test(asText)
          ? `must be a string such as "${asText}"; put the label in quotes`
          : `must be a string such as "top" (it is used as "goto <label>"), got ${describeValue(value)}`,
      );
      return undefined;
    }
    const text = typeof value === "number" ? String(value) : value;
    if (typeof text !== "string" || !LABEL_PATTERN.test(text)) {
      this.issue(
        `${path}.label`,
        `label must be one word of letters, digits, ".", "-" or "_" (it is used as "goto <label>"), got ${describeValue(value)}`,
      );
      return undefined;
    }
    return text;
  }

  private objectStep(item: Json, path: string, label: string | undefined): ProfileNode[] {
    if (typeof item.step !== "string") {
      this.issue(
        `${path}.step`,
        `expected a step string such as "Charge at 1C until 4.2 V", got ${describeValue(item.step)}`,
      );
      return [];
    }
    const extras: { label?: string; limits?: StepLimit[]; log?: LogCriteria } = {};
    if (label !== undefined) extras.label = label;
    if (item.limits !== undefined) extras.limits = this.limits(item.limits, `${path}.limits`);
    if (item.log !== undefined) {
      const log = this.log(item.log, `${path}.log`);
      if (log) extras.log = log;
    }
    return this.stepString(item.step, path, `${path}.step`, extras);
  }

  private limits(value: unknown, path: string): StepLimit[] {
    if (!Array.isArray(value)) {
      this.issue(
        path,
        `expected a list such as [{ when: "4.25 V", then: abort }], got ${describeValue(value)}`,
      );
      return [];
    }
    const limits: StepLimit[] = [];
    for (const [k, entry] of value.entries()) {
      const at = `${path}[${k}]`;
      if (!isObject(entry)) {
        this.issue(
          at,
          `expected { when: <condition>, then: next | abort | goto <label> }, got ${describeValue(entry)}`,
        );
        continue;
      }
      this.unknownKeys(entry, ["when", "then"], at, "a limit");
      let when: StepLimit["when"] | undefined;
      if (typeof entry.when !== "string") {
        this.issue(
          `${at}.when`,
          `expected a condition such as "4.25 V", "> 45 °C" or "C/50", got ${describeValue(entry.when)}`,
        );
      } else if (isTemplate(entry.when)) {
        this.issue(
          `${at}.when`,
          `"${entry.when}": loop variables may be used in the step string only; give the limit as a value`,
        );
      } else {
        try {
          when = parseCondition(entry.when);
        } catch (e) {
          if (!(e instanceof StepStringError)) throw e;
          this.issue(`${at}.when`, e.message);
        }
      }
      const then = this.limitAction(entry.then, `${at}.then`);
      if (when && then) limits.push({ when, then });
    }
    return limits;
  }

  private limitAction(value: unknown, path: string): LimitAction | undefined {
    const text = typeof value === "string" ? value.trim() : undefined;
    if (text === "next") return { kind: "next" };
    if (text === "abort") return { kind: "abort" };
    const goto = text === undefined ? null : /^goto\s+(\S+)$/.exec(text);
    if (goto) return { kind: "goto", label: goto[1] as string };
    const problem = `expected next, abort or "goto <label>", got ${describeValue(value)}`;
    if (typeof value === "string") this.issue(path, problem);
    else this.typeIssue(path, problem);
    return undefined;
  }

  private stepString(
    text: string,
    path: string,
    textPath: string,
    extras: { label?: string; limits?: StepLimit[]; log?: LogCriteria },
  ): ProfileNode[] {
    const trimmed = text.trim();
    if (isTemplate(trimmed)) return this.templateStep(trimmed, path, textPath, extras);
    let parsed: ReturnType<typeof parseStepString>;
    try {
      parsed = parseStepString(trimmed);
    } catch (e) {
      if (!(e instanceof StepStringError)) throw e;
      this.issue(textPath, e.message);
      return [];
    }
    const action: Action | undefined =
      parsed.action.kind === "drive-cycle-file"
        ? this.driveCycle(parsed.action, parsed.termination.durationS, trimmed, textPath)
        : parsed.action;
    if (!action) return [];
    const step: StepNode = {
      type: "step",
      path,
      text: trimmed,
      action,
      termination: parsed.termination,
      limits: extras.limits ?? [],
    };
    if (extras.log) step.log = extras.log;
    if (parsed.periodS !== undefined) step.periodS = parsed.periodS;
    if (parsed.ambientC === undefined) {
      if (extras.label !== undefined) step.label = extras.label;
      return [step];
    }
    // PyBaMM's "at 25oC": set the chamber first; a goto to the label re-establishes the temperature.
    const chamber: ChamberNode = {
      type: "chamber",
      path: `${path}.ambient`,
      text: `chamber ${parsed.ambientC} °C (from "${trimmed}")`,
      setpointC: parsed.ambientC,
      soakS: 0,
      toleranceC: DEFAULT_TOLERANCE_C,
    };
    if (extras.label !== undefined) chamber.label = extras.label;
    return [chamber, step];
  }

  /** A step string with loop variables: checked per iteration by checkStructure, run per iteration by the cursor. */
  private templateStep(
    text: string,
    path: string,
    textPath: string,
    extras: { label?: string; limits?: StepLimit[]; log?: LogCriteria },
  ): ProfileNode[] {
    try {
      variablesIn(text);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      this.issue(textPath, e.message);
      return [];
    }
    const node: TemplateNode = { type: "template", path, text, template: text, limits: extras.limits ?? [] };
    if (extras.label !== undefined) node.label = extras.label;
    if (extras.log) node.log = extras.log;
    return [node];
  }

  private driveCycle(
    ref: DriveCycleReference,
    durationS: number | undefined,
    text: string,
    path: string,
  ): Action | undefined {
    let file = ref.file;
    if (ref.byName) {
      const named = this.driveCycleNames.get(ref.file);
      if (named !== undefined) {
        file = named;
      } else if (!/[./\\]/.test(ref.file)) {
        this.issue(
          path,
          `"${text}": no drive cycle named "${ref.file}"; add drive_cycles: { ${ref.file}: <file.csv> } to the profile or write "Discharge following <file.csv>"`,
        );
        return undefined;
      }
    }
    const absolute = isAbsolute(file) ? file : resolve(this.options.baseDir ?? process.cwd(), file);
    let content = this.fileCache.get(absolute);
    if (content === undefined) {
      try {
        content = (this.options.readFile ?? ((p: string) => readTextFile(p)))(absolute);
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        this.issue(
          path,
          `"${text}": cannot read drive cycle ${absolute} (${reason}); paths are relative to the profile's folder`,
        );
        return undefined;
      }
      this.fileCache.set(absolute, content);
    }
    try {
      const trace = parseDriveCycleCsv(content);
      if (ref.unit !== undefined && ref.unit !== trace.unit) {
        this.issue(
          path,
          `"${text}": ${file} holds ${trace.unit === "W" ? "power (W)" : "current (A)"} but the step says (${ref.unit}); make them agree`,
        );
        return undefined;
      }
      const budget = MAX_DRIVE_CYCLE_POINTS - this.driveCyclePoints;
      if (trace.points.length > budget)
        throw new DriveCycleCsvError(
          `has ${trace.points.length} points, more than the ${budget} left of the ${MAX_DRIVE_CYCLE_POINTS} a profile may hold in all its drive cycles; use a shorter trace`,
        );
      const points = durationS === undefined ? trace.points : loopTrace(trace.points, durationS, budget);
      this.driveCyclePoints += points.length;
      return { kind: "drive-cycle", direction: ref.direction, file, unit: trace.unit, points };
    } catch (e) {
      if (!(e instanceof DriveCycleCsvError)) throw e;
      this.issue(path, `"${text}": ${file} ${e.message}`);
      return undefined;
    }
  }

  private soakAndTolerance(item: Json, path: string): { soakS: number; toleranceC: number } {
    const soakS = item.soak === undefined ? 0 : this.quantity(item.soak, "duration", `${path}.soak`);
    const toleranceC =
      item.tolerance === undefined
        ? DEFAULT_TOLERANCE_C
        : this.quantity(item.tolerance, "temperature", `${path}.tolerance`);
    return { soakS: soakS ?? 0, toleranceC: toleranceC ?? DEFAULT_TOLERANCE_C };
  }

  private chamber(item: Json, path: string, label: string | undefined): ProfileNode[] {
    const setpointC = this.quantity(item.chamber, "temperature", `${path}.chamber`);
    const { soakS, toleranceC } = this.soakAndTolerance(item, path);
    if (setpointC === undefined) return [];
    const node: ChamberNode = {
      type: "chamber",
      path,
      text: `chamber ${setpointC} °C, soak ${formatSeconds(soakS)}, tolerance ${toleranceC} °C`,
      setpointC,
      soakS,
      toleranceC,
    };
    if (label !== undefined) node.label = label;
    return [node];
  }

  private repeat(item: Json, path: string, label: string | undefined): ProfileNode[] {
    const count = item.repeat;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
      this.issue(`${path}.repeat`, `repeat count must be a positive integer, got ${describeValue(count)}`);
    }
    if (item.steps === undefined) this.issue(`${path}.steps`, "missing; a repeat needs steps: [...]");
    const steps = item.steps === undefined ? [] : this.nodeList(item.steps, `${path}.steps`);
    const node: RepeatNode = {
      type: "repeat",
      path,
      text: `repeat ${String(count)} times`,
      count: typeof count === "number" ? count : 0,
      steps,
    };
    if (label !== undefined) node.label = label;
    this.loopOptions(item, path, node);
    if (item.until !== undefined) {
      const until = this.loopUntil(item.until, `${path}.until`);
      if (until.length > 0) node.until = until;
    }
    return [node];
  }

  /** `counter:` and `cycle:`, shared by repeats and sweeps. */
  private loopOptions(item: Json, path: string, node: RepeatNode | SweepNode): void {
    if (item.counter !== undefined) {
      if (typeof item.counter !== "string") {
        this.typeIssue(
          `${path}.counter`,
          `expected the counter's name, such as "n", got ${describeValue(item.counter)}`,
        );
      } else if (this.variableName(item.counter, `${path}.counter`)) {
        node.variables = { ...node.variables, counter: item.counter };
      }
    }
    if (item.cycle !== undefined) {
      if (typeof item.cycle !== "boolean") {
        this.typeIssue(
          `${path}.cycle`,
          `expected true or false (true: each iteration of this loop is a cycle), got ${describeValue(item.cycle)}`,
        );
      } else if (item.cycle) {
        node.cycle = true;
      }
    }
  }

  private variableName(name: string, path: string): boolean {
    if (!VARIABLE_NAME.test(name)) {
      this.issue(
        path,
        `"${name}" is not a variable name; use a letter or "_" followed by letters, digits or "_", e.g. n`,
      );
      return false;
    }
    return true;
  }

  private loopUntil(value: unknown, path: string): Condition[] {
    const texts = Array.isArray(value) ? value : [value];
    const out: Condition[] = [];
    for (const [k, text] of texts.entries()) {
      const at = Array.isArray(value) ? `${path}[${k}]` : path;
      if (typeof text !== "string") {
        this.typeIssue(
          at,
          `expected a retention such as "capacity < 80 % of cycle 1", got ${describeValue(text)}`,
        );
        continue;
      }
      try {
        out.push(parseLoopUntil(text));
      } catch (e) {
        if (!(e instanceof StepStringError)) throw e;
        this.issue(at, e.message);
      }
    }
    if (Array.isArray(value) && value.length === 0)
      this.issue(path, 'is empty; give a retention such as "capacity < 80 % of cycle 1" or drop until');
    return out;
  }

  private sweep(item: Json, path: string, label: string | undefined): ProfileNode[] {
    const chamberC: number[] = [];
    const values: Record<string, string[]> = {};
    const spec = item.sweep;
    if (item.until !== undefined) {
      this.issue(
        `${path}.until`,
        "until ends repeat loops only; put the sweep inside a repeat with until:, or make the sweep a repeat with counter:",
      );
    }
    if (!isObject(spec)) {
      this.issue(
        `${path}.sweep`,
        `expected { chamber: [temperatures] } or lists of values such as { c: [0.5C, 1C] }, got ${describeValue(spec)}`,
      );
    } else if (Object.keys(spec).length === 0) {
      this.issue(
        `${path}.sweep`,
        "is empty; give chamber: [temperatures] or lists of values such as c: [0.5C, 1C]",
      );
    } else {
      for (const [name, list] of Object.entries(spec)) {
        if (name === "chamber") continue;
        if (!this.variableName(name, `${path}.sweep.${name}`)) continue;
        const texts = this.sweepValues(list, `${path}.sweep.${name}`);
        if (texts) values[name] = texts;
      }
    }
    if (isObject(spec) && spec.chamber === undefined) {
      // Values only: a repeat over them, no chamber phase.
      if (item.soak !== undefined || item.tolerance !== undefined) {
        this.issue(
          `${path}.${item.soak !== undefined ? "soak" : "tolerance"}`,
          "soak and tolerance belong to a chamber sweep; add chamber: [temperatures] to sweep, or drop them",
        );
      }
      const lengths = Object.values(values).map((v) => v.length);
      if (item.steps === undefined) this.issue(`${path}.steps`, "missing; a sweep needs steps: [...]");
      const steps = item.steps === undefined ? [] : this.nodeList(item.steps, `${path}.steps`);
      const node: RepeatNode = {
        type: "repeat",
        path,
        text: `sweep ${Object.entries(values)
          .map(([name, v]) => `${name} = ${v.join(", ")}`)
          .join("; ")}`,
        count: lengths[0] ?? 0,
        steps,
        variables: { values },
      };
      if (label !== undefined) node.label = label;
      this.loopOptions(item, path, node);
      return Object.keys(values).length > 0 ? [node] : [];
    }
    if (isObject(spec)) {
      if (!Array.isArray(spec.chamber) || spec.chamber.length === 0) {
        this.issue(
          `${path}.sweep.chamber`,
          `expected a list of temperatures such as [0, 25, 45], got ${describeValue(spec.chamber)}`,
        );
      } else {
        for (const [k, t] of spec.chamber.entries()) {
          const c = this.quantity(t, "temperature", `${path}.sweep.chamber[${k}]`);
          if (c !== undefined) chamberC.push(c);
        }
      }
    }
    const { soakS, toleranceC } = this.soakAndTolerance(item, path);
    if (item.steps === undefined) this.issue(`${path}.steps`, "missing; a sweep needs steps: [...]");
    const steps = item.steps === undefined ? [] : this.nodeList(item.steps, `${path}.steps`);
    const swept = Object.entries(values).map(([name, v]) => `; ${name} = ${v.join(", ")}`);
    const node: SweepNode = {
      type: "sweep",
      path,
      text: `sweep chamber ${chamberC.join(", ")} °C, soak ${formatSeconds(soakS)}, tolerance ${toleranceC} °C${swept.join("")}`,
      chamberC,
      soakS,
      toleranceC,
      steps,
    };
    if (Object.keys(values).length > 0) node.variables = { values };
    if (label !== undefined) node.label = label;
    this.loopOptions(item, path, node);
    return [node];
  }

  /** A sweep's list of values for `{name}`: numbers or strings, kept as text. */
  private sweepValues(list: unknown, path: string): string[] | undefined {
    if (!Array.isArray(list) || list.length === 0) {
      this.issue(path, `expected a list of values such as [0.5C, 1C, 2C], got ${describeValue(list)}`);
      return undefined;
    }
    const texts: string[] = [];
    for (const [k, v] of list.entries()) {
      const at = `${path}[${k}]`;
      if (typeof v === "number" && Number.isFinite(v)) texts.push(String(v));
      else if (typeof v === "string" && v.trim() !== "" && !isTemplate(v)) texts.push(v.trim());
      else if (typeof v === "string")
        this.issue(
          at,
          `"${v}" is not a value; give a number or a quantity such as "1C" or "2 A" (no braces)`,
        );
      else this.typeIssue(at, `expected a number or a quantity such as "1C", got ${describeValue(v)}`);
    }
    return texts.length === list.length ? texts : undefined;
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
