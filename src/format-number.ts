/**
 * Numbers as text for files people and programs read back (trace CSV, messages naming a value).
 *
 * The text is the shortest decimal that reads back as the same double (ECMAScript's Number
 * to-string): 10000049.5 stays "10000049.5", 0.1 stays "0.1", never "0.10000000000000001". Below
 * 1e-6 and from 1e21 up it has an exponent ("1e-7", "1.5e+21"), which Number(), parseFloat,
 * Python's float, pandas, R, strtod and spreadsheets all read. -0 is written "0".
 */
export function formatNumber(x: number, options: { maxDecimals?: number } = {}): string {
  const { maxDecimals } = options;
  // toFixed rounds the decimal expansion correctly; it gives up (exponent form) from 1e21 on.
  const value = maxDecimals !== undefined && Math.abs(x) < 1e21 ? Number(x.toFixed(maxDecimals)) : x;
  return Object.is(value, -0) ? "0" : String(value);
}

/**
 * A number as a CSV cell: `formatNumber`, or an empty cell for NaN and ±Infinity (no measured
 * quantity is infinite; an empty cell is what CSV readers take as missing, as the BDF export writes).
 */
export function csvNumber(x: number): string {
  return Number.isFinite(x) ? formatNumber(x) : "";
}
