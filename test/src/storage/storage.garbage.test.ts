/**
 * Issue 16: logging a cell sample runs on the sampling thread at every logged sample; its garbage is
 * what the collector then pauses that thread for. The line goes to the outbox as bytes, never built
 * as a string (which, in its pieces, was about a kilobyte per sample).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { Storage } from "../../../src/storage/storage.js";
import { cellRecord } from "../../support/cell-record.js";
import { heapAllocationMeter } from "../../support/heap-allocation.js";

const dir = mkdtempSync(join(tmpdir(), "cellbench-storage-garbage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 64 channels' samples, each value changing as a cycler's readings do. */
const sample = (k: number) =>
  cellRecord({
    channel: `ch${k % 64}`,
    run: `R${k % 64}`,
    cell: `NMC-${k % 64}`,
    tWallMs: 1_764_100_000_000 + k,
    testTimeS: k / 100,
    stepTimeS: k / 100,
    voltageV: 3.6 + (k % 5_000) / 10_000,
    currentA: 1.2 + (k % 7) / 1_000,
    temperatureC: 25 + (k % 30) / 10,
    powerW: 4.4 + (k % 11) / 1_000,
    chargeAh: k / 360_000,
    chargeWh: k / 97_000,
  });

it("logs a cell sample as the encoder's line with a few hundred bytes of garbage, not a kilobyte", async () => {
  const store = join(dir, "outbox.db");
  const storage = Storage.open({
    bench: "b1",
    store,
    // Never contacted: the forwarder is not started.
    influx: { url: "http://127.0.0.1:9", database: "unused" },
    statusLogEveryMs: 0,
  });
  try {
    for (let k = 0; k < 5_000; k++) storage.logCell(sample(k)); // past the JIT's first tiers
    await storage.outbox.commit();
    const records = Array.from({ length: 20_000 }, (_, i) => sample(5_000 + i));
    const meter = heapAllocationMeter();
    for (const r of records) storage.logCell(r);
    const perSample = meter.stop() / records.length;
    expect(perSample).toBeLessThan(700);

    await storage.outbox.commit();
    const db = new Database(store, { readonly: true });
    const stored = db
      .prepare<[], { body: Buffer }>("SELECT body FROM outbox ORDER BY id")
      .all()
      .flatMap((row) => row.body.toString("utf8").split("\n"));
    db.close();
    const encoder = new RecordEncoder("b1");
    expect(stored.slice(5_000)).toEqual(records.map((r) => encoder.cell(r)));
  } finally {
    await storage.close({ drainTimeoutMs: 0 });
  }
});
