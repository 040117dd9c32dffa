import { describe, expect, it } from "vitest";
import type { SimChamber } from "../../../drivers/sim/sim-chamber.js";
import type { SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import { defaultWatchdogMs, Watchdog } from "../../../src/safety/watchdog.js";
import { profile, rest } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench, recordingListener } from "../../support/sim-bench.js";

describe("Watchdog", () => {
  it("trips once per silence, only after the timeout, and re-arms on a fresh sample", () => {
    const w = new Watchdog(1000);
    w.watch("ch1", 0);
    w.watch("ch2", 0);
    w.fresh("ch2", 900);
    expect(w.check(1000)).toEqual([]);
    expect(w.check(1001)).toEqual([{ id: "ch1", silentMs: 1001 }]);
    expect(w.check(1500)).toEqual([]);
    expect(w.check(2000)).toEqual([{ id: "ch2", silentMs: 1100 }]);
    w.fresh("ch1", 2100);
    expect(w.check(3000)).toEqual([]);
    expect(w.check(3101)).toEqual([{ id: "ch1", silentMs: 1001 }]);
  });

  it("defaults to five sample periods, at least one second", () => {
    expect(defaultWatchdogMs(100)).toBe(1000);
    expect(defaultWatchdogMs(500)).toBe(2500);
  });
});

describe("watchdog on the bench (virtual clock)", () => {
  it("faults the run and leaves the channel safe when its instrument stops answering", async () => {
    const { bench, clock } = await openSimBench({ auto: false, periodMs: 100 });
    const { listener, transcript } = recordingListener();
    const engine = bench.attachRun(
      "ch1",
      { id: "R1", cell: NMC_18650, profile: profile([rest(3600)]) },
      listener,
    );
    bench.start();
    await engine.start();
    for (let t = 0; t <= 2000; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("running");
    const channel = bench.channel("ch1").channel as SimCyclerChannel;
    channel.faults.set({ dropReplies: { probability: 1 } });
    for (let t = 2100; t <= 3000; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("running"); // 0.9 s of silence: within the 1 s watchdog
    for (let t = 3100; t <= 3500; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(/^no fresh sample from ch1 for 1\.\d s \(watchdog\)/);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "faulted"]);
    channel.faults.clear();
    expect((await channel.read()).currentA).toBe(0);
    await bench.shutdown();
  });

  it("faults every run in a chamber that stops answering", async () => {
    const { bench, clock } = await openSimBench({ auto: false, periodMs: 100 });
    const engine = bench.attachRun("ch1", { id: "R1", cell: NMC_18650, profile: profile([rest(3600)]) }, {});
    bench.start();
    await engine.start();
    for (let t = 0; t <= 1000; t += 100) await clock.advanceTo(t);
    (bench.chambers.get("tc1")!.chamber as SimChamber).faults.set({ dropReplies: { probability: 1 } });
    for (let t = 1100; t <= 2500; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(/^chamber tc1 stopped answering \(no reading for 1\.\d s\)$/);
    await bench.shutdown();
  });
});
