/** Issue 11, finding 1: the log methods run on the sampling path and never throw. */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { Storage } from "../../../src/storage/storage.js";
import { cellRecord } from "../../support/cell-record.js";

const record = (cell: string) => cellRecord({ cell, tWallMs: 1_764_100_000_000, testTimeS: 1, stepTimeS: 1 });

describe("a record line protocol cannot carry", () => {
  it("is counted, logged once and reported, never thrown at the caller", async () => {
    const logs: string[] = [];
    const storage = Storage.open({
      bench: "b1",
      store: ":memory:",
      // Never contacted: the forwarder is not started.
      influx: { url: "http://127.0.0.1:9", database: "unused" },
      statusLogEveryMs: 0,
      logger: createLogger({ level: "info", destination: { write: (line: string) => void logs.push(line) } }),
    });
    try {
      for (const id of ["NMC-0042\r", "NMC\n0043", "NMC\\"])
        expect(() => storage.logCell(record(id))).not.toThrow();
      storage.logCell(record("NMC-0044"));
      const status = storage.status();
      expect(status.unencodable.sinceStart).toBe(3);
      expect(status.unencodable.lastMessage).toMatch(/^cell sample: /);
      expect(status.backlog.pendingLines).toBe(1);
      expect(logs.filter((l) => l.includes("could not be encoded"))).toHaveLength(1);
      expect(storage.metrics()).toContain("cellbench_storage_unencodable_total 3");
    } finally {
      await storage.close({ drainTimeoutMs: 0 });
    }
  });
});
