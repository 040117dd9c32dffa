import { createWriteStream, openSync, type WriteStream } from "node:fs";
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
 * Writes simulated samples as CSV, one row per sample, buffering rows and writing them in blocks.
 * Every number reads back equal (`csvNumber`: shortest exact decimal; NaN and ±Infinity as an empty
 * cell). Given a path it owns the file and closes it; given a stream (stdout) it leaves it open.
 * A reader that goes away (EPIPE: `| head`) ends the writing, not the command.
 */
export class TraceCsvWriter {
  private readonly out: NodeJS.WritableStream;
  /** The file this writer opened (it closes it), or undefined when given a stream. */
  private readonly file: WriteStream | undefined;
  private buffer: string[] = [];
  private failure: Error | undefined;
  private readerGone = false;

  constructor(target: string | NodeJS.WritableStream) {
    // Opened at once, so a path that cannot be written fails before the simulation, not after it.
    this.file = typeof target === "string" ? createWriteStream("", { fd: openSync(target, "w") }) : undefined;
    this.out = this.file ?? (target as NodeJS.WritableStream);
    this.out.on("error", this.onError);
    this.buffer.push(`${COLUMNS.map(([name]) => name).join(",")}\n`);
  }

  write(record: CellRecord): void {
    if (this.stopped()) return;
    this.buffer.push(`${COLUMNS.map(([, get]) => csvNumber(get(record))).join(",")}\n`);
    if (this.buffer.length >= 4096) this.flush();
  }

  /** Writes what is buffered and closes the file (a stream: waits until it took the last block). */
  async close(): Promise<void> {
    this.flush();
    try {
      if (!this.stopped())
        await new Promise<void>((resolve) => {
          // A failure meanwhile reaches onError, which this.failure reports below.
          const done = () => {
            this.out.off("error", done);
            resolve();
          };
          this.out.once("error", done);
          if (this.file) this.file.end(done);
          else this.out.write("", done);
        });
    } finally {
      this.out.off("error", this.onError);
      if (this.stopped()) this.file?.destroy();
    }
    if (this.failure) throw this.failure;
  }

  private readonly onError = (err: Error): void => {
    if ((err as NodeJS.ErrnoException).code === "EPIPE") this.readerGone = true;
    else this.failure ??= err;
    this.buffer = [];
  };

  private stopped(): boolean {
    return this.readerGone || this.failure !== undefined;
  }

  private flush(): void {
    if (this.buffer.length === 0 || this.stopped()) return;
    this.out.write(this.buffer.join(""));
    this.buffer = [];
  }
}
