import { type ScpiErrorEntry, ScpiReplyError } from "./scpi-errors.js";
import { siFactor, siUnitChoices } from "./si-prefix.js";

export interface ScpiQuantity {
  value: number;
  /** Unit suffix as the instrument printed it ("V", "mA", "°C"), or "" when there was none. */
  unit: string;
}

export interface ParseNumberOptions {
  /** Required unit when the reply carries one (exact, case-sensitive: "mV" is not "V"). */
  unit?: string;
  /**
   * Base unit of a reply that may carry an SI prefix (si-prefix.ts): the value is scaled to it
   * ("1.5 kW" with siUnit "W" → 1500); any other unit is refused. Takes the place of `unit`.
   */
  siUnit?: string;
  /** Returns NaN / ±Infinity for SCPI's 9.91E37 / ±9.9E37 instead of throwing. Default false. */
  allowNonFinite?: boolean;
  /** Command the reply answered, for the error message. */
  command?: string;
}

const QUANTITY =
  /^\s*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|INF(?:INITY)?|NINF|NAN))\s*([A-Za-z°%/µΩ][A-Za-z0-9°%/µΩ]*)?\s*$/i;

// SCPI-99 Vol. 1 (Syntax & Style), numeric values: +INFinity is sent as 9.9E37, -INFinity as -9.9E37, NaN as 9.91E37.
const SCPI_INFINITY = 9.9e37;
const SCPI_NAN = 9.91e37;

/** Parses one number with an optional unit suffix: `"48.00 V"` → { value: 48, unit: "V" }. */
export function parseScpiQuantity(text: string, options: ParseNumberOptions = {}): ScpiQuantity {
  const match = QUANTITY.exec(text);
  if (match === null) throw new ScpiReplyError(text, "is not a number", options.command);
  const numberText = match[1]!.toUpperCase();
  const unit = match[2] ?? "";
  let value: number;
  if (numberText.endsWith("NAN")) value = Number.NaN;
  else if (numberText.endsWith("NINF") || numberText.startsWith("-INF")) value = Number.NEGATIVE_INFINITY;
  else if (numberText.includes("INF")) value = Number.POSITIVE_INFINITY;
  else {
    value = Number(numberText);
    if (Math.abs(value) >= SCPI_INFINITY) {
      value = Math.abs(value - SCPI_NAN) < 1e35 ? Number.NaN : Math.sign(value) * Number.POSITIVE_INFINITY;
    }
  }
  if (!Number.isFinite(value) && !options.allowNonFinite)
    throw new ScpiReplyError(
      text,
      `means ${Number.isNaN(value) ? "not a number" : "over range"} (SCPI ${Number.isNaN(value) ? "9.91E37" : "9.9E37"}); the measurement is not usable`,
      options.command,
    );
  if (options.siUnit !== undefined) {
    const factor = siFactor(unit, options.siUnit);
    if (factor === undefined)
      throw new ScpiReplyError(
        text,
        `is in "${unit}", which is not ${siUnitChoices(options.siUnit)}; the instrument answers in a unit the driver cannot convert`,
        options.command,
      );
    return { value: value * factor, unit: options.siUnit };
  }
  if (options.unit !== undefined && unit !== "" && unit !== options.unit)
    throw new ScpiReplyError(text, `is in ${unit}, expected ${options.unit}`, options.command);
  return { value, unit };
}

/** Parses one number and drops its unit: `"48.00 V"` → 48. */
export function parseScpiNumber(text: string, options: ParseNumberOptions = {}): number {
  return parseScpiQuantity(text, options).value;
}

export interface ParseNumbersOptions extends Omit<ParseNumberOptions, "unit" | "siUnit"> {
  /** Required unit of each field, in order (e.g. ["V", "A", "W"] for MEAS:ARR?). */
  units?: readonly string[];
  /** Base unit of each field, in order, each may carry an SI prefix (see ParseNumberOptions.siUnit). */
  siUnits?: readonly string[];
  /** Required number of fields. */
  count?: number;
}

/** Parses a comma-separated list: `"48.00 V, 2.00 A, 96.00 W"` → [48, 2, 96]. */
export function parseScpiNumbers(text: string, options: ParseNumbersOptions = {}): number[] {
  const fields = text.split(",");
  const expected = options.count ?? options.units?.length ?? options.siUnits?.length;
  if (expected !== undefined && fields.length !== expected)
    throw new ScpiReplyError(text, `has ${fields.length} fields, expected ${expected}`, options.command);
  return fields.map((field, i) =>
    parseScpiNumber(field, { ...options, unit: options.units?.[i], siUnit: options.siUnits?.[i] }),
  );
}

const ERROR_ENTRY = /([+-]?\d+)\s*,\s*"((?:[^"]|"")*)"/g;

/**
 * Parses an error-queue reply into its errors, leaving out `0,"No error"`. Reads one entry
 * (`-113,"Undefined header"`) or several (`SYST:ERR:ALL?`: `-113,"Undefined header",-222,"Data out of range"`).
 */
export function parseScpiErrors(reply: string, command?: string): ScpiErrorEntry[] {
  const entries: ScpiErrorEntry[] = [];
  let matched = false;
  for (const match of reply.matchAll(ERROR_ENTRY)) {
    matched = true;
    const code = Number(match[1]);
    if (code !== 0) entries.push({ code, message: match[2]!.replace(/""/g, '"') });
  }
  if (matched) return entries;
  const bare = /^\s*([+-]?\d+)\s*,\s*(.*?)\s*$/.exec(reply);
  if (bare) {
    const code = Number(bare[1]);
    return code === 0 ? [] : [{ code, message: bare[2]! }];
  }
  if (/^\s*no error\s*$/i.test(reply)) return [];
  throw new ScpiReplyError(reply, 'is not an error-queue entry like 0,"No error"', command);
}
