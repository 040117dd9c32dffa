/**
 * Schema management through node-influx (DESIGN §3): the database, a raw retention policy (kept
 * forever unless configured otherwise) and a long-term policy fed by continuous queries are created
 * when missing. Idempotent: running it again (every start-up, every "database not found") changes
 * nothing unless the configuration changed (a different raw duration is ALTERed, and reported with
 * its old and new duration). Benches sharing a database create the same objects under the same
 * names, so they must share the retention and downsampling settings.
 *
 * Continuous queries only see data that has arrived when they run, and the outbox may deliver hours
 * late after an outage. `backfillDownsample` re-runs the same SELECT ... INTO over a time range; the
 * storage layer calls it when a late backlog has drained.
 */
import type { InfluxDB } from "influx";
import { InfluxSchemaError } from "./errors.js";
import { serverAnswered } from "./influx-client.js";
import {
  CELL_FIELDS,
  CHAMBER_FIELDS,
  CYCLE_FIELDS,
  MEASUREMENTS,
  RUN_EVENT_FIELDS,
} from "./record-encoder.js";

export interface SchemaOptions {
  /** Raw policy, written to, default of the database (default `raw`, INF: kept forever). */
  raw?: { name?: string; duration?: string };
  /** Long-term policy the continuous queries write to (default `long_term`, INF). */
  longTerm?: { name?: string; duration?: string };
  /** Downsampling interval of `cell`, `chamber` and `cycle` (default 1m). */
  every?: string;
  /** Bucket for `run_event`, small so that distinct events stay distinct (default 1s). */
  eventEvery?: string;
}

export interface ResolvedSchema {
  database: string;
  raw: { name: string; duration: string };
  longTerm: { name: string; duration: string };
  every: string;
  eventEvery: string;
}

/** What `ensureSchema` did; all empty when everything already existed. */
export interface SchemaReport {
  createdDatabase: boolean;
  createdPolicies: string[];
  alteredPolicies: string[];
  /** The durations altered policies had and have now, as InfluxDB prints them ("2160h0m0s", "INF"). */
  durationChanges: { policy: string; from: string; to: string }[];
  createdQueries: string[];
  /** cellbench continuous queries found that the current settings do not define (left alone). */
  staleQueries: string[];
}

export interface DownsampleQuery {
  name: string;
  measurement: string;
  /** SELECT ... INTO ... FROM ... (no GROUP BY). */
  select: string;
  every: string;
  /** The CREATE CONTINUOUS QUERY resample clause. */
  resample: string;
}

const DURATION = /^(INF|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$/;
/** Raw data is kept forever unless the configuration says otherwise (a test of 1,000 cycles runs 105 days). */
export const DEFAULT_RAW_RETENTION = "INF";
/** InfluxDB refuses retention policies shorter than an hour. */
const MIN_RETENTION_MS = 3_600_000;

/**
 * Checks a configured retention duration: "inf" (any case: kept forever) or an InfluxQL duration
 * of at least 1h such as "400d", "52w", "2160h". Returns it as InfluxQL ("INF", "400d"); throws
 * InfluxSchemaError saying what to write.
 */
export function parseRetention(text: string, where: string): string {
  if (/^inf$/i.test(text.trim())) return DEFAULT_RAW_RETENTION;
  const hint = `write "inf" to keep the data forever, or a duration of at least 1h such as "400d", "52w" or "2160h" (units w, d, h, m, s)`;
  if (!/^(\d+(w|d|h|m|s))+$/.test(text))
    throw new InfluxSchemaError(`${where}: ${JSON.stringify(text)} is not a retention duration; ${hint}`);
  if (durationMs(text) < MIN_RETENTION_MS)
    throw new InfluxSchemaError(`${where}: ${JSON.stringify(text)} is shorter than InfluxDB allows; ${hint}`);
  return text;
}
const CQ_PREFIX = "cellbench_v1_";

/** Fills in defaults and checks durations. */
export function resolveSchema(database: string, options: SchemaOptions = {}): ResolvedSchema {
  const schema: ResolvedSchema = {
    database,
    raw: { name: options.raw?.name ?? "raw", duration: options.raw?.duration ?? DEFAULT_RAW_RETENTION },
    longTerm: { name: options.longTerm?.name ?? "long_term", duration: options.longTerm?.duration ?? "INF" },
    every: options.every ?? "1m",
    eventEvery: options.eventEvery ?? "1s",
  };
  for (const [what, value] of [
    ["raw.duration", schema.raw.duration],
    ["longTerm.duration", schema.longTerm.duration],
    ["every", schema.every],
    ["eventEvery", schema.eventEvery],
  ] as const) {
    if (!DURATION.test(value))
      throw new InfluxSchemaError(
        `schema ${what} ${JSON.stringify(value)} is not an InfluxQL duration (e.g. 90d, 1m)`,
      );
  }
  if (durationMs(schema.every) <= 0 || durationMs(schema.eventEvery) <= 0)
    throw new InfluxSchemaError("schema every/eventEvery must be positive durations");
  if (schema.raw.name === schema.longTerm.name)
    throw new InfluxSchemaError("schema raw and longTerm policies need different names");
  return schema;
}

/** Returns the continuous queries that downsample raw data into the long-term policy. */
export function downsampleQueries(schema: ResolvedSchema): DownsampleQuery[] {
  const db = quote(schema.database);
  const from = (m: string) => `${db}.${quote(schema.raw.name)}.${quote(m)}`;
  const into = (m: string) => `${db}.${quote(schema.longTerm.name)}.${quote(m)}`;
  const sel = (fn: string, field: string, as = field) => `${fn}(${quote(field)}) AS ${quote(as)}`;
  const c = CELL_FIELDS;
  const cell = [
    sel("mean", c.voltageV),
    sel("min", c.voltageV, "voltage_min_v"),
    sel("max", c.voltageV, "voltage_max_v"),
    sel("mean", c.currentA),
    sel("mean", c.temperatureC),
    sel("max", c.temperatureC, "temperature_max_c"),
    sel("mean", c.powerW),
    ...[c.chargeAh, c.dischargeAh, c.chargeWh, c.dischargeWh, c.testTimeS, c.stepIndex, c.cycleIndex].map(
      (f) => sel("last", f),
    ),
  ];
  const chamber = [
    sel("mean", CHAMBER_FIELDS.temperatureC),
    sel("last", CHAMBER_FIELDS.setpointC),
    sel("mean", CHAMBER_FIELDS.outputPct),
  ];
  const cycle = Object.values(CYCLE_FIELDS).map((f) => sel("last", f));
  const runEvent = Object.values(RUN_EVENT_FIELDS).map((f) => sel("last", f));
  const runEvery = (every: string) => (durationMs(every) >= durationMs(schema.every) ? every : schema.every);
  const make = (measurement: string, fields: string[], every: string): DownsampleQuery => ({
    name: `${CQ_PREFIX}${measurement}_${every}`,
    measurement,
    select: `SELECT ${fields.join(", ")} INTO ${into(measurement)} FROM ${from(measurement)}`,
    every,
    // Runs at least every `schema.every` and recomputes the previous run's window too: points committed
    // just before a boundary reach InfluxDB a moment after it.
    resample: `RESAMPLE EVERY ${runEvery(every)} FOR ${2 * durationMs(runEvery(every))}ms`,
  });
  return [
    make(MEASUREMENTS.cell, cell, schema.every),
    make(MEASUREMENTS.chamber, chamber, schema.every),
    make(MEASUREMENTS.cycle, cycle, schema.every),
    make(MEASUREMENTS.runEvent, runEvent, schema.eventEvery),
  ];
}

/**
 * Creates the database, policies and continuous queries that are missing. Errors are
 * InfluxSchemaError with `serverAnswered` telling an unreachable server from a refusal.
 */
export async function ensureSchema(influx: InfluxDB, schema: ResolvedSchema): Promise<SchemaReport> {
  const report: SchemaReport = {
    createdDatabase: false,
    createdPolicies: [],
    alteredPolicies: [],
    durationChanges: [],
    createdQueries: [],
    staleQueries: [],
  };
  const db = schema.database;
  await step("list databases", async () => {
    const names = await influx.getDatabaseNames();
    if (!names.includes(db)) {
      await influx.createDatabase(db);
      report.createdDatabase = true;
    }
  });
  await step("check retention policies", async () => {
    const policies = await influx.showRetentionPolicies(db);
    const find = (name: string) => policies.find((p) => p.name === name);
    const raw = find(schema.raw.name);
    if (!raw) {
      await influx.createRetentionPolicy(schema.raw.name, {
        database: db,
        duration: schema.raw.duration,
        replication: 1,
        isDefault: true,
      });
      report.createdPolicies.push(schema.raw.name);
    } else if (durationMs(raw.duration) !== durationMs(schema.raw.duration) || !raw.default) {
      await alterPolicy(influx, db, raw, schema.raw.duration, true);
      report.alteredPolicies.push(schema.raw.name);
      if (durationMs(raw.duration) !== durationMs(schema.raw.duration))
        report.durationChanges.push({
          policy: schema.raw.name,
          from: printedDuration(raw.duration),
          to: schema.raw.duration,
        });
    }
    const longTerm = find(schema.longTerm.name);
    if (!longTerm) {
      await influx.createRetentionPolicy(schema.longTerm.name, {
        database: db,
        duration: schema.longTerm.duration,
        replication: 1,
        isDefault: false,
      });
      report.createdPolicies.push(schema.longTerm.name);
    } else if (durationMs(longTerm.duration) !== durationMs(schema.longTerm.duration)) {
      await alterPolicy(influx, db, longTerm, schema.longTerm.duration, false);
      report.alteredPolicies.push(schema.longTerm.name);
      report.durationChanges.push({
        policy: schema.longTerm.name,
        from: printedDuration(longTerm.duration),
        to: schema.longTerm.duration,
      });
    }
  });
  await step("check continuous queries", async () => {
    const existing = await continuousQueryNames(influx, db);
    const wanted = downsampleQueries(schema);
    for (const q of wanted) {
      if (existing.includes(q.name)) continue;
      await influx.createContinuousQuery(q.name, `${q.select} GROUP BY time(${q.every}), *`, db, q.resample);
      report.createdQueries.push(q.name);
    }
    const wantedNames = new Set(wanted.map((q) => q.name));
    report.staleQueries = existing.filter((n) => n.startsWith(CQ_PREFIX) && !wantedNames.has(n));
  });
  return report;
}

/**
 * Runs the downsampling SELECT ... INTO statements over [fromMs, toMs) (aligned outward to the
 * buckets), for data that arrived after its continuous query had run. Idempotent.
 */
export async function backfillDownsample(
  influx: InfluxDB,
  schema: ResolvedSchema,
  fromMs: number,
  toMs: number,
): Promise<void> {
  for (const q of downsampleQueries(schema)) {
    const bucket = durationMs(q.every);
    const start = Math.floor(fromMs / bucket) * bucket;
    const end = Math.ceil(toMs / bucket) * bucket;
    await step(`backfill ${q.measurement}`, () =>
      influx.query(`${q.select} WHERE time >= ${start}ms AND time < ${end}ms GROUP BY time(${q.every}), *`, {
        database: schema.database,
      }),
    );
  }
}

interface ExistingPolicy {
  name: string;
  duration: string;
  shardGroupDuration: string;
  replicaN: number;
}

/**
 * ALTERs a policy's duration (and default flag). InfluxDB refuses a duration shorter than the
 * policy's shard group duration (7 days for an INF policy), so that shrinks too when it must, to
 * what InfluxDB picks for a new policy of the duration.
 */
async function alterPolicy(
  influx: InfluxDB,
  database: string,
  policy: ExistingPolicy,
  duration: string,
  isDefault: boolean,
): Promise<void> {
  const ms = durationMs(duration);
  const shardMs = durationMs(policy.shardGroupDuration);
  const shard =
    ms > 0 && shardMs > ms
      ? ` SHARD DURATION ${ms < 2 * 86_400_000 ? "1h" : ms <= 180 * 86_400_000 ? "1d" : "7d"}`
      : "";
  await influx.query(
    `ALTER RETENTION POLICY ${quote(policy.name)} ON ${quote(database)} DURATION ${duration} REPLICATION ${policy.replicaN || 1}${shard}${isDefault ? " DEFAULT" : ""}`,
    { database, method: "POST" },
  );
}

/** InfluxDB prints an infinite duration as "0s". */
function printedDuration(duration: string): string {
  return durationMs(duration) === 0 ? "INF" : duration;
}

async function continuousQueryNames(influx: InfluxDB, database: string): Promise<string[]> {
  const raw = (await influx.queryRaw("SHOW CONTINUOUS QUERIES")) as {
    results?: { series?: { name: string; columns: string[]; values?: unknown[][] }[]; error?: string }[];
  };
  const series = raw.results?.[0]?.series?.find((s) => s.name === database);
  if (!series?.values) return [];
  const nameIndex = series.columns.indexOf("name");
  return series.values.map((row) => String(row[nameIndex]));
}

async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    throw new InfluxSchemaError(`InfluxDB schema: ${what} failed: ${(err as Error).message}`, {
      cause: err,
      serverAnswered: serverAnswered(err),
    });
  }
}

/** Parses an InfluxQL duration ("90d", "2160h0m0s", "INF", "0s" = infinite) into ms; INF is 0. */
export function durationMs(text: string): number {
  if (text === "INF") return 0;
  const units: Record<string, number> = {
    ns: 1e-6,
    u: 1e-3,
    µ: 1e-3,
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
  };
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ns|u|µ|ms|s|m|h|d|w)/g))
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
  return total;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
