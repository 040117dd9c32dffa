/** The cell registry on a simulated bench, without HTTP: histories across a crash, and failures that must not reach the run. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCell } from "../../../src/cell/cell.js";
import type { CellHistory } from "../../../src/cell/cell-history.js";
import { CellRegistry } from "../../../src/cell/cell-registry.js";
import { CellStore } from "../../../src/cell/cell-store.js";
import type { RunCheckpoint } from "../../../src/engine/run-engine.js";
import { createLogger } from "../../../src/log.js";
import { RunManager, type RunSink } from "../../../src/run/run-manager.js";
import { RunStore } from "../../../src/run/run-store.js";
import { currentCycles } from "../../support/profile-builders.js";
import { openSimBench } from "../../support/sim-bench.js";

const scratch = mkdtempSync(join(tmpdir(), "cellbench-cell-registry-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const DOC = {
  id: "NMC-0042",
  chemistry: "li-ion-nmc",
  capacity_ah: 3,
  voltage: [2.5, 4.2],
  current: [-6, 6],
  temperature: [-20, 60],
};
const CELL = parseCell(DOC, "test");

/** Three cycles of 1.5 A for 100 s each way: 0.041 67 Ah per half cycle. */
const cycling = currentCycles();
const HALF_CYCLE_AH = (1.5 * 100) / 3600;

function checkpointSink(): RunSink & { checkpoints: Map<string, { state: unknown }> } {
  const checkpoints = new Map<string, { state: unknown }>();
  return {
    checkpoints,
    logCell: () => undefined,
    logRunEvent: () => undefined,
    logCycle: () => undefined,
    logStep: () => undefined,
    setCheckpoint: (run, cp: RunCheckpoint) => checkpoints.set(run, { state: structuredClone(cp) }),
    deleteCheckpoint: (run) => checkpoints.delete(run),
  };
}

describe("CellRegistry", () => {
  it("counts a cycle once when a crash makes the resumed run complete it again", async () => {
    const path = join(scratch, "crash.db");
    const sink = checkpointSink();
    const first = await openSimBench({ auto: false });
    const runStore1 = new RunStore(path);
    const runs1 = new RunManager(first.bench, { sink, store: runStore1 });
    const cells1 = new CellRegistry(new CellStore(path), runs1, first.bench);
    cells1.register(DOC, CELL);
    cells1.mount("NMC-0042", "ch1");
    first.bench.start();
    await runs1.create(
      { channel: "ch1", cell: cells1.cellForRun("ch1", undefined), profile: cycling },
      "R20261125-0001",
    );
    await first.clock.advanceTo(150_000);
    // The last checkpoint that reached the disk: before cycle 1 ended.
    const committed = new Map(sink.checkpoints);
    await first.clock.advanceTo(250_000);
    expect(cells1.get("NMC-0042").summary.cycleCount).toBe(1);
    // The daemon dies: no shutdown.
    runStore1.close();
    cells1.close();

    const second = await openSimBench({ auto: false });
    const runStore2 = new RunStore(path);
    const runs2 = new RunManager(second.bench, { sink, store: runStore2 });
    const cells2 = new CellRegistry(new CellStore(path), runs2, second.bench);
    runs2.recover(committed);
    expect(cells2.get("NMC-0042").stored.history.runs[0]?.state).toBe("interrupted");
    second.bench.start();
    await runs2.control("R20261125-0001", "resume");
    await second.clock.advanceTo(10_000_000);
    expect(runs2.get("R20261125-0001").state).toBe("completed");
    const summary = cells2.get("NMC-0042").summary;
    // Cycle 1 ended twice (before the crash and after the resume): counted once.
    expect(summary.cycleCount).toBe(3);
    expect(summary.dischargeAh).toBeCloseTo(3 * HALF_CYCLE_AH, 4);
    expect(summary.chargeAh).toBeCloseTo(3 * HALF_CYCLE_AH, 4);
    expect(summary.lastDischargeAh).toBeCloseTo(HALF_CYCLE_AH, 4);
    expect(summary.lastChannel).toBe("ch1");
    await second.bench.shutdown();
    await first.bench.shutdown();
    cells2.close();
    runStore2.close();
  });

  it("lets the run go on when its cell's history cannot be written, and logs why", async () => {
    const logs: string[] = [];
    const logger = createLogger({
      level: "info",
      destination: { write: (line: string) => void logs.push(line) },
    });
    const { bench, clock } = await openSimBench({ auto: false });
    const runs = new RunManager(bench, { logger });
    const store = new (class extends CellStore {
      override saveHistory(_id: string, _history: CellHistory, _run: string): void {
        throw new Error("disk full");
      }
    })(":memory:");
    const cells = new CellRegistry(store, runs, bench, logger);
    cells.register(DOC, CELL);
    cells.mount("NMC-0042", "ch1");
    bench.start();
    await runs.create(
      { channel: "ch1", cell: cells.cellForRun("ch1", undefined), profile: cycling },
      "R20261125-0001",
    );
    await clock.advanceTo(1_000_000);
    expect(runs.get("R20261125-0001").state).toBe("completed");
    const errors = logs.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
    expect(errors).toContainEqual(
      expect.objectContaining({
        msg: "updating a cell's history failed; the run goes on",
        err: expect.objectContaining({ message: "disk full" }),
      }),
    );
    await bench.shutdown();
    cells.close();
  });

  it("does not adopt the runs of an inline cell registered later under the same id", async () => {
    const { bench, clock } = await openSimBench({ auto: false });
    const runs = new RunManager(bench);
    const cells = new CellRegistry(new CellStore(":memory:"), runs, bench);
    bench.start();
    await runs.create({ channel: "ch1", cell: CELL, profile: cycling }, "R20261125-0001");
    await clock.advanceTo(100_000);
    await clock.advanceBy(1000);
    cells.register(DOC, CELL);
    await clock.advanceTo(1_000_000);
    expect(runs.get("R20261125-0001").state).toBe("completed");
    expect(cells.get("NMC-0042").summary).toMatchObject({ runCount: 0, cycleCount: 0, dischargeAh: 0 });
    await bench.shutdown();
    cells.close();
  });
});
