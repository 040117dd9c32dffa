/**
 * Reads a run's step and cycle records back from InfluxDB (the `step` and `cycle` measurements),
 * a page at a time by index, for the API and the export.
 */
import { ExportQueryError } from "./errors.js";
import type { InfluxQueryText } from "./influx-client.js";
import { measurementRef, quoteIdent, stringLiteral } from "./influxql.js";
import { MEASUREMENTS } from "./record-encoder.js";

export type RecordKind = "step" | "cycle";

/** The field a kind of record is paged by. */
const INDEX_FIELD: Record<RecordKind, string> = { step: "step_index", cycle: "cycle_index" };

export interface RunRecordsQuery {
  database: string;
  retentionPolicy?: string | undefined;
  bench: string;
  run: string;
  kind: RecordKind;
  /** Records with an index above this one (0: from the first). */
  after: number;
  limit: number;
  signal?: AbortSignal | undefined;
}

/** One record as InfluxDB holds it: `time` (epoch ms) and the measurement's fields by name. */
export type StoredRecord = Record<string, string | number | null>;

export async function queryRunRecords(query: InfluxQueryText, q: RunRecordsQuery): Promise<StoredRecord[]> {
  const index = INDEX_FIELD[q.kind];
  const text =
    `SELECT * FROM ${measurementRef(q.retentionPolicy, MEASUREMENTS[q.kind])} ` +
    `WHERE ${quoteIdent("bench")} = ${stringLiteral(q.bench)} AND ${quoteIdent("run")} = ${stringLiteral(q.run)} ` +
    `AND ${quoteIdent(index)} > ${Math.max(0, Math.floor(q.after))} ORDER BY time ASC LIMIT ${Math.max(1, Math.floor(q.limit))}`;
  let raw: { results?: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
  try {
    raw = JSON.parse(
      await query(text, { database: q.database, precision: "ms", ...(q.signal ? { signal: q.signal } : {}) }),
    ) as typeof raw;
  } catch (err) {
    throw new ExportQueryError(`reading the run's ${q.kind} records failed (${(err as Error).message})`, {
      cause: err,
    });
  }
  const result = raw.results?.[0];
  if (result?.error)
    throw new ExportQueryError(`reading the run's ${q.kind} records was refused (${result.error})`);
  const series = result?.series?.[0];
  if (!series) return [];
  return series.values.map((row) => {
    const record: StoredRecord = {};
    series.columns.forEach((column, i) => {
      const value = row[i];
      if (column === "bench" || column === "run" || column === "channel" || column === "cell") return;
      record[column] = typeof value === "number" || typeof value === "string" ? value : null;
    });
    return record;
  });
}
