/**
 * What Grafana does to a raw InfluxQL query before InfluxDB sees it, so that the tests run the
 * dashboards' queries as Grafana would:
 *
 * - template variables (InfluxDB datasource): a multi-value or "All" selection becomes
 *   `(v1|v2|...)` with every value regex-escaped; a single value is regex-escaped inside a regex
 *   literal (`=~ /^$channel$/`) and left as it is elsewhere (`"$policy"."cell"`);
 * - then the backend's macros: `$timeFilter` → `time >= <from>ms and time <= <to>ms`, `$interval`
 *   and `$__interval` → the interval (`10s`), `$__interval_ms` → its milliseconds.
 *
 * Also Grafana's expansion of environment variables in provisioning files (`$VAR`, `${VAR}`, `$$` for
 * a literal `$`; an unset variable expands to nothing: there is no default syntax).
 */

export interface SelectedValues {
  values: string[];
  /** A multi-value variable (or one with "All" selected): formatted as a regex alternation. */
  multi: boolean;
}

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

const VARIABLE = /\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)/g;
const REGEX_LITERAL = /(=~|!~)(\s*)\/((?:\\.|[^/\\])*)\//g;

/** Grafana's escapeRegex. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&");
}

function format(v: SelectedValues, inRegex: boolean): string {
  if (v.multi) return `(${v.values.map(escapeRegex).join("|")})`;
  const value = v.values[0] ?? "";
  return inRegex ? escapeRegex(value) : value;
}

function replaceVariables(text: string, vars: ReadonlyMap<string, SelectedValues>, inRegex: boolean): string {
  return text.replace(VARIABLE, (whole, a?: string, b?: string, c?: string) => {
    const v = vars.get((a ?? b ?? c) as string);
    return v ? format(v, inRegex) : whole;
  });
}

/** Template variables only (what the frontend does); unknown names are left as they are. */
export function interpolateVariables(query: string, vars: ReadonlyMap<string, SelectedValues>): string {
  const inRegexes = query.replace(
    REGEX_LITERAL,
    (_w, op: string, space: string, body: string) => `${op}${space}/${replaceVariables(body, vars, true)}/`,
  );
  return replaceVariables(inRegexes, vars, false);
}

/** "1s", "10s", "1m": the text Grafana's gtime.FormatInterval gives for these intervals. */
export function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The whole interpolation: variables, then the backend's macros. */
export function interpolate(
  query: string,
  vars: ReadonlyMap<string, SelectedValues>,
  range: TimeRange,
  intervalMs: number,
): string {
  const interval = formatInterval(intervalMs);
  return interpolateVariables(query, vars)
    .replaceAll("$timeFilter", `time >= ${range.fromMs}ms and time <= ${range.toMs}ms`)
    .replaceAll("$interval", interval)
    .replaceAll("$__interval_ms", String(intervalMs))
    .replaceAll("$__interval", interval);
}

/** Grafana's provisioning expansion (os.ExpandEnv on each part between `$$`). */
export function expandProvisioningEnv(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return value
    .split("$$")
    .map((part) =>
      part.replace(
        /\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g,
        (_w, braced?: string, bare?: string) => env[(braced ?? bare) as string] ?? "",
      ),
    )
    .join("$");
}
