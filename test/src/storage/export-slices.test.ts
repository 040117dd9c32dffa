/**
 * The export's CPU comes in bounded slices (issue 11, finding 7): at most `sliceRows` rows formatted
 * per chunk, each slice in a turn of the event loop of its own, across all exports at once, and one
 * InfluxDB query of all exports in flight at a time. A fake query function stands in for InfluxDB.
 */
import { describe, expect, it } from "vitest";
import { bdfCsvChunks, EXPORT_QUERIES_AT_ONCE } from "../../../src/storage/bdf-export.js";
import type { InfluxQueryText } from "../../../src/storage/influx-client.js";

const COLUMNS = ["time", "test_time_s", "voltage_v"];
const T0 = Date.UTC(2026, 0, 1);

/** A fake /query over `rows` rows 1 s apart that honours `time >= …ms` and LIMIT; counts calls in flight. */
function fakeInflux(rows: number, stats = { inFlight: 0, maxInFlight: 0, calls: 0 }) {
  const query: InfluxQueryText = async (q, options) => {
    stats.calls++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.signal?.aborted) throw new Error("aborted");
      // The run has no step records (their lookup comes first); its cell rows are generated.
      if (/FROM "step"/.test(q)) return JSON.stringify({ results: [{ statement_id: 0 }] });
      const from = Number(/time >= (\d+)ms/.exec(q)?.[1] ?? T0);
      const limit = Number(/LIMIT (\d+)/.exec(q)?.[1]);
      const values: number[][] = [];
      for (let t = Math.max(from, T0); values.length < limit && t < T0 + rows * 1000; t += 1000)
        values.push([t, (t - T0) / 1000, 3.7]);
      const series = values.length > 0 ? [{ name: "cell", columns: COLUMNS, values }] : undefined;
      return JSON.stringify({ results: [{ statement_id: 0, ...(series ? { series } : {}) }] });
    } finally {
      stats.inFlight--;
    }
  };
  return { query, stats };
}

/** Counts turns of the event loop (setImmediate chain) until stopped. */
function turnCounter() {
  const c = { turns: 0, stopped: false };
  const tick = () => {
    if (c.stopped) return;
    c.turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return c;
}

const options = { database: "d", bench: "b", run: "R1" } as const;

describe("export slices", () => {
  it("formats at most sliceRows rows per chunk, each chunk in a later turn of the event loop, every row once", async () => {
    const { query } = fakeInflux(2_345);
    const counter = turnCounter();
    const turns: number[] = [];
    const rows: string[] = [];
    let header = true;
    for await (const chunk of bdfCsvChunks(query, { ...options, pageSize: 1000, sliceRows: 200 })) {
      if (header) {
        header = false;
        continue;
      }
      const lines = chunk.trimEnd().split("\n");
      expect(lines.length).toBeLessThanOrEqual(200);
      rows.push(...lines);
      turns.push(counter.turns);
    }
    counter.stopped = true;
    expect(rows).toHaveLength(2_345);
    expect(new Set(rows.map((r) => r.split(",")[0])).size).toBe(2_345);
    for (let i = 1; i < turns.length; i++) expect(turns[i]).toBeGreaterThan(turns[i - 1] as number);
  });

  it("interleaves concurrent exports one slice per turn, with one query in flight at a time", async () => {
    const { query, stats } = fakeInflux(3_000);
    const counter = turnCounter();
    const sliceTurns: number[] = [];
    const drain = async () => {
      let n = 0;
      let rows = 0;
      for await (const chunk of bdfCsvChunks(query, { ...options, pageSize: 500, sliceRows: 100 })) {
        if (n++ === 0) continue;
        sliceTurns.push(counter.turns);
        rows += chunk.trimEnd().split("\n").length;
      }
      return rows;
    };
    const rows = await Promise.all([drain(), drain(), drain(), drain()]);
    counter.stopped = true;
    expect(rows).toEqual([3000, 3000, 3000, 3000]);
    // No two slices of any export ran in the same turn of the event loop.
    expect(new Set(sliceTurns).size).toBe(sliceTurns.length);
    expect(stats.maxInFlight).toBe(EXPORT_QUERIES_AT_ONCE);
  });

  it("an aborted export stops with an ExportQueryError and issues no more queries", async () => {
    const { query, stats } = fakeInflux(100_000);
    const abort = new AbortController();
    const chunks = bdfCsvChunks(query, { ...options, pageSize: 1000, sliceRows: 500, signal: abort.signal });
    await chunks.next(); // header
    await chunks.next(); // first slice
    abort.abort();
    await expect(
      (async () => {
        for await (const _ of chunks);
      })(),
    ).rejects.toThrow(/export aborted/);
    const calls = stats.calls;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stats.calls).toBe(calls);
    // The step-record lookup, then at most two pages of cell rows.
    expect(calls).toBeLessThanOrEqual(3);
  });
});
