import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { TraceCsvWriter } from "../../../src/cli/trace-csv.js";
import type { CellRecord } from "../../../src/run/records.js";
import { cellRecord } from "../../support/cell-record.js";

const HEADER =
  "test_time_s,step_time_s,step_index,cycle_index,voltage_v,current_a,temperature_c,power_w,charge_ah,discharge_ah,charge_wh,discharge_wh";
const FIELDS = [
  "testTimeS",
  "stepTimeS",
  "stepIndex",
  "cycleIndex",
  "voltageV",
  "currentA",
  "temperatureC",
  "powerW",
  "chargeAh",
  "dischargeAh",
  "chargeWh",
  "dischargeWh",
] as const satisfies readonly (keyof CellRecord)[];

const scratch = mkdtempSync(join(tmpdir(), "cellbench-trace-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let files = 0;
async function writeTrace(records: CellRecord[]): Promise<string> {
  const path = join(scratch, `trace-${files++}.csv`);
  const writer = new TraceCsvWriter(path);
  for (const r of records) writer.write(r);
  await writer.close();
  return readFileSync(path, "utf8");
}

/** What a reader gets back: Number() of each cell, an empty cell as NaN (missing). */
function readTrace(text: string): { header: string; rows: number[][] } {
  const [header = "", ...lines] = text.split("\n");
  expect(lines.pop()).toBe(""); // every row ends with a newline
  return { header, rows: lines.map((l) => l.split(",").map((c) => (c === "" ? Number.NaN : Number(c)))) };
}

/** Any double, weighted towards what traces hold and what broke: huge times, tiny values, integers, ±0. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.double({ min: 1e6, max: 1e12, noNaN: true }),
  fc.double({ min: -1e-5, max: 1e-5, noNaN: true }),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 10000049.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.MIN_VALUE),
);
const record = fc.tuple(...FIELDS.map(() => anyNumber)).map((values) => {
  const r = cellRecord();
  FIELDS.forEach((f, i) => {
    r[f] = values[i] as number;
  });
  return r;
});

describe("TraceCsvWriter", () => {
  it("writes 10000049.5 s as 10000049.5 (it was 1000005)", async () => {
    const text = await writeTrace([cellRecord({ testTimeS: 10000049.5, stepTimeS: 10000050 })]);
    expect(text.split("\n")[1]?.split(",").slice(0, 2)).toEqual(["10000049.5", "10000050"]);
  });

  it("round-trips every number: what Number() reads back equals what was written", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 40 }), async (records) => {
        const { header, rows } = readTrace(await writeTrace(records));
        expect(header).toBe(HEADER);
        expect(rows).toHaveLength(records.length);
        records.forEach((r, i) => {
          const row = rows[i] as number[];
          expect(row).toHaveLength(FIELDS.length);
          FIELDS.forEach((f, k) => {
            const written = r[f];
            // Decided: NaN and ±Infinity are written as an empty cell (missing); -0 reads back as 0.
            const expected = Number.isFinite(written) ? written + 0 : Number.NaN;
            expect(row[k], `${f} of row ${i}`).toBe(expected);
          });
        });
      }),
      { numRuns: 150 },
    );
  });

  it("writes the trace of `Rest for 116 days` at --period 3.5 with times that strictly increase", async () => {
    // The dry run's rows: one every 3.5 s from 0 to 10,022,400.5 s (the sample that ends the step).
    // From 10,000,000 s on, times rounded to 8 digits lost their trailing zeros (10000050 became
    // 1000005): hundreds of rows went back in time.
    const path = join(scratch, "rest-116-days.csv");
    const writer = new TraceCsvWriter(path);
    const rows = Math.ceil((116 * 86_400) / 3.5) + 1;
    const record = cellRecord({ voltageV: 3.79, currentA: 0 });
    for (let k = 0; k < rows; k++) {
      record.testTimeS = k * 3.5;
      record.stepTimeS = k * 3.5;
      writer.write(record);
    }
    await writer.close();
    let read = -1; // the header
    let previous = Number.NEGATIVE_INFINITY;
    const backwards: string[] = [];
    for await (const line of createInterface({ input: createReadStream(path) })) {
      if (read++ < 0) continue;
      const time = Number(line.slice(0, line.indexOf(",")));
      if (!(time > previous)) backwards.push(`${previous} then ${time}`);
      previous = time;
    }
    rmSync(path);
    expect(backwards.slice(0, 3)).toEqual([]);
    expect(read).toBe(rows);
    expect(previous).toBe(10_022_400.5);
  }, 120_000);

  it("keeps rows in order across its buffer flushes (4,096 rows)", async () => {
    const records = Array.from({ length: 10_000 }, (_, i) => cellRecord({ testTimeS: 9_999_000 + i * 0.5 }));
    const { rows } = readTrace(await writeTrace(records));
    expect(rows.map((r) => r[0])).toEqual(records.map((r) => r.testTimeS));
  });
});
