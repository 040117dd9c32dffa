/**
 * Parser of step strings (DESIGN §4), a superset of PyBaMM's Experiment strings:
 *
 *   (Charge|Discharge) at VALUE [for DUR] [[or] until COND {or COND}] [at TEMP] [(DUR period)]
 *   (Charge|Discharge) at VALUE to VOLTS[,] hold until COND {or COND}            CC-CV, one step
 *   (Charge|Discharge) at VALUE until VOLTS then hold [at VOLTS] until COND      CC-CV (PyBaMM "then")
 *   Hold at VOLTS (for DUR | until COND {or COND})                              CV
 *   Rest (for DUR | until COND {or COND})
 *   (Charge|Discharge) following FILE [for DUR] [until ...]                    drive cycle from a CSV
 *   Run NAME [(A)|(W)] [for DUR]                                               PyBaMM drive cycle = discharge following
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
export const CONDITION_UNIT_HINT = "use V, mV, A, mA, C/n, Ah, mAh, Wh, °C or dV/dt < n mV/s";
const INSTRUCTIONS = "Charge, Discharge, Rest, Hold or Run";

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
        action = { kind: "hold", volts: this.parseVolts("Hold") };
        this.parseTermination();
        break;
      }
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
    const value = this.parseDriveValue();
    const valueText = this.text.slice(valueStart.start, this.lex.peek().start).trim();
    if (value.kind === "resistance" && direction === "charge") {
      this.fail(`a resistance (${valueText}) can only discharge; write "Discharge at ${valueText}"`);
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

  private parseDriveValue(): DriveValue {
    const t = this.lex.peek();
    if (t.kind === "word" && t.text === "C" && this.lex.isSymbol("/", 1)) {
      this.lex.next();
      this.lex.next();
      const n = this.parseNumber('"C/"', "a number", "C/3");
      if (!(n.value > 0)) this.fail(`C/${n.text} is not a rate; the divisor must be greater than 0`);
      return { kind: "c-rate", c: 1 / n.value };
    }
    const n = this.parseNumber('"at"', "a value", "Charge at 1 A");
    const unit = readUnit(this.lex);
    if (!unit)
      this.fail(
        `expected a unit after ${n.text}, found ${describeToken(this.lex.peek())}; ${VALUE_UNIT_HINT}`,
      );
    if (!(n.value > 0)) {
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
    const n = this.parseNumber(
      `"${context === "Hold" ? "at" : "to"}"`,
      "a voltage",
      `${context === "Hold" ? "Hold at" : "to"} 4.2 V`,
    );
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
    if (t.kind !== "number") {
      this.fail(
        `expected a condition after ${after}, found ${describeToken(t)}; write e.g. "4.2 V", "C/20" or "60 °C"`,
      );
    }
    const n = this.parseNumber(after, "a condition", "until 4.2 V");
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
    this.fail(`unknown unit "${u}" after ${n.text}; ${CONDITION_UNIT_HINT}`);
  }

  private parseComparison(): Comparison | undefined {
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
