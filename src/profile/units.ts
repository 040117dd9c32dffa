/**
 * Units accepted in step strings and profile quantities, with their factor to SI. Electrical
 * units are case-sensitive (mA is not MA); time units are not (PyBaMM writes "Hours" too).
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { describeToken, StepLexer, type Token } from "./step-lexer.js";

export type QuantityKind = "duration" | "voltage" | "current" | "power" | "temperature";

const TIME_UNITS: Record<string, number> = {
  ms: 0.001,
  msec: 0.001,
  millisecond: 0.001,
  milliseconds: 0.001,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
};

export const VOLTAGE_UNITS: Record<string, number> = { V: 1, mV: 0.001 };
export const CURRENT_UNITS: Record<string, number> = { A: 1, mA: 0.001 };
export const POWER_UNITS: Record<string, number> = { W: 1, mW: 0.001, kW: 1000 };
export const RESISTANCE_UNITS: Record<string, number> = {
  Ohm: 1,
  ohm: 1,
  Ohms: 1,
  ohms: 1,
  Ω: 1,
  mOhm: 0.001,
  mohm: 0.001,
  mΩ: 0.001,
};
export const CHARGE_UNITS: Record<string, number> = { Ah: 1, mAh: 0.001 };
export const ENERGY_UNITS: Record<string, number> = { Wh: 1, mWh: 0.001 };
/** Celsius spellings; PyBaMM writes "oC". */
export const CELSIUS_UNITS = new Set(["°C", "oC", "degC", "℃"]);

/** Seconds per time unit, or undefined when `unit` is not a time unit. */
export function timeFactor(unit: string): number | undefined {
  return TIME_UNITS[unit.toLowerCase()];
}

export const TIME_UNIT_HINT = "use ms, s, min or h (or seconds, minutes, hours)";

/** Words of the step grammar, never read as a unit ("Charge at 1 for 1 h" misses a unit). */
const STEP_KEYWORDS = new Set([
  "for",
  "until",
  "or",
  "at",
  "to",
  "then",
  "hold",
  "period",
  "following",
  "over",
  "from",
  "most",
  "of",
]);

/**
 * Reads a unit word after a number. Joins "°" "C" written apart; returns undefined when the next
 * token is not a word or is a keyword.
 */
export function readUnit(lexer: StepLexer): { text: string; token: Token } | undefined {
  const t = lexer.peek();
  if (t.kind !== "word" || STEP_KEYWORDS.has(t.text.toLowerCase())) return undefined;
  lexer.next();
  if (t.text === "°" && lexer.isWord("c")) {
    lexer.next();
    return { text: "°C", token: t };
  }
  return { text: t.text, token: t };
}

/** Thrown for a malformed quantity; the caller prefixes where it came from. */
export class QuantityError extends CellbenchError {
  constructor(message: string) {
    super("QUANTITY_INVALID", message);
  }
}

/**
 * A quantity of the wrong JSON type: neither a number nor a string, or (strict) a number in quotes.
 * Same code as QuantityError; callers that take JSON from a request answer it as a malformed request.
 */
export class QuantityTypeError extends QuantityError {}

export interface QuantityOptions {
  /**
   * Refuse a number in quotes ("25"): in JSON a number is sent as a number, so "25" is a sender's
   * bug (which unit was meant?). Off for YAML, where `"25"` is an author's way of writing 25.
   */
  strict?: boolean;
}

/**
 * True for a number in quotes: text that is one number and nothing else ("25", " 4.2 ", "3e0").
 * The one rule of what strict JSON input refuses where a quantity is expected.
 */
export function isNumberText(text: string): boolean {
  const lexer = new StepLexer(text);
  const n = lexer.next();
  // The lexer reads "1.2.3" as one (NaN) number token; that is malformed text, not a number.
  return n.kind === "number" && !Number.isNaN(n.value) && lexer.peek().kind === "end";
}

const KIND_HINTS: Record<QuantityKind, string> = {
  duration: `${TIME_UNIT_HINT}, e.g. "2 h"`,
  voltage: 'use V or mV, e.g. "4.2 V"',
  current: 'use A or mA, e.g. "500 mA"',
  power: 'use W or mW, e.g. "2 W"',
  temperature: 'use °C or oC, e.g. "25 °C"',
};

/** The SI unit a bare number is read in, and how messages name it. */
const SI_UNITS: Record<QuantityKind, { unit: string; name: string }> = {
  duration: { unit: "s", name: "seconds" },
  voltage: { unit: "V", name: "V" },
  current: { unit: "A", name: "A" },
  power: { unit: "W", name: "W" },
  temperature: { unit: "°C", name: "°C" },
};

const KIND_NAMES: Record<QuantityKind, string> = {
  duration: "a duration",
  voltage: "a voltage",
  current: "a current",
  power: "a power",
  temperature: "a temperature",
};

function factorFor(kind: QuantityKind, unit: string): number | undefined {
  switch (kind) {
    case "duration":
      return timeFactor(unit);
    case "voltage":
      return VOLTAGE_UNITS[unit];
    case "current":
      return CURRENT_UNITS[unit];
    case "power":
      return POWER_UNITS[unit];
    case "temperature":
      return CELSIUS_UNITS.has(unit) ? 1 : undefined;
  }
}

/**
 * Converts a profile or cell quantity to SI: a number is taken as SI already (seconds, V, A, W, °C);
 * a string is a number with a unit ("2 h", "5 mV", "-20 °C"), or (not strict) without one.
 * Throws QuantityError saying what to write, QuantityTypeError when the JSON type is wrong.
 */
export function parseQuantity(value: unknown, kind: QuantityKind, options: QuantityOptions = {}): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new QuantityError(`expected ${KIND_NAMES[kind]}, got ${value}`);
    return value;
  }
  const siUnit = SI_UNITS[kind];
  if (typeof value !== "string") {
    throw new QuantityTypeError(
      `expected ${KIND_NAMES[kind]}: a number in ${siUnit.name} or a string with its unit such as ${exampleOf(kind)}, got ${describeValue(value)}`,
    );
  }
  if (options.strict && isNumberText(value)) {
    const n = value.trim();
    throw new QuantityTypeError(
      n.length <= 32
        ? `${JSON.stringify(value)} is a number in quotes; send the number ${n} (in ${siUnit.name}) or a string with its unit such as "${n} ${siUnit.unit}"`
        : `the text is a number in quotes; send it as a number (in ${siUnit.name}) or a string with its unit such as ${exampleOf(kind)}`,
    );
  }
  const lexer = new StepLexer(value);
  const n = lexer.next();
  if (n.kind !== "number") {
    throw new QuantityError(`expected ${KIND_NAMES[kind]} such as ${exampleOf(kind)}, got "${value}"`);
  }
  const unit = readUnit(lexer);
  let si: number;
  if (!unit) {
    si = n.value;
  } else {
    const factor = factorFor(kind, unit.text);
    if (factor === undefined) {
      throw new QuantityError(
        `unknown unit "${unit.text}" after ${n.text} in "${value}"; ${KIND_HINTS[kind]}`,
      );
    }
    si = n.value * factor;
  }
  const rest = lexer.peek();
  if (rest.kind !== "end") {
    throw new QuantityError(`unexpected ${describeToken(rest)} in "${value}"; write ${exampleOf(kind)}`);
  }
  // The lexer takes "1.2.3" as one number token (NaN); "1e999" overflows to Infinity.
  if (Number.isNaN(n.value)) {
    throw new QuantityError(
      `"${n.text}" is not a number; write ${KIND_NAMES[kind]} such as ${exampleOf(kind)}`,
    );
  }
  if (!Number.isFinite(si)) {
    throw new QuantityError(
      `"${value.trim()}" is too large; write ${KIND_NAMES[kind]} such as ${exampleOf(kind)}`,
    );
  }
  return si;
}

function exampleOf(kind: QuantityKind): string {
  return /e\.g\. (".*")/.exec(KIND_HINTS[kind])?.[1] ?? "";
}

/** Renders an arbitrary document value for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}
