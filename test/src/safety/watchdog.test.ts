import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import type { SimChamber } from "../../../drivers/sim/sim-chamber.js";
import type { SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import { Bench } from "../../../src/bench/bench.js";
import { defaultWatchdogMs, Watchdog } from "../../../src/safety/watchdog.js";
import { profile, rest } from "../../support/profile-builders.js";
import {
  never,
  RESTING,
  registerScriptedCycler,
  scriptedBenchConfig,
} from "../../support/scripted-cycler.js";
import { NMC_18650, openSimBench, recordingListener } from "../../support/sim-bench.js";

/** A cycler whose reads stop returning at all once `hang` is set (a driver stuck in a call). */
const hung = { hang: false, safeStates: 0 };
registerScriptedCycler("test/hanging-cycler", "h1", {
  read: () => (hung.hang ? never() : Promise.resolve({ ...RESTING })),
  toSafeState: async () => {
    hung.safeStates++;
  },
});

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

  it("leaves a run that a restart interrupted alone: it waits for resume or stop, whatever goes silent", async () => {
    const { bench, clock } = await openSimBench({ auto: false, periodMs: 100 });
    const engine = bench.attachRun("ch1", { id: "R1", cell: NMC_18650, profile: profile([rest(3600)]) }, {});
    bench.start();
    await engine.start();
    for (let t = 0; t <= 500; t += 100) await clock.advanceTo(t);
    await engine.interrupt("daemon shut down");
    const channel = bench.channel("ch1").channel as SimCyclerChannel;
    const chamber = bench.chambers.get("tc1")!.chamber as SimChamber;
    channel.faults.set({ dropReplies: { probability: 1 } });
    chamber.faults.set({ dropReplies: { probability: 1 } });
    for (let t = 600; t <= 5000; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("interrupted");
    channel.faults.clear();
    chamber.faults.clear();
    await engine.resume();
    await clock.advanceTo(5100);
    expect(engine.currentState).toBe("running");
    await bench.shutdown();
  });

  it("runs on a loop of its own: a device tick that never returns still faults the run", async () => {
    const clock = new VirtualClock();
    const bench = await Bench.open(scriptedBenchConfig("test/hanging-cycler", 100), clock);
    const engine = bench.attachRun("h1", { id: "R1", cell: NMC_18650, profile: profile([rest(3600)]) }, {});
    bench.start();
    await engine.start();
    for (let t = 0; t <= 500; t += 100) await clock.advanceTo(t);
    hung.hang = true;
    hung.safeStates = 0;
    for (let t = 600; t <= 2000; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(/^no fresh sample from h1 for 1\.\d s \(watchdog\)/);
    expect(hung.safeStates).toBeGreaterThanOrEqual(1);
    hung.hang = false;
  });

  it("faults a run started on a channel that had already gone silent before it began", async () => {
    const clock = new VirtualClock();
    const bench = await Bench.open(scriptedBenchConfig("test/hanging-cycler", 100), clock);
    bench.start();
    hung.hang = true;
    for (let t = 0; t <= 3000; t += 100) await clock.advanceTo(t);
    const engine = bench.attachRun("h1", { id: "R2", cell: NMC_18650, profile: profile([rest(3600)]) }, {});
    await engine.start();
    for (let t = 3100; t <= 3900; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("running"); // within the watchdog time of the run's start
    for (let t = 4000; t <= 4500; t += 100) await clock.advanceTo(t);
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(/^no fresh sample from h1 for 1\.\d s \(watchdog\)/);
    hung.hang = false;
  });
});
