/**
 * Schema management through node-influx (DESIGN §3): the database, a raw retention policy (default,
 * e.g. 90 d) and a long-term policy fed by continuous queries are created when missing. Idempotent:
 * running it again (every start-up, every "database not found") changes nothing unless the
 * configuration changed (a different raw duration is ALTERed). Benches sharing a database create the
 * same objects under the same names, so they must share the downsampling settings.
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
  /** Raw policy, written to, default of the database (default `raw`, 90d). */
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
const CQ_PREFIX = "cellbench_v1_";

/** Fills in defaults and checks durations. */
export function resolveSchema(database: string, options: SchemaOptions = {}): ResolvedSchema {
  const schema: ResolvedSchema = {
    database,
    raw: { name: options.raw?.name ?? "raw", duration: options.raw?.duration ?? "90d" },
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
      await influx.alterRetentionPolicy(schema.raw.name, {
        database: db,
        duration: schema.raw.duration,
        replication: raw.replicaN || 1,
        isDefault: true,
      });
      report.alteredPolicies.push(schema.raw.name);
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
      await influx.alterRetentionPolicy(schema.longTerm.name, {
        database: db,
        duration: schema.longTerm.duration,
        replication: longTerm.replicaN || 1,
        isDefault: false,
      });
      report.alteredPolicies.push(schema.longTerm.name);
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
