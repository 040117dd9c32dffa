/** The storage's batch size is also the outbox's early-commit size: one batch's worth is committed at once. */
import { describe, expect, it } from "vitest";
import { Storage } from "../../../src/storage/storage.js";
import { cellRecord } from "../../support/cell-record.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Storage batchLines", () => {
  it("commits as soon as a batch of that many lines waits, without waiting for the commit timer", async () => {
    const storage = Storage.open({
      bench: "b1",
      store: ":memory:",
      // Never contacted: the forwarder is not started.
      influx: { url: "http://127.0.0.1:9", database: "unused" },
      commitIntervalMs: 1000,
      batchLines: 10,
      statusLogEveryMs: 0,
    });
    try {
      for (let i = 0; i < 9; i++) storage.logCell(cellRecord({ tWallMs: 1_764_100_000_000 + i }));
      await nextTurn();
      expect(storage.outbox.stats().commits).toBe(0);
      storage.logCell(cellRecord({ tWallMs: 1_764_100_000_009 }));
      await nextTurn();
      await nextTurn();
      // The commit timer (1 s) cannot have fired: the tenth line started the commit.
      expect(storage.outbox.stats()).toMatchObject({ commits: 1, committedLines: 10 });
    } finally {
      await storage.close({ drainTimeoutMs: 0 });
    }
  });
});
