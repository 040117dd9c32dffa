import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunCheckpoint } from "../../../src/engine/run-engine.js";
import type { CellRecord, CycleRecord, RunEventRecord } from "../../../src/run/records.js";
import { RunManager, type RunSink } from "../../../src/run/run-manager.js";
import { RunStore } from "../../../src/run/run-store.js";
import { ProfileWork } from "../../../src/work/profile-work.js";
import type { EstimateInput } from "../../../src/work/task-types.js";
import { currentCycles, profile, step } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

/** A sink that keeps what storage would have committed: the records and the latest checkpoint per run. */
function memorySink(): RunSink & {
  cells: CellRecord[];
  events: RunEventRecord[];
  checkpoints: Map<string, { state: unknown }>;
} {
  const checkpoints = new Map<string, { state: unknown }>();
  const cells: CellRecord[] = [];
  const events: RunEventRecord[] = [];
  return {
    cells,
    events,
    checkpoints,
    logCell: (r) => cells.push(r),
    logRunEvent: (e) => events.push(e),
    logCycle: () => undefined,
    logStep: () => undefined,
    setCheckpoint: (run, cp: RunCheckpoint) => checkpoints.set(run, { state: structuredClone(cp) }),
    deleteCheckpoint: (run) => checkpoints.delete(run),
  };
}

const scratch = mkdtempSync(join(tmpdir(), "cellbench-runs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cycling = currentCycles();

describe("RunManager across a restart", () => {
  it("brings a run back interrupted with its counters, and resumes it to the same totals", async () => {
    const storePath = join(scratch, "runs.db");
    const sink = memorySink();
    const first = await openSimBench({ auto: false });
    const store1 = new RunStore(storePath);
    const runs1 = new RunManager(first.bench, { sink, store: store1 });
    first.bench.start();
    await runs1.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0001");
    await first.clock.advanceTo(250_000); // cycle 2, 50 s into its discharge
    const before = runs1.get("R20261125-0001").status!;
    expect([before.cycleIndex, before.stepIndex, before.stepElapsedS]).toEqual([2, 3, 50]);
    // The daemon dies here: no shutdown, only what the sink holds survives.
    store1.close();

    const second = await openSimBench({ auto: false });
    const store2 = new RunStore(storePath);
    const runs2 = new RunManager(second.bench, { sink, store: store2 });
    runs2.recover(sink.checkpoints);
    const recovered = runs2.get("R20261125-0001");
    expect(recovered.state).toBe("interrupted");
    expect(recovered.reason).toBe("daemon restarted while the run was running");
    expect(recovered.status).toMatchObject({ cycleIndex: 2, stepIndex: 3, stepElapsedS: 50 });
    expect(recovered.status!.total.dischargeAh).toBeCloseTo(before.total.dischargeAh, 9);
    // The channel stays reserved for the interrupted run until it is resumed or stopped.
    await expect(
      runs2.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0002"),
    ).rejects.toMatchObject({
      code: "CHANNEL_BUSY",
      message:
        "channel ch1 holds run R20261125-0001, interrupted by a restart or shutdown; resume or stop it, or choose another channel",
    });

    second.bench.start();
    await runs2.control("R20261125-0001", "resume");
    await second.clock.advanceTo(10_000_000);
    const done = runs2.get("R20261125-0001");
    expect(done.state).toBe("completed");
    expect(done.status!.stepIndex).toBe(6);
    expect(done.status!.total.dischargeAh).toBeCloseTo((3 * 1.5 * 100) / 3600, 4);
    expect(done.status!.total.chargeAh).toBeCloseTo((3 * 1.5 * 100) / 3600, 4);
    expect(done.history.map((h) => h.state)).toEqual([
      "queued",
      "running",
      "interrupted",
      "running",
      "completed",
    ]);
    expect(sink.checkpoints.has("R20261125-0001")).toBe(false);
    // The first bench is never shut down: its process "died" above (its clock never moves again).
    await second.bench.shutdown();
    store2.close();
  });

  it("interrupts active runs on shutdown: output off, counters checkpointed, resumable", async () => {
    const sink = memorySink();
    const { bench, clock } = await openSimBench({ auto: false });
    const runs = new RunManager(bench, { sink });
    bench.start();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0003");
    await clock.advanceTo(40_000);
    await runs.interruptAll("daemon shut down");
    const run = runs.get("R20261125-0003");
    expect([run.state, run.reason]).toEqual(["interrupted", "daemon shut down"]);
    expect((await bench.channel("ch1").channel.read()).currentA).toBe(0);
    const checkpoint = sink.checkpoints.get("R20261125-0003")?.state as RunCheckpoint;
    expect([checkpoint.state, checkpoint.stepIndex, checkpoint.stepElapsedS]).toEqual(["interrupted", 1, 40]);
    await runs.control("R20261125-0003", "resume");
    await clock.advanceTo(10_000_000);
    expect(runs.get("R20261125-0003").status?.total.dischargeAh).toBeCloseTo((3 * 1.5 * 100) / 3600, 4);
    await bench.shutdown();
  });
});

describe("an ended run (issue 11: finished runs' heavy state released)", () => {
  it("lets go of its engine and its profile's steps, and keeps its final status", async () => {
    const { bench } = await openSimBench();
    const runs = new RunManager(bench, { sink: memorySink() });
    bench.start();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0041");
    await eventually(() => runs.get("R20261125-0041").state === "completed", "the run to complete", 20_000);
    await eventually(() => runs.activeRuns().length === 0, "the engine to be let go", 1000);
    const info = runs.get("R20261125-0041");
    expect(info.status?.state).toBe("completed");
    expect(info.status?.testTimeS).toBeGreaterThanOrEqual(600);
    expect(info.profile).toBe("test");
    const managed = (
      runs as unknown as { runs: Map<string, { engine: unknown; stored: { profile: { steps: unknown[] } } }> }
    ).runs.get("R20261125-0041");
    await eventually(() => managed?.engine === undefined, "the engine reference to be dropped", 1000);
    expect(managed?.stored.profile.steps).toEqual([]);
    await expect(runs.control("R20261125-0041", "pause")).rejects.toMatchObject({
      code: "RUN_INVALID_TRANSITION",
    });
    await bench.shutdown();
  });
});

describe("RunManager estimates", () => {
  // Estimates run on the profile worker, as in the daemon (at the test's priority: see sharedProfileWork).
  const work = new ProfileWork({ nice: 0 });
  afterAll(() => work.close());
  const estimator = (input: EstimateInput) => work.run("estimate", input);
  const rest = (durationS: number) => profile([step({ kind: "rest" }, { durationS })]);

  it("places a short profile exactly (1 s samples) and still gives a profile of months an ETA (30 s samples)", async () => {
    const { bench } = await openSimBench({ auto: false });
    const runs = new RunManager(bench, { sink: memorySink(), estimator });
    bench.start();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: rest(61) }, "R20261125-0011");
    await eventually(() => runs.get("R20261125-0011").progress !== null, "the short estimate", 60_000);
    // 61 s on 30 s samples would end at 90 s: the fine pass ran.
    expect(runs.get("R20261125-0011").progress?.estimatedTotalS).toBe(61);
    await runs.control("R20261125-0011", "stop");

    await runs.create({ channel: "ch1", cell: NMC_18650, profile: rest(90 * 86_400 + 7) }, "R20261125-0012");
    await eventually(() => runs.get("R20261125-0012").progress !== null, "the long estimate", 60_000);
    // 90 days is beyond the fine pass's 14 days: the coarse estimate, within one coarse sample.
    const months = runs.get("R20261125-0012").progress?.estimatedTotalS ?? 0;
    expect(months).toBeGreaterThanOrEqual(90 * 86_400 + 7);
    expect(months).toBeLessThanOrEqual(90 * 86_400 + 7 + 30);
    await bench.shutdown();
  }, 90_000);

  it("starts the estimate from the resting cell's state of charge, not 50 %", async () => {
    const discharge = profile([
      step(
        { kind: "constant", direction: "discharge", value: { kind: "current", amps: 3 } },
        { conditions: [{ kind: "voltage", volts: 2.75 }] },
      ),
    ]);
    const totals: number[] = [];
    for (const [initialSoc, id] of [
      [0.9, "R20261125-0031"],
      [0.3, "R20261125-0032"],
    ] as const) {
      const { bench, clock } = await openSimBench({ auto: false, initialSoc });
      const runs = new RunManager(bench, { sink: memorySink(), estimator });
      bench.start();
      await clock.advanceTo(2000); // a resting sample to read the state of charge from
      await runs.create({ channel: "ch1", cell: NMC_18650, profile: discharge }, id);
      await eventually(() => runs.get(id).progress !== null, "the estimate", 30_000);
      totals.push(runs.get(id).progress!.estimatedTotalS);
      await bench.shutdown();
    }
    // A 1 C discharge to the cut-off takes about 0.9 h from 90 % and 0.3 h from 30 %.
    expect(totals[0]).toBeGreaterThan(0.75 * 3600);
    expect(totals[1]).toBeLessThan(0.4 * 3600);
  }, 60_000);

  it("estimates a run recovered after a restart again, so it shows progress once resumed", async () => {
    const storePath = join(scratch, "runs-estimate.db");
    const sink = memorySink();
    const first = await openSimBench({ auto: false });
    const store1 = new RunStore(storePath);
    const runs1 = new RunManager(first.bench, { sink, store: store1, estimator });
    first.bench.start();
    await runs1.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0021");
    await first.clock.advanceTo(150_000);
    store1.close();

    const second = await openSimBench({ auto: false });
    const store2 = new RunStore(storePath);
    const runs2 = new RunManager(second.bench, { sink, store: store2, estimator });
    runs2.recover(sink.checkpoints);
    await eventually(
      () => runs2.get("R20261125-0021").progress !== null,
      "the recovered run's estimate",
      30_000,
    );
    const progress = runs2.get("R20261125-0021").progress!;
    expect(progress.estimatedTotalS).toBe(600);
    expect(progress.fraction).toBeCloseTo(150 / 600, 2);
    await second.bench.shutdown();
    store2.close();
  }, 60_000);
});

describe("capacity retention against the cell's first cycle", () => {
  it("uses the cell's history when the registry knows its first cycle, and keeps it across a restart", async () => {
    const storePath = join(scratch, "retention.db");
    const { bench, clock } = await openSimBench({ auto: false });
    const store = new RunStore(storePath);
    const cycles: CycleRecord[] = [];
    const runs = new RunManager(bench, { sink: memorySink(), store });
    runs.firstCycleOf = (id) => (id === NMC_18650.id ? 0.1 : undefined);
    runs.subscribe((e) => {
      if (e.type === "cycle") cycles.push(e.summary);
    });
    bench.start();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: cycling }, "R20261125-0009");
    await clock.advanceTo(700_000);
    expect(cycles).toHaveLength(3);
    // 1.5 A for 100 s is 0.0417 Ah: retention against the history's 0.1 Ah, not against cycle 1.
    for (const c of cycles) expect(c.capacityRetention).toBeCloseTo(c.dischargeAh / 0.1, 9);
    expect(cycles[0]?.capacityRetention).toBeLessThan(0.5);
    expect(store.all().find((r) => r.id === "R20261125-0009")?.firstCycleDischargeAh).toBe(0.1);
    store.close();
    await bench.shutdown();
  });
});
