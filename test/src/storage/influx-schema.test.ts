import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfluxSchemaError } from "../../../src/storage/errors.js";
import { createInfluxClient } from "../../../src/storage/influx-client.js";
import {
  backfillDownsample,
  downsampleQueries,
  durationMs,
  ensureSchema,
  parseRetention,
  resolveSchema,
} from "../../../src/storage/influx-schema.js";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { Storage } from "../../../src/storage/storage.js";
import { freePort, type Influxd, startInfluxd } from "../../support/influxd.js";

type Series = { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> };

describe("schema helpers", () => {
  it("parses InfluxQL durations as InfluxDB prints them", () => {
    expect(durationMs("90d")).toBe(durationMs("2160h0m0s"));
    expect(durationMs("1m")).toBe(60_000);
    expect(durationMs("INF")).toBe(0);
    expect(durationMs("0s")).toBe(0);
  });

  it("refuses durations that are not InfluxQL", () => {
    expect(() => resolveSchema("db", { raw: { duration: "90 days" } })).toThrow(/raw.duration/);
  });

  it("downsamples cell, chamber and cycle per `every` and run events per second", () => {
    const queries = downsampleQueries(resolveSchema("db"));
    expect(queries.map((q) => [q.measurement, q.every])).toEqual([
      ["cell", "1m"],
      ["chamber", "1m"],
      ["cycle", "1m"],
      ["run_event", "1s"],
    ]);
    expect(queries[3]?.resample).toBe("RESAMPLE EVERY 1m FOR 120000ms");
  });
});

describe("ensureSchema against a real influxd", () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  async function policies(db: string): Promise<Record<string, unknown>[]> {
    const json = (await influxd.query(`SHOW RETENTION POLICIES ON "${db}"`)) as {
      results: { series: Series[] }[];
    };
    const s = json.results[0]?.series[0] as Series;
    return s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]])));
  }

  it("creates database, raw (default) and long-term policies and continuous queries once; a restart changes nothing", async () => {
    const influx = createInfluxClient({ url: influxd.url, database: "schema1" });
    const schema = resolveSchema("schema1");
    const first = await ensureSchema(influx, schema);
    expect(first).toEqual({
      createdDatabase: true,
      createdPolicies: ["raw", "long_term"],
      alteredPolicies: [],
      durationChanges: [],
      createdQueries: downsampleQueries(schema).map((q) => q.name),
      staleQueries: [],
    });
    const rps = await policies("schema1");
    // Raw points are kept forever unless the configuration says otherwise (InfluxDB prints INF as 0s).
    expect(rps.find((p) => p.name === "raw")).toMatchObject({ duration: "0s", default: true });
    expect(rps.find((p) => p.name === "long_term")).toMatchObject({ duration: "0s", default: false });
    const nothing = {
      createdDatabase: false,
      createdPolicies: [],
      alteredPolicies: [],
      durationChanges: [],
      createdQueries: [],
      staleQueries: [],
    };
    expect(await ensureSchema(influx, schema)).toEqual(nothing);
    await influxd.restart();
    expect(await ensureSchema(createInfluxClient({ url: influxd.url, database: "schema1" }), schema)).toEqual(
      nothing,
    );
  });

  it("alters the raw policy when its configured duration changes, and reports continuous queries of old settings", async () => {
    const influx = createInfluxClient({ url: influxd.url, database: "schema2" });
    await ensureSchema(influx, resolveSchema("schema2"));
    const report = await ensureSchema(
      influx,
      resolveSchema("schema2", { raw: { duration: "30d" }, every: "5m" }),
    );
    expect(report.alteredPolicies).toEqual(["raw"]);
    expect(report.durationChanges).toEqual([{ policy: "raw", from: "INF", to: "30d" }]);
    expect(report.createdQueries).toHaveLength(3);
    expect(report.staleQueries.sort()).toEqual(
      ["cellbench_v1_cell_1m", "cellbench_v1_chamber_1m", "cellbench_v1_cycle_1m"].sort(),
    );
    expect((await policies("schema2")).find((p) => p.name === "raw")).toMatchObject({ duration: "720h0m0s" });
  });

  it("lifts the finite raw policy of an existing database to the configured retention, saying from what", async () => {
    const db = "schema_old";
    // What earlier versions created: raw kept 90 days.
    await influxd.query(`CREATE DATABASE ${db}`);
    await influxd.query(`CREATE RETENTION POLICY raw ON ${db} DURATION 90d REPLICATION 1 DEFAULT`);
    const influx = createInfluxClient({ url: influxd.url, database: db });
    const lifted = await ensureSchema(influx, resolveSchema(db));
    expect(lifted.alteredPolicies).toEqual(["raw"]);
    expect(lifted.durationChanges).toEqual([{ policy: "raw", from: "2160h0m0s", to: "INF" }]);
    expect((await policies(db)).find((p) => p.name === "raw")).toMatchObject({
      duration: "0s",
      default: true,
    });

    const configured = resolveSchema(db, {
      raw: { duration: parseRetention("400d", "influx.retention.raw") },
    });
    expect((await ensureSchema(influx, configured)).durationChanges).toEqual([
      { policy: "raw", from: "INF", to: "400d" },
    ]);
    expect((await policies(db)).find((p) => p.name === "raw")).toMatchObject({ duration: "9600h0m0s" });
    expect((await ensureSchema(influx, configured)).alteredPolicies).toEqual([]);
  });

  it("shrinks the shard group duration with the policy when InfluxDB needs it (INF's is 7 days)", async () => {
    const db = "schema_short";
    const influx = createInfluxClient({ url: influxd.url, database: db });
    await ensureSchema(influx, resolveSchema(db));
    expect((await policies(db)).find((p) => p.name === "raw")).toMatchObject({
      shardGroupDuration: "168h0m0s",
    });
    const report = await ensureSchema(influx, resolveSchema(db, { raw: { duration: "2d" } }));
    expect(report.durationChanges).toEqual([{ policy: "raw", from: "INF", to: "2d" }]);
    expect((await policies(db)).find((p) => p.name === "raw")).toMatchObject({
      duration: "48h0m0s",
      shardGroupDuration: "24h0m0s",
    });
  });

  it("downsamples raw points into the long-term policy with the same tags (continuous query bodies run as a backfill)", async () => {
    const db = "schema3";
    const influx = createInfluxClient({ url: influxd.url, database: db });
    const schema = resolveSchema(db);
    await ensureSchema(influx, schema);
    const minute = Math.floor((Date.now() - 600_000) / 60_000) * 60_000;
    const enc = new RecordEncoder("b1");
    const lines = [0, 1, 2, 3].map((i) =>
      enc.cell({
        channel: "ch1",
        run: "R 1",
        cell: "C1",
        tWallMs: minute + i * 10_000,
        testTimeS: i * 10,
        stepTimeS: i * 10,
        voltageV: 3.6 + i * 0.1,
        currentA: 1,
        temperatureC: 25 + i,
        powerW: 3.6,
        chargeAh: i * 0.01,
        dischargeAh: 0,
        chargeWh: i * 0.04,
        dischargeWh: 0,
        stepIndex: 2 + i,
        cycleIndex: 1,
      }),
    );
    lines.push(
      enc.runEvent({
        channel: "ch1",
        run: "R 1",
        tWallMs: minute + 100,
        state: "running",
        reason: "",
        stepIndex: 2,
      }),
      enc.runEvent({
        channel: "ch1",
        run: "R 1",
        tWallMs: minute + 5_300,
        state: "paused",
        reason: "operator",
        stepIndex: 2,
      }),
    );
    const res = await fetch(`${influxd.url}/write?db=${db}&rp=raw&precision=ms`, {
      method: "POST",
      body: lines.join("\n"),
    });
    expect(res.status).toBe(204);
    await backfillDownsample(influx, schema, minute, minute + 60_000);
    const cell = (await influxd.query(
      `SELECT voltage_v, voltage_min_v, voltage_max_v, temperature_max_c, charge_ah, step_index FROM long_term.cell GROUP BY *`,
      { db },
    )) as { results: { series: Series[] }[] };
    const series = cell.results[0]?.series[0] as Series;
    expect(series.tags).toEqual({ bench: "b1", channel: "ch1", run: "R 1", cell: "C1" });
    expect(series.values).toHaveLength(1);
    const [time, mean, min, max, tmax, ah, step] = series.values[0] as number[];
    expect(time).toBe(minute);
    expect(mean).toBeCloseTo(3.75, 10);
    expect([min, max, tmax, ah, step]).toEqual([3.6, 3.6 + 3 * 0.1, 28, 3 * 0.01, 5]);
    const events = (await influxd.query(`SELECT state, reason FROM long_term.run_event`, { db })) as {
      results: { series: Series[] }[];
    };
    expect(events.results[0]?.series[0]?.values).toEqual([
      [minute, "running", ""],
      [minute + 5_000, "paused", "operator"],
    ]);
  });

  it("reports an unreachable server as such, and a refusal as an answer", async () => {
    const port = await freePort();
    const down = createInfluxClient({ url: `http://127.0.0.1:${port}`, database: "x" });
    const unreachable = await ensureSchema(down, resolveSchema("x")).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(InfluxSchemaError);
    expect((unreachable as InfluxSchemaError).serverAnswered).toBe(false);

    const secured = await startInfluxd({ auth: true });
    try {
      await secured.query("CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES");
      const ok = createInfluxClient({ url: secured.url, database: "s", username: "admin", password: "pw" });
      expect((await ensureSchema(ok, resolveSchema("s"))).createdDatabase).toBe(true);
      const wrong = createInfluxClient({
        url: secured.url,
        database: "s",
        username: "admin",
        password: "no",
      });
      const refused = await ensureSchema(wrong, resolveSchema("s")).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InfluxSchemaError);
      expect((refused as InfluxSchemaError).serverAnswered).toBe(true);
      expect((refused as Error).message).toMatch(/authorization failed/);
    } finally {
      await secured.stop();
    }
  });
});

describe("late data after an outage", () => {
  let influxd: Influxd;
  const dir = mkdtempSync(join(tmpdir(), "cellbench-late-"));
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is downsampled once the spooled backlog has drained, although its continuous query ran long ago", async () => {
    const storage = Storage.open({
      bench: "b1",
      store: join(dir, "late.db"),
      influx: { url: influxd.url, database: "late", schema: { every: "1s" } },
      commitIntervalMs: 20,
      backoff: { initialMs: 50, maxMs: 200 },
      statusLogEveryMs: 0,
    });
    try {
      storage.start();
      await waitFor(async () => storage.status().influx.schemaReady, "schema");
      await influxd.halt();
      const t0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
      for (let i = 0; i < 30; i++)
        storage.logChamber({
          chamber: "tc1",
          tWallMs: t0 + i * 100,
          temperatureC: 20 + i,
          setpointC: 25,
          outputPct: 50,
        });
      // Older than twice the downsampling interval by the time it is delivered.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await influxd.restart();
      await waitFor(async () => {
        const json = (await influxd.query("SELECT temperature_c FROM long_term.chamber", { db: "late" })) as {
          results: { series?: Series[] }[];
        };
        return (json.results[0]?.series?.[0]?.values.length ?? 0) === 3;
      }, "downsampled late chamber data");
      const json = (await influxd.query("SELECT temperature_c FROM long_term.chamber", { db: "late" })) as {
        results: { series: Series[] }[];
      };
      expect(json.results[0]?.series[0]?.values).toEqual([
        [t0, 24.5],
        [t0 + 1000, 34.5],
        [t0 + 2000, 44.5],
      ]);
    } finally {
      await storage.close({ drainTimeoutMs: 0 });
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
