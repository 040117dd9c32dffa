import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellRecord } from "../../../src/run/records.js";
import { type BdfExportOptions, bdfColumns, bdfCsvChunks } from "../../../src/storage/bdf-export.js";
import {
  downsampledSource,
  type ExportPlan,
  exportSegments,
  planExport,
} from "../../../src/storage/export-source.js";
import { createInfluxClient } from "../../../src/storage/influx-client.js";
import { backfillDownsample, ensureSchema, resolveSchema } from "../../../src/storage/influx-schema.js";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";

const DAY = 86_400_000;
const MINUTE = 60_000;
const long = { retentionPolicy: "long_term", every: "1m" };

describe("planExport", () => {
  const t = Date.UTC(2026, 0, 10, 12, 0, 0);
  it.each<[string, number | undefined, number | undefined, ExportPlan]>([
    ["nothing anywhere (an empty run)", undefined, undefined, { source: "raw" }],
    ["raw points only (not downsampled yet)", t, undefined, { source: "raw" }],
    ["raw from the first downsampled bucket on", t + 59_999, t, { source: "raw" }],
    ["downsampled buckets only", undefined, t, { source: "downsampled", every: "1m" }],
    [
      "downsampled buckets before the first raw point's bucket",
      t + 7 * DAY + 1234,
      t,
      { source: "mixed", every: "1m", rawFromMs: t + 7 * DAY },
    ],
  ])("%s", (_what, raw, downsampled, plan) => {
    expect(planExport(raw, downsampled, long)).toEqual(plan);
  });

  it("reads a mixed run from the long-term policy up to the raw points' bucket, then from raw, each row labelled", () => {
    expect(exportSegments({ source: "raw" }, "raw", long)).toEqual([{ retentionPolicy: "raw" }]);
    expect(exportSegments({ source: "mixed", every: "1m", rawFromMs: 42 * MINUTE }, "raw", long)).toEqual([
      { retentionPolicy: "long_term", beforeMs: 42 * MINUTE, label: "downsampled 1m" },
      { retentionPolicy: "raw", label: "raw" },
    ]);
  });
});

describe("exporting a run whose raw points have expired, from a real influxd", () => {
  const DB = "expiry";
  const schema = resolveSchema(DB);
  let influxd: Influxd;
  let influx: ReturnType<typeof createInfluxClient>;
  const enc = new RecordEncoder("b1");

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = createInfluxClient({ url: influxd.url, database: DB });
    await ensureSchema(influx, schema);
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  function cell(run: string, tWallMs: number, i: number): CellRecord {
    return {
      channel: "ch1",
      run,
      cell: "C1",
      tWallMs,
      testTimeS: i * 600,
      stepTimeS: i * 600 + 0.5,
      voltageV: 3.5 + i / 1000,
      currentA: 1.25,
      temperatureC: 25,
      powerW: 4.4,
      chargeAh: i / 100,
      dischargeAh: 0,
      chargeWh: i / 25,
      dischargeWh: 0,
      stepIndex: 1 + i,
      cycleIndex: 0,
    };
  }

  /** Writes a run's raw points and downsamples them as the continuous queries do. */
  async function writeRun(records: CellRecord[]): Promise<void> {
    const res = await fetch(`${influxd.url}/write?db=${DB}&rp=raw&precision=ms`, {
      method: "POST",
      body: records.map((r) => enc.cell(r)).join("\n"),
    });
    expect(res.status).toBe(204);
    const times = records.map((r) => r.tWallMs);
    await backfillDownsample(influx, schema, Math.min(...times), Math.max(...times) + 1);
  }

  /** The raw policy's shards: id, start and end (ms). */
  async function rawShards(): Promise<{ id: unknown; startMs: number; endMs: number }[]> {
    type Series = { name: string; columns: string[]; values?: unknown[][] };
    const json = (await influxd.query("SHOW SHARDS")) as { results: { series: Series[] }[] };
    const series = json.results[0]?.series.find((s) => s.name === DB) as Series;
    const col = (name: string) => series.columns.indexOf(name);
    return (series.values ?? [])
      .filter((row) => row[col("retention_policy")] === "raw")
      .map((row) => ({
        id: row[col("id")],
        startMs: Date.parse(String(row[col("start_time")])),
        endMs: Date.parse(String(row[col("end_time")])),
      }));
  }

  /**
   * What InfluxDB does once a raw shard group's time is past the policy's duration: drops the
   * group's shards, here those holding any of [fromMs, toMs). The downsampled data stays.
   */
  async function expireRaw(fromMs: number, toMs: number): Promise<number> {
    const expired = (await rawShards()).filter((s) => s.startMs < toMs && s.endMs > fromMs);
    for (const shard of expired) await influxd.query(`DROP SHARD ${shard.id}`);
    return expired.length;
  }

  async function exportRun(run: string): Promise<{ plan: ExportPlan | undefined; rows: string[][] }> {
    let plan: ExportPlan | undefined;
    const options: BdfExportOptions = {
      database: DB,
      bench: "b1",
      run,
      retentionPolicy: "raw",
      downsampled: downsampledSource(schema),
      onPlan: (p) => {
        plan = p;
      },
      pageSize: 100,
    };
    let text = "";
    for await (const chunk of bdfCsvChunks(influx, options)) text += chunk;
    return {
      plan,
      rows: text
        .trimEnd()
        .split("\n")
        .map((l) => l.split(",")),
    };
  }

  const HEADER = bdfColumns(false);
  const col = (name: string) => HEADER.indexOf(name);
  const minuteAligned = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
  const now = Date.now();

  it("exports a run whose raw points are all there from raw, with the plain BDF columns", async () => {
    const t0 = minuteAligned(now - 2 * DAY) + 7_000;
    const records = Array.from({ length: 30 }, (_, i) => cell("R-raw", t0 + i * 600_000, i));
    await writeRun(records);
    const { plan, rows } = await exportRun("R-raw");
    expect(plan).toEqual({ source: "raw" });
    expect(rows[0]).toEqual(HEADER);
    expect(rows.slice(1).map((r) => Number(r[col("Unix Time / s")]) * 1000)).toEqual(
      records.map((r) => r.tWallMs),
    );
    expect(rows[1]?.[col("Step Time / s")]).toBe("0.5");
  });

  it("exports a run with no raw point left from the downsampled data, and every row says so", async () => {
    // Twenty days back, two hours long: the raw shard group (7 days) holding it expires.
    const t0 = minuteAligned(now - 20 * DAY) + 7_000;
    const records = Array.from({ length: 12 }, (_, i) => cell("R-expired", t0 + i * 600_000, i));
    await writeRun(records);
    expect(await expireRaw(t0, t0 + 2 * 3_600_000)).toBeGreaterThanOrEqual(1);
    const { plan, rows } = await exportRun("R-expired");
    expect(plan).toEqual({ source: "downsampled", every: "1m" });
    expect(rows[0]).toEqual([...HEADER, "Data Source"]);
    expect(rows).toHaveLength(1 + records.length);
    for (const [i, row] of rows.slice(1).entries()) {
      const r = records[i] as CellRecord;
      expect(row.at(-1)).toBe("downsampled 1m");
      // A bucket's time is its start; its V, I, T, P are means, the counters its last values.
      expect(Number(row[col("Unix Time / s")]) * 1000).toBe(r.tWallMs - 7_000);
      expect(Number(row[col("Voltage / V")])).toBeCloseTo(r.voltageV, 12);
      expect(Number(row[col("Test Time / s")])).toBe(r.testTimeS);
      expect(Number(row[col("Step Count / 1")])).toBe(r.stepIndex);
      expect(row[col("Step Time / s")]).toBe(""); // not downsampled
    }
  });

  it("exports a partly expired run from the downsampled data up to the first raw point, then from raw", async () => {
    // Ten days, a point every 10 minutes: across a boundary of the raw policy's 7-day shard groups,
    // the earlier of which expires.
    const t0 = minuteAligned(now - 12 * DAY) + 7_000;
    const records = Array.from({ length: (10 * DAY) / 600_000 }, (_, i) =>
      cell("R-partly", t0 + i * 600_000, i),
    );
    await writeRun(records);
    const last = (records.at(-1) as CellRecord).tWallMs;
    const boundary = Math.min(
      ...(await rawShards()).map((s) => s.endMs).filter((end) => end > t0 && end <= last),
    );
    expect(await expireRaw(t0, boundary)).toBe(1);
    const expired = records.filter((r) => r.tWallMs < boundary);
    const kept = records.filter((r) => r.tWallMs >= boundary);
    expect(expired.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    const { plan, rows } = await exportRun("R-partly");
    // Raw from the bucket (minute) of the first raw point left.
    const rawFromMs = (kept[0] as CellRecord).tWallMs - 7_000;
    expect(plan).toEqual({ source: "mixed", every: "1m", rawFromMs });
    expect(rows[0]).toEqual([...HEADER, "Data Source"]);
    const data = rows.slice(1);
    // Each record once: its bucket while expired, itself after; in time order, no overlap.
    expect(data.map((r) => r.at(-1))).toEqual([
      ...expired.map(() => "downsampled 1m"),
      ...kept.map(() => "raw"),
    ]);
    expect(data.map((r) => Number(r[col("Test Time / s")]))).toEqual(records.map((r) => r.testTimeS));
    const unix = data.map((r) => Number(r[col("Unix Time / s")]) * 1000);
    expect(unix).toEqual([...expired.map((r) => r.tWallMs - 7_000), ...kept.map((r) => r.tWallMs)]);
    expect(data.at(-1)?.[col("Step Time / s")]).toBe(String((kept.at(-1) as CellRecord).stepTimeS));
  });
});
