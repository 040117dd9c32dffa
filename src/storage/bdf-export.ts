/**
 * Export of one run as Battery Data Format (BDF) CSV, read back from InfluxDB page by page (keyset
 * paging on time, so a run of millions of rows streams in constant memory).
 *
 * Column names follow the Battery Data Alliance's BDF specification, v1.0.0 (2026-05-14),
 * https://github.com/battery-data-alliance/battery-data-format-ontology docs/pages/specification.rst
 * (term IRIs https://w3id.org/battery-data-alliance/ontology/battery-data-format#<notation>):
 *   Test Time / s (test_time_second), Unix Time / s (unix_time_second), Voltage / V (voltage_volt),
 *   Current / A (current_ampere), Power / W (power_watt), Cycle Count / 1 (cycle_count),
 *   Step Count / 1 (step_count: +1 at every step start, never resets — our step_index),
 *   Step Time / s (step_time_second), Charging Capacity / Ah (charging_capacity_ah),
 *   Discharging Capacity / Ah (discharging_capacity_ah), Charging Energy / Wh (charging_energy_wh),
 *   Discharging Energy / Wh (discharging_energy_wh) — all four cumulative from the test start, as
 *   ours are — Surface Temperature T1 / degC (temperature_t1_celsius: the cell's sensor) and
 *   Ambient Temperature / degC (ambient_temperature_celsius: the chamber air, when a chamber is given).
 * Current and power keep our sign (positive = charge), which is BDF's too (Q_chg integrates max(I, 0)).
 */
import type { Writable } from "node:stream";
import type { InfluxDB } from "influx";
import { ExportQueryError } from "./errors.js";
import { CELL_FIELDS, CHAMBER_FIELDS, MEASUREMENTS } from "./record-encoder.js";

/** Cell fields exported, in column order, with their BDF column names. */
const CELL_COLUMNS: readonly (readonly [field: string, column: string])[] = [
  [CELL_FIELDS.testTimeS, "Test Time / s"],
  ["time", "Unix Time / s"],
  [CELL_FIELDS.voltageV, "Voltage / V"],
  [CELL_FIELDS.currentA, "Current / A"],
  [CELL_FIELDS.powerW, "Power / W"],
  [CELL_FIELDS.cycleIndex, "Cycle Count / 1"],
  [CELL_FIELDS.stepIndex, "Step Count / 1"],
  [CELL_FIELDS.stepTimeS, "Step Time / s"],
  [CELL_FIELDS.chargeAh, "Charging Capacity / Ah"],
  [CELL_FIELDS.dischargeAh, "Discharging Capacity / Ah"],
  [CELL_FIELDS.chargeWh, "Charging Energy / Wh"],
  [CELL_FIELDS.dischargeWh, "Discharging Energy / Wh"],
  [CELL_FIELDS.temperatureC, "Surface Temperature T1 / degC"],
];
export const AMBIENT_COLUMN = "Ambient Temperature / degC";

/** Returns the CSV header columns for an export (with the ambient column when a chamber is given). */
export function bdfColumns(withAmbient: boolean): string[] {
  const columns = CELL_COLUMNS.map(([, column]) => column);
  return withAmbient ? [...columns, AMBIENT_COLUMN] : columns;
}

export interface BdfExportOptions {
  database: string;
  bench: string;
  run: string;
  /** Chamber whose air temperature fills `Ambient Temperature / degC` (latest reading at or before each row). */
  chamber?: string;
  /** A chamber reading older than this is not used (default 600 s). */
  ambientMaxAgeS?: number;
  /** Retention policy to read (default: the database's default policy). */
  retentionPolicy?: string;
  /** Rows per query (default 10,000). */
  pageSize?: number;
  signal?: AbortSignal;
}

interface Page {
  columns: string[];
  values: unknown[][];
}

/**
 * Yields the CSV text of a run: the header line first, then one chunk per page. Rows are in time
 * order; an empty run yields the header only.
 */
export async function* bdfCsvChunks(influx: InfluxDB, options: BdfExportOptions): AsyncGenerator<string> {
  const withAmbient = options.chamber !== undefined;
  yield `${bdfColumns(withAmbient).map(csvField).join(",")}\n`;
  const pageSize = options.pageSize ?? 10_000;
  const from = measurementRef(options.retentionPolicy, MEASUREMENTS.cell);
  const fields = CELL_COLUMNS.filter(([field]) => field !== "time").map(([field]) => quoteIdent(field));
  const where = `${quoteIdent("bench")} = ${stringLiteral(options.bench)} AND ${quoteIdent("run")} = ${stringLiteral(options.run)}`;
  const cellPages = pagedRows(
    influx,
    options,
    (timeCondition) => {
      const conditions = timeCondition ? `${where} AND ${timeCondition}` : where;
      return `SELECT ${fields.join(", ")} FROM ${from} WHERE ${conditions}`;
    },
    pageSize,
  );

  let ambient: AsOfReader | undefined;
  for await (const page of cellPages) {
    const index = CELL_COLUMNS.map(([field]) => page.columns.indexOf(field));
    if (withAmbient && !ambient) {
      const firstTime = Number(page.values[0]?.[0] ?? 0);
      ambient = new AsOfReader(influx, options, firstTime, pageSize);
    }
    let chunk = "";
    for (const row of page.values) {
      const t = Number(row[0]);
      let line = "";
      for (let i = 0; i < index.length; i++) {
        const col = index[i] as number;
        const value = CELL_COLUMNS[i]?.[0] === "time" ? t / 1000 : row[col];
        line += `${i === 0 ? "" : ","}${csvValue(value)}`;
      }
      if (ambient) line += `,${csvValue(await ambient.valueAt(t))}`;
      chunk += `${line}\n`;
    }
    yield chunk;
  }
}

/** Streams a run's BDF CSV into `out`, honouring back-pressure. Resolves with the number of data rows. */
export async function writeBdfCsv(
  influx: InfluxDB,
  options: BdfExportOptions,
  out: Writable,
): Promise<{ rows: number }> {
  let rows = -1;
  for await (const chunk of bdfCsvChunks(influx, options)) {
    rows += countLines(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  return { rows: Math.max(0, rows) };
}

/**
 * Runs `build(timeCondition)` + ORDER BY time LIMIT n repeatedly, each page starting at the last
 * page's final timestamp; rows sharing that timestamp that were already yielded are skipped, so
 * points of several series with equal timestamps are neither lost nor repeated.
 */
async function* pagedRows(
  influx: InfluxDB,
  options: BdfExportOptions,
  build: (timeCondition: string | undefined) => string,
  pageSize: number,
): AsyncGenerator<Page> {
  let lastTime: number | undefined;
  let seenAtLastTime = 0;
  let limit = pageSize;
  for (;;) {
    if (options.signal?.aborted) throw new ExportQueryError("export aborted");
    const timeCondition = lastTime === undefined ? undefined : `time >= ${lastTime}ms`;
    const page = await queryPage(influx, options, `${build(timeCondition)} ORDER BY time ASC LIMIT ${limit}`);
    if (!page || page.values.length === 0) return;
    const fresh =
      lastTime === undefined
        ? page.values
        : page.values.filter((row, i) => !(Number(row[0]) === lastTime && i < seenAtLastTime));
    const full = page.values.length >= limit;
    if (fresh.length === 0) {
      if (!full) return;
      limit *= 2; // a whole page shares one timestamp: widen the page rather than loop
      continue;
    }
    limit = pageSize;
    const newLast = Number(fresh[fresh.length - 1]?.[0]);
    const sameAsLast = fresh.filter((row) => Number(row[0]) === newLast).length;
    seenAtLastTime = newLast === lastTime ? seenAtLastTime + sameAsLast : sameAsLast;
    lastTime = newLast;
    yield { columns: page.columns, values: fresh };
    if (!full) return;
  }
}

async function queryPage(
  influx: InfluxDB,
  options: BdfExportOptions,
  query: string,
): Promise<Page | undefined> {
  let raw: { results?: { series?: Page[]; error?: string }[] };
  try {
    raw = (await influx.queryRaw(query, { database: options.database, precision: "ms" })) as typeof raw;
  } catch (err) {
    throw new ExportQueryError(`export query failed (${(err as Error).message}): ${query}`, { cause: err });
  }
  const result = raw.results?.[0];
  if (result?.error) throw new ExportQueryError(`export query refused (${result.error}): ${query}`);
  return result?.series?.[0];
}

/** Latest chamber temperature at or before a time, read lazily in time order. */
class AsOfReader {
  private readonly rows: AsyncGenerator<Page>;
  private buffer: unknown[][] = [];
  private position = 0;
  private exhausted = false;
  private current: { t: number; value: unknown } | undefined;
  private readonly maxAgeMs: number;

  constructor(influx: InfluxDB, options: BdfExportOptions, firstTimeMs: number, pageSize: number) {
    this.maxAgeMs = (options.ambientMaxAgeS ?? 600) * 1000;
    const from = measurementRef(options.retentionPolicy, MEASUREMENTS.chamber);
    const where =
      `${quoteIdent("bench")} = ${stringLiteral(options.bench)} AND ` +
      `${quoteIdent("chamber")} = ${stringLiteral(options.chamber ?? "")}`;
    const start = `time >= ${Math.floor(firstTimeMs - this.maxAgeMs)}ms`;
    this.rows = pagedRows(
      influx,
      options,
      (timeCondition) =>
        `SELECT ${quoteIdent(CHAMBER_FIELDS.temperatureC)} FROM ${from} WHERE ${where} AND ${timeCondition ?? start}`,
      pageSize,
    );
  }

  async valueAt(t: number): Promise<unknown> {
    for (;;) {
      if (this.position >= this.buffer.length) {
        if (this.exhausted) break;
        const next = await this.rows.next();
        if (next.done) {
          this.exhausted = true;
          break;
        }
        this.buffer = next.value.values;
        this.position = 0;
        continue;
      }
      const row = this.buffer[this.position] as unknown[];
      const rowTime = Number(row[0]);
      if (rowTime > t) break;
      if (row[1] !== null && row[1] !== undefined) this.current = { t: rowTime, value: row[1] };
      this.position++;
    }
    if (!this.current || t - this.current.t > this.maxAgeMs) return null;
    return this.current.value;
  }
}

function measurementRef(retentionPolicy: string | undefined, measurement: string): string {
  return retentionPolicy
    ? `${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`
    : quoteIdent(measurement);
}

function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function csvValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  return csvField(String(value));
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", i + 1)) n++;
  return n;
}
