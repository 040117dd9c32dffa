/**
 * Parser of step strings (DESIGN §4), a superset of PyBaMM's Experiment strings:
 *
 *   (Charge|Discharge) at VALUE [for DUR] [[or] until COND {or COND}] [at TEMP] [(DUR period)]
 *   (Charge|Discharge) at VALUE to VOLTS[,] hold until COND {or COND}            CC-CV, one step
 *   (Charge|Discharge) at VALUE until VOLTS then hold [at VOLTS] until COND      CC-CV (PyBaMM "then")
 *   Hold at VOLTS [at most CURRENT] (for DUR | until COND {or COND})            CV, own current limit
 *   Rest (for DUR | until COND {or COND})
 *   (Charge|Discharge) following FILE [for DUR] [until ...]                    drive cycle from a CSV
 *   Run NAME [(A)|(W)] [for DUR]                                               PyBaMM drive cycle = discharge following
 *   (Charge|Discharge) at VALUE to VALUE over DUR [until COND {or COND}]        ramp (current, C-rate or power)
 *   Ramp voltage from VOLTS to VOLTS over DUR [at most CURRENT] [until ...]     CV ramp
 *
 * CURRENT is a current or C-rate ("1 A", "0.5C", "C/2"); a ramp's first VALUE may be 0, and it
 * lasts exactly its "over" duration unless a condition ends it first. Conditions include the
 * cell's SOC estimate: "until 80% SOC", "until < 20 % SOC" (0-100 %, direction-resolved like
 * voltage). "capacity < 80 % of cycle 1" ends a repeat loop (its `until:`), parsed by
 * parseLoopUntil. Step strings in loops may use loop variables ("Discharge at {c} until 2.5 V"):
 * the document substitutes their values before parsing (loop-variables.ts). None of these forms
 * uses words PyBaMM gives another meaning: "over", "most", "Ramp", "%" and "SOC" appear in none
 * of its Experiment strings, and "to" followed by a voltage stays a CC-CV.
 *
 * Keywords are case-insensitive and spaces between a number and its unit are optional, as in
 * PyBaMM. PyBaMM's per-step temperature ("at 25oC") and tags ("[tag1,tag2]") are accepted: the
 * temperature is returned as `ambientC` (the document parser turns it into a chamber set point),
 * tags are returned and otherwise ignored.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import type { Action, Comparison, Condition, Direction, DriveValue, Termination } from "./ast.js";
import { describeToken, StepLexer, type Token } from "./step-lexer.js";
import {
  CELSIUS_UNITS,
  CHARGE_UNITS,
  CURRENT_UNITS,
  ENERGY_UNITS,
  POWER_UNITS,
  RESISTANCE_UNITS,
  readUnit,
  TIME_UNIT_HINT,
  timeFactor,
  VOLTAGE_UNITS,
} from "./units.js";

/** A drive cycle named by a step string; the document parser loads the file into an Action. */
export interface DriveCycleReference {
  kind: "drive-cycle-file";
  direction: Direction;
  /** The file as written after "following", or the name after "Run". */
  file: string;
  /** True for PyBaMM's "Run NAME": NAME is looked up in the profile's `drive_cycles` first. */
  byName: boolean;
  /** Unit forced by "Run NAME (A)" / "(W)"; otherwise the CSV header decides. */
  unit?: "A" | "W";
}

export interface ParsedStepString {
  action: Exclude<Action, { kind: "drive-cycle" }> | DriveCycleReference;
  termination: Termination;
  periodS?: number;
  /** PyBaMM's per-step ambient temperature ("at 25oC"), °C. */
  ambientC?: number;
  tags: string[];
}

/** A step string that does not parse. `detail` says what was expected at which word. */
export class StepStringError extends CellbenchError {
  constructor(
    readonly text: string,
    readonly detail: string,
  ) {
    super("STEP_STRING_INVALID", `"${text}": ${detail}`);
  }
}

export const VALUE_UNIT_HINT = "use A, mA, W, mW, Ohm, C or C/n";
export const CONDITION_UNIT_HINT = "use V, mV, A, mA, C/n, Ah, mAh, Wh, °C, % SOC or dV/dt < n mV/s";
const INSTRUCTIONS = "Charge, Discharge, Rest, Hold, Ramp or Run";
const RAMP_HINT =
  '"Ramp" moves a voltage: "Ramp voltage from 3.6 V to 4.1 V over 10 minutes"; a current, C-rate or power ramps in a Charge or Discharge step: "Charge at 0.1C to 1C over 10 minutes"';
const RETENTION_EXAMPLE = '"capacity < 80 % of cycle 1"';

/** Parses one step string; throws StepStringError naming the offending word. */
export function parseStepString(text: string): ParsedStepString {
  return new StepStringParser(text).parseStep();
}

/**
 * Parses a condition such as "4.2 V", "< 2.5 V", "C/20", "60 °C" or "dV/dt < -0.5 mV/s" (limits'
 * `when`). A dV/dt threshold without a sign bounds the slope's magnitude; with one, the slope itself.
 */
export function parseCondition(text: string): Condition {
  const parser = new StepStringParser(text);
  const condition = parser.parseCondition("the condition");
  parser.expectEnd("after the condition");
  return condition;
}

/**
 * Parses a repeat loop's `until:`, the capacity retention that ends a cycle-life loop:
 * "capacity < 80 % of cycle 1" (also "80%", "≤", ">").
 */
export function parseLoopUntil(text: string): Condition {
  const parser = new StepStringParser(text);
  const condition = parser.parseRetention();
  parser.expectEnd(`after the retention; write e.g. ${RETENTION_EXAMPLE}`);
  return condition;
}

/** Parses a duration such as "10 minutes" or "1.5 h" into seconds. */
export function parseDuration(text: string): number {
  const parser = new StepStringParser(text);
  const seconds = parser.parseDuration("the start");
  parser.expectEnd("after the duration");
  return seconds;
}

class StepStringParser {
  private readonly lex: StepLexer;
  private durationS: number | undefined;
  private readonly conditions: Condition[] = [];

  constructor(private readonly text: string) {
    this.lex = new StepLexer(text);
  }

  fail(detail: string): never {
    throw new StepStringError(this.text, detail);
  }

  parseStep(): ParsedStepString {
    const first = this.lex.next();
    if (first.kind === "end") this.fail('empty step; write e.g. "Rest for 10 minutes"');
    if (first.kind !== "word") this.fail(`expected an instruction (${INSTRUCTIONS}) at "${first.text}"`);
    const instruction = first.text.toLowerCase();
    let action: ParsedStepString["action"];
    switch (instruction) {
      case "charge":
      case "discharge":
        action = this.parseDrive(instruction, first.text);
        break;
      case "rest":
        action = { kind: "rest" };
        this.parseTermination();
        break;
      case "hold": {
        if (this.lex.isWord("until")) {
          this.fail(
            '"Hold" needs "at <voltage>"; if this is the second half of a CC-CV step, a YAML [flow list] split it at its comma: quote the step or give it its own "- " line',
          );
        }
        this.expectWord("at", `after "${first.text}"`);
        const hold: Extract<Action, { kind: "hold" }> = { kind: "hold", volts: this.parseVolts("Hold") };
        const limit = this.parseAtMost();
        if (limit) hold.currentLimit = limit;
        this.parseTermination();
        action = hold;
        break;
      }
      case "ramp":
        action = this.parseVoltageRamp(first.text);
        break;
      case "run":
        action = this.parseRun();
        break;
      default:
        this.fail(`unknown instruction "${first.text}"; start with ${INSTRUCTIONS}`);
    }
    const result: ParsedStepString = {
      action,
      termination: { conditions: this.conditions },
      tags: [],
    };
    if (this.durationS !== undefined) result.termination.durationS = this.durationS;
    this.parseSuffixes(result);
    return result;
  }

  private parseDrive(direction: Direction, written: string): ParsedStepString["action"] {
    if (this.lex.acceptWord("following")) {
      const file = this.lex.rawChunk();
      if (!file) this.fail(`expected a file after "${written} following", e.g. "drive-cycles/udds.csv"`);
      this.parseTermination();
      return { kind: "drive-cycle-file", direction, file: file.text, byName: false };
    }
    this.expectWord("at", `after "${written}"`, '"at" or "following"');
    const valueStart = this.lex.peek();
    const value = this.parseDriveValue(true);
    const valueText = this.text.slice(valueStart.start, this.lex.peek().start).trim();
    if (value.kind === "resistance" && direction === "charge") {
      this.fail(`a resistance (${valueText}) can only discharge; write "Discharge at ${valueText}"`);
    }
    if (this.lex.isWord("to") && this.isRampEndAhead(1)) {
      this.lex.next();
      return this.parseRamp(direction, value, valueText);
    }
    if (magnitudeOf(value) === 0) {
      this.fail(`${valueText} must be greater than 0; Charge/Discharge gives the direction`);
    }
    if (this.lex.acceptWord("to")) {
      // CC-CV as one step: "Charge at C/3 to 4.2 V, hold until C/20".
      this.requireCurrent(value, valueText);
      const targetStart = this.lex.peek().start;
      const holdVolts = this.parseVolts("CC-CV");
      const targetText = this.text.slice(targetStart, this.lex.peek().start).trim();
      this.lex.acceptSymbol(",");
      this.expectWord("hold", `after "to ${targetText}"`, '", hold until"');
      this.lex.acceptWord("at");
      if (this.lex.peek().kind === "number") this.parseHoldVoltsAgain(holdVolts);
      if (!this.lex.isWord("until") && !this.lex.isWord("for")) {
        this.fail(
          `expected "until" after "hold", found ${describeToken(this.lex.peek())}; write e.g. "hold until C/20"`,
        );
      }
      this.parseTermination();
      return { kind: "cccv", direction, value, holdVolts };
    }
    this.parseTermination();
    if (this.lex.isWord("then")) {
      // PyBaMM's two-step CC-CV spelling: "Charge at 1 A until 4.1 V then hold at 4.1 V until 50 mA".
      this.lex.next();
      this.requireCurrent(value, valueText);
      const ccEnd = this.conditions.filter((c) => c.kind === "voltage");
      if (ccEnd.length !== 1 || this.conditions.length !== 1) {
        this.fail(
          '"then hold" needs exactly one voltage condition before it, e.g. "until 4.2 V then hold until C/20"',
        );
      }
      const holdVolts = (ccEnd[0] as { volts: number }).volts;
      this.conditions.length = 0;
      this.expectWord("hold", 'after "then"');
      if (this.lex.acceptWord("at")) this.parseHoldVoltsAgain(holdVolts);
      if (!this.lex.isWord("until")) {
        this.fail(`expected "until" after "then hold", found ${describeToken(this.lex.peek())}`);
      }
      this.parseTermination();
      return { kind: "cccv", direction, value, holdVolts };
    }
    return { kind: "constant", direction, value };
  }

  private lastNumberText = "";

  /**
   * True when the tokens from `ahead` on are a current, C-rate, power or resistance ("2 A", "1C",
   * "C/2"): the end of a ramp. Anything else after "to" is read as a CC-CV's voltage (and its
   * errors speak of voltages).
   */
  private isRampEndAhead(ahead: number): boolean {
    const first = this.lex.peek(ahead);
    if (first.kind === "word") return first.text === "C" && this.lex.isSymbol("/", ahead + 1);
    const unit = this.lex.peek(ahead + 1);
    if (first.kind !== "number" || unit.kind !== "word") return false;
    const u = unit.text;
    return (
      u === "C" ||
      CURRENT_UNITS[u] !== undefined ||
      POWER_UNITS[u] !== undefined ||
      RESISTANCE_UNITS[u] !== undefined
    );
  }

  /** "... at 0.1C to 1C over 10 minutes [until ...]": a current, C-rate or power ramp. */
  private parseRamp(direction: Direction, from: DriveValue, fromText: string): ParsedStepString["action"] {
    const toStart = this.lex.peek();
    const to = this.parseDriveValue(true);
    const toText = this.text.slice(toStart.start, this.lex.peek().start).trim();
    const amps = (v: DriveValue) => v.kind === "current" || v.kind === "c-rate";
    if (from.kind === "resistance" || to.kind === "resistance") {
      this.fail(
        `a ramp moves a current, C-rate or power, not a resistance; e.g. "Discharge at 1 A to 3 A over 10 minutes"`,
      );
    }
    if (amps(from) !== amps(to)) {
      this.fail(
        `a ramp goes from one current to another or one power to another, not from ${fromText} to ${toText}; give both ends in A, C or W`,
      );
    }
    if (magnitudeOf(from) === 0 && magnitudeOf(to) === 0) {
      this.fail(`a ramp from ${fromText} to ${toText} never moves; give an end greater than 0`);
    }
    const overS = this.parseOver(`${fromText} to ${toText}`);
    this.parseRampTermination(overS);
    return { kind: "ramp", direction, from, to, overS };
  }

  /** "over DUR" after a ramp's ends; a ramp without it has no rate. */
  private parseOver(ends: string): number {
    if (!this.lex.isWord("over")) {
      this.fail(
        `a ramp needs its duration: write "${ends} over 10 minutes" (found ${describeToken(this.lex.peek())}); to drive to a voltage write "to 4.2 V, hold until C/20"`,
      );
    }
    this.lex.next();
    return this.parseDuration('"over"');
  }

  /** Conditions after a ramp; its "over" duration is the step's, so a "for" would contradict it. */
  private parseRampTermination(overS: number): void {
    this.parseTermination();
    if (this.durationS !== undefined) {
      this.fail(
        'a ramp lasts its "over" duration; drop the "for ...", or hold the end value in a step of its own',
      );
    }
    this.durationS = overS;
  }

  /** "Ramp voltage from 3.6 V to 4.1 V over 10 minutes [at most 1 A] [until ...]". */
  private parseVoltageRamp(written: string): Extract<Action, { kind: "hold" }> {
    if (!this.lex.acceptWord("voltage"))
      this.fail(`unexpected ${describeToken(this.lex.peek())} after "${written}"; ${RAMP_HINT}`);
    this.expectWord("from", `after "${written} voltage"`);
    const volts = this.parseVolts("from");
    this.expectWord("to", `after the first voltage`, '"to", e.g. "from 3.6 V to 4.1 V"');
    const toVolts = this.parseVolts("to");
    const overS = this.parseOver(`from ${volts} V to ${toVolts} V`);
    const hold: Extract<Action, { kind: "hold" }> = { kind: "hold", volts, toVolts, overS };
    const limit = this.parseAtMost();
    if (limit) hold.currentLimit = limit;
    this.parseRampTermination(overS);
    return hold;
  }

  /** "at most 1 A" / "at most 0.5C" after a CV voltage: the hold's own current limit. */
  private parseAtMost(): DriveValue | undefined {
    if (!this.lex.isWord("at") || !this.lex.isWord("most", 1)) return undefined;
    this.lex.next();
    this.lex.next();
    const start = this.lex.peek();
    const value = this.parseDriveValue(false, '"at most"', "at most 1 A");
    if (value.kind !== "current" && value.kind !== "c-rate") {
      const text = this.text.slice(start.start, this.lex.peek().start).trim();
      this.fail(
        `"at most" takes a current or C-rate, not ${text}; write e.g. "at most 1 A" or "at most 0.5C"`,
      );
    }
    return value;
  }

  /** "hold at 4.2 V" after a CC-CV target: the voltage must repeat the target. */
  private parseHoldVoltsAgain(holdVolts: number): void {
    const volts = this.parseVolts("Hold");
    if (Math.abs(volts - holdVolts) > 1e-9) {
      this.fail(`the hold voltage ${volts} V differs from the CC target ${holdVolts} V; use one voltage`);
    }
  }

  private requireCurrent(value: DriveValue, valueText: string): void {
    if (value.kind !== "current" && value.kind !== "c-rate") {
      this.fail(
        `a CC-CV step needs a current or C-rate, not ${value.kind} (${valueText}); e.g. "Charge at C/3 to 4.2 V, hold until C/20"`,
      );
    }
  }

  private parseRun(): DriveCycleReference {
    const name = this.lex.rawChunk("(");
    if (!name || name.text === "") this.fail('expected a drive cycle name after "Run", e.g. "Run US06 (A)"');
    const ref: DriveCycleReference = {
      kind: "drive-cycle-file",
      direction: "discharge",
      file: name.text,
      byName: true,
    };
    if (this.lex.isSymbol("(") && !this.isPeriodAhead()) {
      this.lex.next();
      const unit = this.lex.next();
      if (unit.kind === "word" && (unit.text === "A" || unit.text === "W")) {
        ref.unit = unit.text;
      } else if (unit.kind === "word" && unit.text === "V") {
        this.fail('voltage drive cycles "(V)" are not supported; use (A) for current or (W) for power');
      } else {
        this.fail(
          `expected the drive cycle unit (A) or (W) after "Run ${name.text}", found ${describeToken(unit)}`,
        );
      }
      this.expectSymbol(")", `after "(${unit.text}"`);
    }
    this.parseTermination();
    return ref;
  }

  /** Reads `for`, `until`, `or` clauses in any PyBaMM-compatible order. */
  private parseTermination(): void {
    for (;;) {
      if (this.lex.isWord("for")) {
        const forToken = this.lex.next();
        if (this.durationS !== undefined)
          this.fail(`a second duration at "for" (position ${forToken.start + 1}); give one "for"`);
        this.durationS = this.parseDuration('"for"');
      } else if (this.lex.isWord("until")) {
        this.lex.next();
        this.conditions.push(this.parseCondition('"until"'));
        while (this.lex.isWord("or") && !this.lex.isWord("for", 1) && !this.lex.isWord("until", 1)) {
          this.lex.next();
          this.conditions.push(this.parseCondition('"or"'));
        }
      } else if (this.lex.isWord("or") && (this.lex.isWord("for", 1) || this.lex.isWord("until", 1))) {
        this.lex.next();
      } else {
        return;
      }
    }
  }

  /** Reads `at TEMP`, `(DUR period)` and `[tags]` at the end of a step, then requires the end. */
  private parseSuffixes(result: ParsedStepString): void {
    if (this.lex.isWord("at") && this.lex.isWord("most", 1)) {
      this.fail(
        '"at most <current>" limits a CV hold and goes right after its voltage: "Hold at 4.2 V at most 1 A for 2 hours or until C/50"',
      );
    }
    if (this.lex.isWord("at")) {
      this.lex.next();
      result.ambientC = this.parseTemperature();
    }
    if (this.lex.isSymbol("(")) {
      this.lex.next();
      const periodS = this.parseDuration('"("');
      this.expectWord("period", `after "(${this.lastNumberText} ..."`, '"period)"');
      this.expectSymbol(")", 'after "period"');
      result.periodS = periodS;
    }
    if (this.lex.isSymbol("[")) {
      this.lex.next();
      const tags: string[] = [];
      while (!this.lex.isSymbol("]")) {
        const t = this.lex.next();
        if (t.kind === "end") this.fail('expected "]" to close the tags');
        if (t.kind === "word" || t.kind === "number") tags.push(t.text);
        else if (t.text !== ",") this.fail(`unexpected "${t.text}" in the tags; write e.g. [tag1,tag2]`);
      }
      this.lex.next();
      result.tags = tags;
    }
    const rest = this.lex.peek();
    if (rest.kind !== "end") {
      const expected = this.expectedAfter(result);
      this.fail(`unexpected "${rest.text}" after "${this.lex.consumedText()}"; expected ${expected}`);
    }
  }

  private expectedAfter(result: ParsedStepString): string {
    const options: string[] = [];
    if (this.durationS === undefined) options.push('"for <duration>"');
    options.push(this.conditions.length > 0 ? '"or <condition>"' : '"until <condition>"');
    if (result.ambientC === undefined && result.periodS === undefined) options.push('"at <temperature>"');
    if (result.periodS === undefined) options.push('"(<duration> period)"');
    options.push("the end");
    return `${options.slice(0, -1).join(", ")} or ${options[options.length - 1]}`;
  }

  private isPeriodAhead(): boolean {
    return this.lex.peek(1).kind === "number";
  }

  private parseNumber(after: string, what: string, example: string): Token & { kind: "number" } {
    const t = this.lex.next();
    if (t.kind !== "number")
      this.fail(`expected ${what} after ${after}, found ${describeToken(t)}; write e.g. "${example}"`);
    this.lastNumberText = t.text;
    return t;
  }

  /** A drive value; `allowZero` for a ramp's ends (the caller refuses a zero that is not one). */
  private parseDriveValue(allowZero = false, after = '"at"', example = "Charge at 1 A"): DriveValue {
    const t = this.lex.peek();
    if (t.kind === "word" && t.text === "C" && this.lex.isSymbol("/", 1)) {
      this.lex.next();
      this.lex.next();
      const n = this.parseNumber('"C/"', "a number", "C/3");
      if (!(n.value > 0)) this.fail(`C/${n.text} is not a rate; the divisor must be greater than 0`);
      return { kind: "c-rate", c: 1 / n.value };
    }
    const n = this.parseNumber(after, "a value", example);
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(
        `expected a unit after ${n.text}, found ${describeToken(this.lex.peek())}; ${VALUE_UNIT_HINT}`,
      );
    if (!(n.value > 0) && !(allowZero && n.value === 0)) {
      this.fail(`${n.text} ${unit.text} must be greater than 0; Charge/Discharge gives the direction`);
    }
    const u = unit.text;
    if (u === "C") return { kind: "c-rate", c: n.value };
    if (CURRENT_UNITS[u] !== undefined) return { kind: "current", amps: n.value * CURRENT_UNITS[u] };
    if (POWER_UNITS[u] !== undefined) return { kind: "power", watts: n.value * POWER_UNITS[u] };
    if (RESISTANCE_UNITS[u] !== undefined) return { kind: "resistance", ohms: n.value * RESISTANCE_UNITS[u] };
    if (VOLTAGE_UNITS[u] !== undefined) {
      this.fail(
        `${n.text} ${u} is a voltage; use "Hold at ${n.text} ${u}" or a CC-CV step "... to ${n.text} ${u}, hold until C/20"`,
      );
    }
    this.fail(`unknown unit "${u}" after ${n.text}; ${VALUE_UNIT_HINT}`);
  }

  private parseVolts(context: string): number {
    const word = context === "Hold" ? "at" : context === "from" ? "from" : "to";
    const n = this.parseNumber(`"${word}"`, "a voltage", `${context === "Hold" ? "Hold at" : word} 4.2 V`);
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(`expected a unit after ${n.text}, found ${describeToken(this.lex.peek())}; use V or mV`);
    const factor = VOLTAGE_UNITS[unit.text];
    if (factor === undefined) {
      this.fail(`unknown unit "${unit.text}" after ${n.text}; ${context} takes a voltage: use V or mV`);
    }
    return n.value * factor;
  }

  parseDuration(after: string): number {
    const n = this.parseNumber(after, "a duration", "for 10 minutes");
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(
        `expected a time unit after ${n.text}, found ${describeToken(this.lex.peek())}; ${TIME_UNIT_HINT}`,
      );
    const factor = timeFactor(unit.text);
    if (factor === undefined)
      this.fail(`unknown time unit "${unit.text}" after ${n.text}; ${TIME_UNIT_HINT}`);
    if (!(n.value > 0)) this.fail(`the duration ${n.text} ${unit.text} must be greater than 0`);
    return n.value * factor;
  }

  private parseTemperature(): number {
    const n = this.parseNumber('"at"', "a temperature", "at 25 °C");
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(
        `expected a temperature unit after ${n.text}, found ${describeToken(this.lex.peek())}; use °C, oC or K`,
      );
    if (CELSIUS_UNITS.has(unit.text)) return n.value;
    if (unit.text === "K") return n.value - 273.15;
    this.fail(`unknown temperature unit "${unit.text}" after ${n.text}; use °C, oC or K`);
  }

  parseCondition(after: string): Condition {
    let op = this.parseComparison();
    const t = this.lex.peek();
    if (
      t.kind === "word" &&
      t.text.toLowerCase() === "dv" &&
      this.lex.isSymbol("/", 1) &&
      this.lex.isWord("dt", 2)
    ) {
      this.lex.next();
      this.lex.next();
      this.lex.next();
      const after = this.parseComparison();
      if (op && after) this.fail('give one comparison for dV/dt, e.g. "dV/dt < 0.1 mV/s"');
      op = op ?? after;
      if (!op)
        this.fail(
          `expected "<" or ">" after "dV/dt", found ${describeToken(this.lex.peek())}; write e.g. "dV/dt < 0.1 mV/s"`,
        );
      const n = this.parseNumber(`"dV/dt ${op}"`, "a slope", "dV/dt < 0.1 mV/s");
      const unit = readUnit(this.lex);
      const perS = this.lex.acceptSymbol("/") ? readUnit(this.lex) : undefined;
      const factor = unit ? VOLTAGE_UNITS[unit.text] : undefined;
      if (!unit || factor === undefined || !perS || timeFactor(perS.text) === undefined) {
        this.fail(`expected a slope unit such as mV/s after ${n.text}`);
      }
      // factor · 1000 first: mV gives exactly 1, so "0.0017 mV/s" stays 0.0017.
      const mvPerS = (n.value * (factor * 1000)) / (timeFactor(perS.text) as number);
      return n.signed ? { kind: "dvdt", op, mvPerS, signed: true } : { kind: "dvdt", op, mvPerS };
    }
    const withOp = <C extends Condition>(c: C): C => (op ? { ...c, op } : c);
    if (t.kind === "word" && t.text === "C" && this.lex.isSymbol("/", 1)) {
      this.lex.next();
      this.lex.next();
      const n = this.parseNumber('"C/"', "a number", "until C/20");
      if (!(n.value > 0)) this.fail(`C/${n.text} is not a rate; the divisor must be greater than 0`);
      return withOp({ kind: "c-rate", c: 1 / n.value });
    }
    if (t.kind === "word" && t.text.toLowerCase() === "capacity") {
      this.fail(
        `capacity retention ends a repeat loop, not a step: put until: ${RETENTION_EXAMPLE} on the repeat; a step ends on the charge it moves with e.g. "until 2 Ah"`,
      );
    }
    if (t.kind !== "number") {
      this.fail(
        `expected a condition after ${after}, found ${describeToken(t)}; write e.g. "4.2 V", "C/20", "80% SOC" or "60 °C"`,
      );
    }
    const n = this.parseNumber(after, "a condition", "until 4.2 V");
    if (this.lex.acceptSymbol("%")) {
      if (!this.lex.acceptWord("soc")) {
        this.fail(
          `expected "SOC" after ${n.text} %, found ${describeToken(this.lex.peek())}; write e.g. "until 80% SOC"`,
        );
      }
      if (!(n.value >= 0 && n.value <= 100)) {
        this.fail(`${n.text} % SOC is outside 0-100 %; write e.g. "until 80% SOC"`);
      }
      return withOp({ kind: "soc", fraction: n.value / 100 });
    }
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(
        `expected a unit after ${n.text}, found ${describeToken(this.lex.peek())}; ${CONDITION_UNIT_HINT}`,
      );
    const u = unit.text;
    if (VOLTAGE_UNITS[u] !== undefined) return withOp({ kind: "voltage", volts: n.value * VOLTAGE_UNITS[u] });
    if (CURRENT_UNITS[u] !== undefined) return withOp({ kind: "current", amps: n.value * CURRENT_UNITS[u] });
    if (u === "C") return withOp({ kind: "c-rate", c: n.value });
    if (CHARGE_UNITS[u] !== undefined) return withOp({ kind: "capacity", ah: n.value * CHARGE_UNITS[u] });
    if (ENERGY_UNITS[u] !== undefined) return withOp({ kind: "energy", wh: n.value * ENERGY_UNITS[u] });
    if (CELSIUS_UNITS.has(u)) return withOp({ kind: "temperature", celsius: n.value });
    if (timeFactor(u) !== undefined) {
      this.fail(`${n.text} ${u} is a duration, not a condition; write "for ${n.text} ${u}"`);
    }
    if (u.toLowerCase() === "soc") {
      this.fail(
        `write the SOC as a percentage: "until ${n.value <= 1 ? round(n.value * 100) : n.text}% SOC"`,
      );
    }
    this.fail(`unknown unit "${u}" after ${n.text}; ${CONDITION_UNIT_HINT}`);
  }

  /** "capacity < 80 % of cycle 1": a repeat loop's until. */
  parseRetention(): Condition {
    const example = `write e.g. ${RETENTION_EXAMPLE}`;
    const first = this.lex.peek();
    if (!this.lex.acceptWord("capacity")) {
      this.fail(
        `a loop ends on the capacity retention, found ${describeToken(first)}; ${example} (to end a step on a condition, put "until ..." in the step string)`,
      );
    }
    const op = this.parseComparison();
    if (!op)
      this.fail(`expected "<" or ">" after "capacity", found ${describeToken(this.lex.peek())}; ${example}`);
    const n = this.parseNumber(`"capacity ${op}"`, "a percentage", "capacity < 80 % of cycle 1");
    if (!this.lex.acceptSymbol("%")) {
      this.fail(
        `give the retention as a percentage of a cycle's capacity, found ${describeToken(this.lex.peek())} after ${n.text}; ${n.value > 0 && n.value <= 1 ? `write "capacity ${op} ${round(n.value * 100)} % of cycle 1"` : example}`,
      );
    }
    if (!(n.value > 0 && n.value <= 100))
      this.fail(`${n.text} % is not a retention; use more than 0 and at most 100 %`);
    this.expectWord("of", `after "${n.text} %"`, `"of cycle <n>"`);
    this.expectWord("cycle", `after "of"`, `"cycle <n>"`);
    const cycle = this.parseNumber('"of cycle"', "a cycle number", "of cycle 1");
    if (!(Number.isInteger(cycle.value) && cycle.value >= 1)) {
      this.fail(`cycle ${cycle.text} is not a cycle number; cycles count from 1`);
    }
    return { kind: "retention", op, fraction: n.value / 100, ofCycle: cycle.value };
  }

  parseComparison(): Comparison | undefined {
    const t = this.lex.peek();
    if (t.kind !== "symbol") return undefined;
    if (t.text === "<" || t.text === "<=" || t.text === "≤") {
      this.lex.next();
      return "<";
    }
    if (t.text === ">" || t.text === ">=" || t.text === "≥") {
      this.lex.next();
      return ">";
    }
    return undefined;
  }

  private expectWord(word: string, where: string, expected = `"${word}"`): void {
    const t = this.lex.next();
    if (t.kind !== "word" || t.text.toLowerCase() !== word) {
      this.fail(`expected ${expected} ${where}, found ${describeToken(t)}`);
    }
  }

  private expectSymbol(symbol: string, where: string): void {
    const t = this.lex.next();
    if (t.kind !== "symbol" || t.text !== symbol)
      this.fail(`expected "${symbol}" ${where}, found ${describeToken(t)}`);
  }

  expectEnd(where: string): void {
    const t = this.lex.peek();
    if (t.kind !== "end") this.fail(`unexpected "${t.text}" ${where}`);
  }
}

/** Amps or watts of a drive value as written (C-rates as their multiple); 0 only for a zero. */
function magnitudeOf(value: DriveValue): number {
  switch (value.kind) {
    case "current":
      return value.amps;
    case "c-rate":
      return value.c;
    case "power":
      return value.watts;
    case "resistance":
      return value.ohms;
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
