import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellRecord, StepRecord } from "../../../src/run/records.js";
import { bdfColumns, bdfCsvChunks, writeBdfCsv } from "../../../src/storage/bdf-export.js";
import { createInfluxClient } from "../../../src/storage/influx-client.js";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const DB = "export";
let influxd: Influxd;

beforeAll(async () => {
  influxd = await startInfluxd();
  await influxd.query(`CREATE DATABASE ${DB}`);
});
afterAll(async () => {
  await influxd?.stop();
});

async function write(lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 5000) {
    const res = await fetch(`${influxd.url}/write?db=${DB}&precision=ms`, {
      method: "POST",
      body: lines.slice(i, i + 5000).join("\n"),
    });
    expect(res.status).toBe(204);
  }
}

function cell(i: number, overrides: Partial<CellRecord> = {}): CellRecord {
  return {
    channel: "ch1",
    run: "R-export",
    cell: "C1",
    tWallMs: T0 + i * 1000 + 123,
    testTimeS: i + 0.123,
    stepTimeS: (i % 10) + 0.5,
    voltageV: 3.5 + i / 1000,
    currentA: i % 20 < 10 ? 1.25 : -2.5,
    temperatureC: 25 + i / 100,
    powerW: 4.4,
    chargeAh: i / 3600,
    dischargeAh: i / 7200,
    chargeWh: i / 900,
    dischargeWh: i / 1800,
    stepIndex: 1 + Math.floor(i / 10),
    cycleIndex: Math.floor(i / 20),
    ...overrides,
  };
}

/** Step `index` ends 10 s after it began (cell rows 10·(index−1) .. 10·index − 1). */
function stepRecord(index: number, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    channel: "ch1",
    run: "R-export",
    cell: "C1",
    tWallMs: T0 + index * 10_000 + 50,
    stepIndex: index,
    cycleIndex: 1,
    stepId: 2 + (index % 2),
    path: `steps[1].steps[${index % 2}]`,
    type: index % 2 ? "cc_discharge" : "rest",
    endReason: "step time 10 s",
    durationS: 10,
    chargeAh: 0,
    dischargeAh: 0.001,
    chargeWh: 0,
    dischargeWh: 0.0035,
    startVoltageV: 3.6,
    endVoltageV: 3.5,
    maxTemperatureC: 25,
    dcirOhm: {},
    ...overrides,
  };
}

async function collect(gen: AsyncGenerator<string>): Promise<string[][]> {
  let text = "";
  for await (const chunk of gen) text += chunk;
  return text
    .trimEnd()
    .split("\n")
    .map((l) => l.split(","));
}

describe("BDF CSV export from a real influxd", () => {
  it("writes BDF columns for every row of the run, in order, across pages, with the chamber as ambient", async () => {
    const enc = new RecordEncoder("b1");
    const records = Array.from({ length: 53 }, (_, i) => cell(i));
    const lines = records.map((r) => enc.cell(r));
    // Chamber air every 5 s, starting 2 s before the run; another run and another bench must not leak in.
    for (let k = -1; k < 12; k++)
      lines.push(
        enc.chamber({
          chamber: "tc1",
          tWallMs: T0 + k * 5000 + 3000,
          temperatureC: 24 + k / 10,
          setpointC: 25,
          outputPct: 40,
        }) as string,
      );
    lines.push(enc.cell(cell(5, { run: "R-other" })), new RecordEncoder("b2").cell(cell(6)));
    // Steps 1..5 have ended (records at their ends); step 6, rows 50..52, was still running.
    for (let step = 1; step <= 5; step++) lines.push(enc.step(stepRecord(step)));
    lines.push(enc.step(stepRecord(6, { run: "R-other" })));
    await write(lines);

    const influx = createInfluxClient({ url: influxd.url, database: DB });
    const rows = await collect(
      bdfCsvChunks(influx, { database: DB, bench: "b1", run: "R-export", chamber: "tc1", pageSize: 7 }),
    );
    expect(rows[0]).toEqual([
      "Test Time / s",
      "Unix Time / s",
      "Voltage / V",
      "Current / A",
      "Power / W",
      "Cycle Count / 1",
      "Step Count / 1",
      "Step ID / 1",
      "Step Type / 1",
      "Step Time / s",
      "Charging Capacity / Ah",
      "Discharging Capacity / Ah",
      "Charging Energy / Wh",
      "Discharging Energy / Wh",
      "Surface Temperature T1 / degC",
      "Ambient Temperature / degC",
    ]);
    const data = rows.slice(1);
    expect(data).toHaveLength(records.length);
    data.forEach((row, i) => {
      const r = records[i] as CellRecord;
      // Latest chamber reading at or before the row: readings at T0 + 5k s + 3 s.
      const t = r.tWallMs - T0;
      const k = Math.floor((t - 3000) / 5000);
      expect(row).toEqual(
        [
          r.testTimeS,
          r.tWallMs / 1000,
          r.voltageV,
          r.currentA,
          r.powerW,
          r.cycleIndex,
          r.stepIndex,
          r.stepIndex <= 5 ? 2 + (r.stepIndex % 2) : "",
          r.stepIndex <= 5 ? (r.stepIndex % 2 ? "cc_discharge" : "rest") : "",
          r.stepTimeS,
          r.chargeAh,
          r.dischargeAh,
          r.chargeWh,
          r.dischargeWh,
          r.temperatureC,
          24 + k / 10,
        ].map(String),
      );
    });
  });

  it("leaves ambient empty without a recent chamber reading and omits the column without a chamber", async () => {
    const enc = new RecordEncoder("b3");
    await write([enc.cell(cell(0, { run: "R-amb" })), enc.cell(cell(2000, { run: "R-amb" }))]);
    await write([
      enc.chamber({ chamber: "tc9", tWallMs: T0, temperatureC: 30, setpointC: 30, outputPct: 1 }) as string,
    ]);
    const influx = createInfluxClient({ url: influxd.url, database: DB });
    const withChamber = await collect(
      bdfCsvChunks(influx, { database: DB, bench: "b3", run: "R-amb", chamber: "tc9", ambientMaxAgeS: 600 }),
    );
    expect(withChamber.slice(1).map((r) => r[r.length - 1])).toEqual(["30", ""]);
    const without = await collect(bdfCsvChunks(influx, { database: DB, bench: "b3", run: "R-amb" }));
    expect(without[0]).toEqual(bdfColumns(false));
    expect(without[1]).toHaveLength(15);
  });

  it("neither loses nor repeats rows when several series share timestamps across page boundaries", async () => {
    const enc = new RecordEncoder("b4");
    const lines: string[] = [];
    // Two series (cells) of one run with identical timestamps; page size 3 splits the pairs.
    for (let i = 0; i < 10; i++) {
      lines.push(enc.cell(cell(i, { run: "R-tie", cell: "A", stepIndex: i })));
      lines.push(enc.cell(cell(i, { run: "R-tie", cell: "B", stepIndex: 100 + i })));
    }
    await write(lines);
    const influx = createInfluxClient({ url: influxd.url, database: DB });
    for (const pageSize of [1, 2, 3, 7]) {
      const rows = await collect(bdfCsvChunks(influx, { database: DB, bench: "b4", run: "R-tie", pageSize }));
      const steps = rows.slice(1).map((r) => Number(r[6]));
      expect(
        steps.sort((a, b) => a - b),
        `pageSize ${pageSize}`,
      ).toEqual([
        ...Array.from({ length: 10 }, (_, i) => i),
        ...Array.from({ length: 10 }, (_, i) => 100 + i),
      ]);
    }
  });

  it("streams a long run page by page into a slow writer", async () => {
    const enc = new RecordEncoder("b5");
    const n = 60_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(enc.cell(cell(i, { run: "R-long", tWallMs: T0 + i * 100 })));
    await write(lines);
    const influx = createInfluxClient({ url: influxd.url, database: DB });
    let received = 0;
    let chunks = 0;
    let lastLine = "";
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks++;
        const text = chunk.toString("utf8");
        received += text.split("\n").length - 1;
        lastLine = text.trimEnd().split("\n").pop() ?? "";
        setImmediate(callback);
      },
    });
    const result = await writeBdfCsv(
      influx,
      { database: DB, bench: "b5", run: "R-long", pageSize: 10_000, sliceRows: 10_000 },
      sink,
    );
    expect(result.rows).toBe(n);
    expect(received).toBe(n + 1);
    // Header + 7 pages: each page after the first re-reads the previous page's last timestamp (one row).
    expect(chunks).toBe(8);
    expect(lastLine.split(",")[1]).toBe(String((T0 + (n - 1) * 100) / 1000));
  });
});
