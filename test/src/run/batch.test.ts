/** Batches across a restart: the batch takes its chamber back, so its runs recover as its members. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { Batches } from "../../../src/run/batch.js";
import { BatchStore } from "../../../src/run/batch-store.js";
import { RunManager } from "../../../src/run/run-manager.js";
import { RunStore } from "../../../src/run/run-store.js";
import { profile, rest, sweep } from "../../support/profile-builders.js";
import { NMC_18650, simBenchConfig } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

const CONFIG: BenchConfig = {
  ...simBenchConfig(),
  devices: [
    { id: "cycler1", driver: "sim/cycler", channels: ["ch1", "ch2"], options: { initialSoc: 0.5 } },
    { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
  ],
  chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
};

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What the daemon does at start-up (src/daemon.ts), on a store file. */
async function daemon(path: string) {
  const bench = await Bench.open(CONFIG, new VirtualClock({ auto: true }));
  const runStore = new RunStore(path);
  const runs = new RunManager(bench, { store: runStore });
  const batchStore = new BatchStore(path);
  const batches = new Batches(bench, runs, { store: batchStore });
  runs.recover(new Map());
  batches.reconcile();
  bench.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    batches.close();
    await bench.shutdown();
    batchStore.close();
    runStore.close();
  };
  closers.push(close);
  return { bench, runs, batches, close };
}

const request = {
  members: [
    { channel: "ch1", cell: { ...NMC_18650, id: "NMC-1" } },
    { channel: "ch2", cell: { ...NMC_18650, id: "NMC-2" } },
  ],
  profile: profile([sweep([30, 35], [rest(600)], 60)], { name: "sweep" }),
};
const RUNS = ["R20260101-0001", "R20260101-0002"];

function storePath(): string {
  const dir = mkdtempSync(join(tmpdir(), "batch-"));
  dirs.push(dir);
  return join(dir, "cellbench.db");
}

describe("Batches across a restart", () => {
  it("takes the chamber back before the runs recover, resumes them together and ends", async () => {
    const path = storePath();
    const before = await daemon(path);
    const batch = await before.batches.start(request, RUNS);
    await eventually(
      () => RUNS.every((id) => before.runs.get(id).status?.stepPath === "steps[0].steps[0]"),
      "both runs in the sweep's body",
      20_000,
    );
    await before.runs.interruptAll("daemon shut down");
    await before.close();

    const after = await daemon(path);
    expect(after.bench.chambers.get("tc1")?.owner).toBe(batch.id);
    const recovered = after.batches.get(batch.id);
    expect(recovered.state).toBe("running");
    expect(recovered.runs.map((r) => r.run?.state)).toEqual(["interrupted", "interrupted"]);
    const resumed = await after.batches.resume(batch.id);
    expect(resumed.runs.map((r) => r.run?.state)).toEqual(["running", "running"]);
    await eventually(() => after.batches.get(batch.id).state === "ended", "the batch to end", 30_000);
    expect(RUNS.map((id) => after.runs.get(id).state)).toEqual(["completed", "completed"]);
    expect(after.bench.chambers.get("tc1")?.owner).toBeUndefined();
  });

  it("lets the chamber go at start-up when the batch's runs had all ended unrecorded", async () => {
    const path = storePath();
    const before = await daemon(path);
    const batch = await before.batches.start(request, RUNS);
    before.batches.close(); // From here on the batch hears nothing (a crash right as it ends).
    for (const id of RUNS) await before.runs.control(id, "stop");
    await before.close();

    const after = await daemon(path);
    expect(after.batches.get(batch.id).state).toBe("ended");
    expect(after.bench.chambers.get("tc1")?.owner).toBeUndefined();
  });
});
