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
 *   Step ID / 1 (step_id: the step's number in the test program, repeating across cycles — our
 *   step record's step_id) and Step Type / 1 (step_type: the step's operating mode, a label; BDF has
 *   no controlled vocabulary for it yet — ours are `rest`, `cc_charge`, `cccv_charge`, `cv`, ...),
 *   both from the run's `step` records, so the step still running when the export is made has none,
 *   Step Time / s (step_time_second), Charging Capacity / Ah (charging_capacity_ah),
 *   Discharging Capacity / Ah (discharging_capacity_ah), Charging Energy / Wh (charging_energy_wh),
 *   Discharging Energy / Wh (discharging_energy_wh) — all four cumulative from the test start, as
 *   ours are — Surface Temperature T1 / degC (temperature_t1_celsius: the cell's sensor) and
 *   Ambient Temperature / degC (ambient_temperature_celsius: the chamber air, when a chamber is given).
 * Current and power keep our sign (positive = charge), which is BDF's too (Q_chg integrates max(I, 0)).
 *
 * In the daemon an export shares the event loop with the sampling loop, so its CPU comes in bounded
 * slices: a page is at most `pageSize` rows (parsed in one slice), formatted `sliceRows` rows at a
 * time, and every slice of every export waits for its own turn of the event loop (`exportTurn`), so
 * timers (the sampling ticks) run between any two slices however many exports are in progress. The
 * generator is pulled, never pushed: a consumer that stops reading stops the queries.
 */
import type { Writable } from "node:stream";
import type { InfluxDB } from "influx";
import { ExportQueryError } from "./errors.js";
import {
  type DownsampledSource,
  type ExportPlan,
  type ExportSegment,
  exportSegments,
  planExport,
  SOURCE_COLUMN,
} from "./export-source.js";
import type { InfluxQueryText } from "./influx-client.js";
import { measurementRef, quoteIdent, stringLiteral } from "./influxql.js";
import { CELL_FIELDS, CHAMBER_FIELDS, MEASUREMENTS, STEP_FIELDS } from "./record-encoder.js";

/** Columns filled from the run's step records, by its step index, not from the cell samples. */
const FROM_STEPS: ReadonlySet<string> = new Set([STEP_FIELDS.stepId, STEP_FIELDS.type]);

/** Cell fields exported, in column order, with their BDF column names. */
const CELL_COLUMNS: readonly (readonly [field: string, column: string])[] = [
  [CELL_FIELDS.testTimeS, "Test Time / s"],
  ["time", "Unix Time / s"],
  [CELL_FIELDS.voltageV, "Voltage / V"],
  [CELL_FIELDS.currentA, "Current / A"],
  [CELL_FIELDS.powerW, "Power / W"],
  [CELL_FIELDS.cycleIndex, "Cycle Count / 1"],
  [CELL_FIELDS.stepIndex, "Step Count / 1"],
  [STEP_FIELDS.stepId, "Step ID / 1"],
  [STEP_FIELDS.type, "Step Type / 1"],
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
  /**
   * The long-term policy: rows whose raw points have expired are read from it, and the export
   * then has a last column, Data Source, on every row (export-source.ts). Absent: raw only.
   */
  downsampled?: DownsampledSource;
  /** Told what the export reads, before the header is yielded. */
  onPlan?: (plan: ExportPlan) => void;
  /** Rows per query (default 2,000: about 350 kB of JSON, parsed in one slice of about 1 ms). */
  pageSize?: number;
  /** Rows formatted per slice of the event loop, and per yielded chunk (default 500). */
  sliceRows?: number;
  /** Aborts the export: the query in flight is cancelled and the generator throws ExportQueryError. */
  signal?: AbortSignal;
}

/** Default rows per InfluxDB query of an export. */
export const EXPORT_PAGE_ROWS = 2_000;
/** Default rows formatted per slice of the event loop. */
export const EXPORT_SLICE_ROWS = 250;

/**
 * Where an export reads from: a node-influx client (the CLI; not abortable) or an abortable query
 * function from `createInfluxQuery` (the daemon), whose body the export parses in its own slice.
 */
export type ExportSource = InfluxDB | InfluxQueryText;

/**
 * InfluxDB queries of all exports in flight at once. Each page costs InfluxDB tens of ms of CPU, so
 * exports one after another leave it (and the daemon beside it) the rest of the machine.
 */
export const EXPORT_QUERIES_AT_ONCE = 1;

let queriesRunning = 0;
const queryWaiters: (() => void)[] = [];

/** Runs `query` when fewer than EXPORT_QUERIES_AT_ONCE export queries are in flight (FIFO). */
async function inQuerySlot<T>(query: () => Promise<T>): Promise<T> {
  if (queriesRunning < EXPORT_QUERIES_AT_ONCE) queriesRunning++;
  else await new Promise<void>((resolve) => queryWaiters.push(resolve)); // the slot is handed over
  try {
    return await query();
  } finally {
    const next = queryWaiters.shift();
    if (next) next();
    else queriesRunning--;
  }
}

/** Share of the event loop's time that all exports together may take (the rest is left idle for it). */
export const EXPORT_LOOP_SHARE = 0.5;

const turns: (() => void)[] = [];
let turnScheduled = false;
/** Until when (performance.now) no export may start a slice, to keep exports within their share. */
let idleUntil = 0;

/**
 * Resolves in a later turn of the event loop, one waiter per turn across every export in the
 * process (first come, first served): each slice of export work runs alone in its turn, with the
 * timers and I/O of the rest of the daemon between any two slices. After a slice of `ms` (see
 * `exportSliceDone`) the next turn waits so that exports take at most EXPORT_LOOP_SHARE of the time.
 */
export function exportTurn(): Promise<void> {
  return new Promise((resolve) => {
    turns.push(resolve);
    if (!turnScheduled) {
      turnScheduled = true;
      scheduleTurn();
    }
  });
}

/** Reports the time a slice of export work took, ms: the next slice starts after a fair idle time. */
export function exportSliceDone(ms: number): void {
  idleUntil = Math.max(idleUntil, performance.now()) + (ms * (1 - EXPORT_LOOP_SHARE)) / EXPORT_LOOP_SHARE;
}

function scheduleTurn(): void {
  const wait = idleUntil - performance.now();
  if (wait >= 1) setTimeout(nextTurn, Math.ceil(wait));
  else setImmediate(nextTurn);
}

function nextTurn(): void {
  const resolve = turns.shift();
  if (turns.length > 0) setImmediate(scheduleTurn);
  else turnScheduled = false;
  resolve?.();
}

interface Page {
  columns: string[];
  values: unknown[][];
}

/**
 * Yields the CSV text of a run: the header line first, then one chunk per page. Rows are in time
 * order; an empty run yields the header only.
 */
export async function* bdfCsvChunks(influx: ExportSource, options: BdfExportOptions): AsyncGenerator<string> {
  let segments: ExportSegment[] = [{ retentionPolicy: options.retentionPolicy }];
  if (options.downsampled) {
    const raw = await firstCellTime(influx, options, options.retentionPolicy);
    const downsampled = await firstCellTime(influx, options, options.downsampled.retentionPolicy);
    const plan = planExport(raw, downsampled, options.downsampled);
    options.onPlan?.(plan);
    segments = exportSegments(plan, options.retentionPolicy, options.downsampled);
  }
  const columns = bdfColumns(options.chamber !== undefined);
  if (segments.some((s) => s.label !== undefined)) columns.push(SOURCE_COLUMN);
  yield `${columns.map(csvField).join(",")}\n`;
  // Step records are kept where the run's raw points are written (they are not downsampled).
  const steps = await stepLookup(influx, options, Math.max(1, options.pageSize ?? EXPORT_PAGE_ROWS));
  for (const segment of segments)
    yield* segmentChunks(influx, { ...options, retentionPolicy: segment.retentionPolicy }, segment, steps);
}

/** Time (ms) of the run's first cell point in a policy, or undefined when it has none. */
async function firstCellTime(
  influx: ExportSource,
  options: BdfExportOptions,
  retentionPolicy: string | undefined,
): Promise<number | undefined> {
  const page = await queryPage(
    influx,
    options,
    `SELECT ${quoteIdent(CELL_FIELDS.voltageV)} FROM ${measurementRef(retentionPolicy, MEASUREMENTS.cell)} WHERE ${runCondition(options)} ORDER BY time ASC LIMIT 1`,
  );
  const first = page?.values[0];
  return first ? Number(first[0]) : undefined;
}

function runCondition(options: BdfExportOptions): string {
  return `${quoteIdent("bench")} = ${stringLiteral(options.bench)} AND ${quoteIdent("run")} = ${stringLiteral(options.run)}`;
}

/** The rows of one segment (one retention policy) of an export, without the header. */
async function* segmentChunks(
  influx: ExportSource,
  options: BdfExportOptions,
  segment: ExportSegment,
  steps: StepLookup,
): AsyncGenerator<string> {
  const withAmbient = options.chamber !== undefined;
  const pageSize = Math.max(1, options.pageSize ?? EXPORT_PAGE_ROWS);
  const sliceRows = Math.max(1, options.sliceRows ?? EXPORT_SLICE_ROWS);
  const from = measurementRef(options.retentionPolicy, MEASUREMENTS.cell);
  const fields = CELL_COLUMNS.filter(([field]) => field !== "time" && !FROM_STEPS.has(field)).map(([field]) =>
    quoteIdent(field),
  );
  const before = segment.beforeMs === undefined ? "" : ` AND time < ${segment.beforeMs}ms`;
  const where = `${runCondition(options)}${before}`;
  const suffix = segment.label === undefined ? "" : `,${csvField(segment.label)}`;
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
    const stepIndexAt = page.columns.indexOf(CELL_FIELDS.stepIndex);
    if (withAmbient && !ambient) {
      const firstTime = Number(page.values[0]?.[0] ?? 0);
      ambient = new AsOfReader(influx, options, firstTime, pageSize);
    }
    for (let start = 0; start < page.values.length; start += sliceRows) {
      await exportTurn();
      if (options.signal?.aborted) throw new ExportQueryError("export aborted");
      const began = performance.now();
      let chunk = "";
      const end = Math.min(page.values.length, start + sliceRows);
      for (let r = start; r < end; r++) {
        const row = page.values[r] as unknown[];
        const t = Number(row[0]);
        let line = "";
        for (let i = 0; i < index.length; i++) {
          const col = index[i] as number;
          const field = CELL_COLUMNS[i]?.[0];
          const value =
            field === "time"
              ? t / 1000
              : field !== undefined && FROM_STEPS.has(field)
                ? steps.get(Number(row[stepIndexAt]))?.[field === STEP_FIELDS.stepId ? 0 : 1]
                : row[col];
          line += `${i === 0 ? "" : ","}${csvValue(value)}`;
        }
        if (ambient) line += `,${csvValue(await ambient.valueAt(t))}`;
        chunk += `${line}${suffix}\n`;
      }
      exportSliceDone(performance.now() - began);
      yield chunk;
    }
  }
}

/** Streams a run's BDF CSV into `out`, honouring back-pressure. Resolves with the number of data rows. */
export async function writeBdfCsv(
  influx: ExportSource,
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
  influx: ExportSource,
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
  influx: ExportSource,
  options: BdfExportOptions,
  query: string,
): Promise<Page | undefined> {
  let raw: { results?: { series?: Page[]; error?: string }[] };
  try {
    if (typeof influx === "function") {
      const text = await inQuerySlot(() =>
        influx(query, {
          database: options.database,
          precision: "ms",
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      await exportTurn(); // parsing a page is a slice of its own
      const began = performance.now();
      raw = JSON.parse(text) as typeof raw;
      exportSliceDone(performance.now() - began);
    } else {
      raw = (await inQuerySlot(() =>
        influx.queryRaw(query, { database: options.database, precision: "ms" }),
      )) as typeof raw;
    }
  } catch (err) {
    if (options.signal?.aborted) throw new ExportQueryError("export aborted", { cause: err });
    throw new ExportQueryError(`export query failed (${(err as Error).message}): ${query}`, { cause: err });
  }
  const result = raw.results?.[0];
  if (result?.error) throw new ExportQueryError(`export query refused (${result.error}): ${query}`);
  return result?.series?.[0];
}

type StepLookup = Map<number, [id: unknown, type: unknown]>;

/**
 * Step ID and Step Type of every completed step of the run, by step index. One entry per step
 * (a few tens of bytes): a 1000-cycle test of 10 steps each holds 10,000.
 */
async function stepLookup(
  influx: ExportSource,
  options: BdfExportOptions,
  pageSize: number,
): Promise<StepLookup> {
  const lookup = new Map<number, [unknown, unknown]>();
  const from = measurementRef(options.retentionPolicy, MEASUREMENTS.step);
  const where = `${quoteIdent("bench")} = ${stringLiteral(options.bench)} AND ${quoteIdent("run")} = ${stringLiteral(options.run)}`;
  const select = [STEP_FIELDS.stepIndex, STEP_FIELDS.stepId, STEP_FIELDS.type].map(quoteIdent).join(", ");
  const pages = pagedRows(
    influx,
    options,
    (timeCondition) =>
      `SELECT ${select} FROM ${from} WHERE ${timeCondition ? `${where} AND ${timeCondition}` : where}`,
    pageSize,
  );
  for await (const page of pages) {
    const [at, id, type] = [STEP_FIELDS.stepIndex, STEP_FIELDS.stepId, STEP_FIELDS.type].map((f) =>
      page.columns.indexOf(f),
    ) as [number, number, number];
    for (const row of page.values) lookup.set(Number(row[at]), [row[id], row[type]]);
  }
  return lookup;
}

/** Latest chamber temperature at or before a time, read lazily in time order. */
class AsOfReader {
  private readonly rows: AsyncGenerator<Page>;
  private buffer: unknown[][] = [];
  private position = 0;
  private exhausted = false;
  private current: { t: number; value: unknown } | undefined;
  private readonly maxAgeMs: number;

  constructor(influx: ExportSource, options: BdfExportOptions, firstTimeMs: number, pageSize: number) {
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
