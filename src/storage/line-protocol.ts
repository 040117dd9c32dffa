/**
 * InfluxDB line protocol primitives (1.x reference: "Line protocol syntax", special characters and
 * escaping; the same rules hold for the v1-compatible /write of 2.x and 3.x):
 * - measurement names escape commas and spaces;
 * - tag keys, tag values and field keys escape commas, equals signs and spaces;
 * - string field values are double-quoted and escape double quotes and backslashes;
 * - integers carry an `i` suffix; floats are plain decimals (scientific notation accepted).
 * Newlines end a line and have no escape in tags, so tag values with newlines are refused. A
 * backslash in a tag value is refused too: 1.x reads `\` before a comma, space or equals sign (or at
 * the end of the value) as an escape and rejects or mangles the point ("invalid tag format").
 * The characters refused are those of tag-values.ts, the rule the API and the configuration apply.
 */
import { LineProtocolError } from "./errors.js";
import { tagCharacterProblem } from "./tag-values.js";

const MEASUREMENT_SPECIALS = /[, ]/g;
const TAG_SPECIALS = /[,= ]/g;
const FIELD_STRING_SPECIALS = /["\\]/g;
const LINE_BREAKS = /\r\n|[\r\n]/g;

/** Escapes a measurement name (commas, spaces). */
export function escapeMeasurement(name: string): string {
  if (name === "") throw new LineProtocolError("measurement name is empty");
  rejectUnwritable(name, "measurement name");
  return name.replace(MEASUREMENT_SPECIALS, "\\$&");
}

/** Escapes a tag key, tag value or field key (commas, equals signs, spaces). */
export function escapeKey(value: string, what = "tag value"): string {
  if (value === "") throw new LineProtocolError(`${what} is empty; InfluxDB has no empty tag values or keys`);
  rejectUnwritable(value, what);
  return value.replace(TAG_SPECIALS, "\\$&");
}

/** Quotes a string field value; line breaks become spaces (a newline would end the line). */
export function quoteFieldString(value: string): string {
  return `"${value.replace(LINE_BREAKS, " ").replace(FIELD_STRING_SPECIALS, "\\$&")}"`;
}

/** Formats a float field value; returns undefined for NaN and ±Infinity, which line protocol cannot carry. */
export function formatFloat(value: number): string | undefined {
  return Number.isFinite(value) ? String(value) : undefined;
}

/** Formats an integer field value (`12i`); throws unless `value` is a safe integer. */
export function formatInteger(value: number, what: string): string {
  checkInteger(value, what);
  return `${value}i`;
}

/** Throws unless `value` is a safe integer (what formatInteger checks, for a caller writing `${value}i` itself). */
export function checkInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new LineProtocolError(`${what} must be an integer, got ${value}`);
}

/** Formats a millisecond timestamp (precision ms); fractional milliseconds are rounded. */
export function formatTimestampMs(tWallMs: number): string {
  const t = Math.round(tWallMs);
  if (!Number.isSafeInteger(t))
    throw new LineProtocolError(`timestamp must be epoch milliseconds, got ${tWallMs}`);
  return String(t);
}

function rejectUnwritable(value: string, what: string): void {
  const problem = tagCharacterProblem(value);
  if (problem !== undefined) throw new LineProtocolError(`${what} ${JSON.stringify(value)} ${problem}`);
}

/**
 * Builds the `measurement,k1=v1,k2=v2` prefix of a line. Tags are sorted by key (InfluxDB's
 * recommendation) and tags with an empty value are left out (InfluxDB treats a missing tag as empty).
 */
export function seriesPrefix(measurement: string, tags: Record<string, string>): string {
  let prefix = escapeMeasurement(measurement);
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    if (value === undefined || value === "") continue;
    prefix += `,${escapeKey(key, "tag key")}=${escapeKey(value, `tag ${key}`)}`;
  }
  return prefix;
}
