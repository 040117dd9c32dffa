/** Channel queues across a restart: kept in their store, held, and started only when an operator resumes. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Bench } from "../../../src/bench/bench.js";
import { QueueStore } from "../../../src/run/queue-store.js";
import { RunManager } from "../../../src/run/run-manager.js";
import { RESTART_HOLD, RunQueues } from "../../../src/run/run-queue.js";
import { profile, rest } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

const dirs: string[] = [];
const benches: Bench[] = [];
afterEach(async () => {
  for (const bench of benches.splice(0)) await bench.shutdown();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function daemon(path: string) {
  const { bench, clock } = await openSimBench({ auto: true });
  benches.push(bench);
  bench.start();
  const runs = new RunManager(bench);
  const store = new QueueStore(path);
  const queues = new RunQueues(bench, runs, { store });
  return { bench, clock, runs, queues, store };
}

const request = (name: string, seconds: number) => ({
  channel: "ch1",
  cell: NMC_18650,
  profile: profile([rest(seconds)], { name }),
});

describe("RunQueues across a restart", () => {
  it("keeps the queue, held, and starts nothing until an operator resumes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "queue-"));
    dirs.push(dir);
    const path = join(dir, "cellbench.db");

    const before = await daemon(path);
    expect((await before.queues.add(request("a", 7200), "R20261204-0001")).state).toBe("running");
    expect((await before.queues.add(request("b", 60), "R20261204-0002")).state).toBe("queued");
    await before.queues.add(request("c", 60), "R20261204-0003");
    // A shutdown interrupts the run on the channel: the queue holds, and says so.
    await before.runs.interruptAll("daemon shut down");
    expect(before.queues.queue("ch1").held).toBe("run R20261204-0001 was interrupted (daemon shut down)");
    before.queues.close();
    before.store.close();

    const after = await daemon(path);
    const q = after.queues.queue("ch1");
    expect(q.held).toBe("run R20261204-0001 was interrupted (daemon shut down)");
    expect(q.runs.map((r) => [r.id, r.state])).toEqual([
      ["R20261204-0002", "queued"],
      ["R20261204-0003", "queued"],
    ]);
    expect(after.queues.ids()).toEqual(["R20261204-0002", "R20261204-0003"]);
    const t0 = after.clock.now();
    await eventually(() => after.clock.now() > t0 + 300_000, "five simulated minutes");
    expect(after.bench.channel("ch1").run).toBeUndefined();

    const resumed = await after.queues.resume("ch1");
    expect(resumed).toMatchObject({ held: undefined, current: "R20261204-0002" });
    await eventually(
      () => after.runs.list().some((r) => r.id === "R20261204-0003" && r.state === "completed"),
      "both queued runs to complete",
      30_000,
    );
    expect(after.queues.queue("ch1").runs).toEqual([]);
    after.queues.close();
    after.store.close();
  });

  it("holds a queue that a crash left behind (nothing recorded a hold)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "queue-"));
    dirs.push(dir);
    const path = join(dir, "cellbench.db");
    const before = await daemon(path);
    await before.queues.add(request("a", 7200), "R20261204-0001");
    await before.queues.add(request("b", 60), "R20261204-0002");
    // Killed: no event reaches the queue any more.
    before.queues.close();
    before.store.close();

    const after = await daemon(path);
    expect(after.queues.queue("ch1").held).toBe(RESTART_HOLD);
    expect(after.queues.list().map((r) => r.id)).toEqual(["R20261204-0002"]);
    after.queues.clear("ch1");
    after.queues.close();
    after.store.close();
    const reopened = new QueueStore(path);
    expect([...reopened.all().keys()]).toEqual([]);
    reopened.close();
  });
});
