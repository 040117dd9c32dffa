/** Quoting of InfluxQL identifiers and string literals, and measurement references with a retention policy. */

export function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function measurementRef(retentionPolicy: string | undefined, measurement: string): string {
  return retentionPolicy
    ? `${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`
    : quoteIdent(measurement);
}
