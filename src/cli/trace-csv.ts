import { createWriteStream, type WriteStream } from "node:fs";
import { csvNumber } from "../format-number.js";
import type { CellRecord } from "../run/records.js";

const COLUMNS: [string, (r: CellRecord) => number][] = [
  ["test_time_s", (r) => r.testTimeS],
  ["step_time_s", (r) => r.stepTimeS],
  ["step_index", (r) => r.stepIndex],
  ["cycle_index", (r) => r.cycleIndex],
  ["voltage_v", (r) => r.voltageV],
  ["current_a", (r) => r.currentA],
  ["temperature_c", (r) => r.temperatureC],
  ["power_w", (r) => r.powerW],
  ["charge_ah", (r) => r.chargeAh],
  ["discharge_ah", (r) => r.dischargeAh],
  ["charge_wh", (r) => r.chargeWh],
  ["discharge_wh", (r) => r.dischargeWh],
];

/**
 * Writes simulated samples as CSV, one row per sample, honouring the stream's back-pressure by
 * buffering rows. Every number reads back equal (`csvNumber`: shortest exact decimal; NaN and
 * ±Infinity as an empty cell).
 */
export class TraceCsvWriter {
  private readonly out: WriteStream;
  private buffer: string[] = [];

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.buffer.push(`${COLUMNS.map(([name]) => name).join(",")}\n`);
  }

  write(record: CellRecord): void {
    this.buffer.push(`${COLUMNS.map(([, get]) => csvNumber(get(record))).join(",")}\n`);
    if (this.buffer.length >= 4096) this.flush();
  }

  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve, reject) => {
      this.out.once("error", reject);
      this.out.end(resolve);
    });
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    this.out.write(this.buffer.join(""));
    this.buffer = [];
  }
}
