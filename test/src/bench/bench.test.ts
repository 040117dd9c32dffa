import { describe, expect, it } from "vitest";
import type { CyclerSetpoint } from "../../../drivers/capabilities.js";
import { ScaledClock, VirtualClock } from "../../../drivers/clock.js";
import { registerDriver } from "../../../drivers/registry.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import type { ChannelSample } from "../../../src/sampling/sample.js";
import { openSimBench } from "../../support/sim-bench.js";

const applied: CyclerSetpoint[] = [];
registerDriver({
  name: "test/real-cycler",
  description: "a stand-in for a real instrument (never simulated)",
  simulated: false,
  create: (config) => ({
    id: config.id,
    driver: config.driver,
    channels: [
      {
        id: "r1",
        ranges: { voltageV: [0, 5], currentA: [-5, 5], powerW: 25, modes: ["rest", "cc"] },
        apply: async (s) => {
          applied.push(s);
        },
        read: async () => ({ voltageV: 3.7, currentA: 0, temperatureC: 25 }),
        toSafeState: async () => {
          applied.push({ mode: "rest" });
        },
      },
    ],
    connect: async () => undefined,
    close: async () => undefined,
  }),
});

const realBench: BenchConfig = {
  source: "test",
  bench: "b",
  http: { host: "127.0.0.1", port: 0 },
  store: ":memory:",
  devices: [{ id: "psb1", driver: "test/real-cycler" }],
  chambers: [],
  samplingPeriodMs: 100,
  tokens: [],
};

describe("Bench", () => {
  it("refuses a speed other than 1 when any device is real hardware", async () => {
    await expect(Bench.open(realBench, new ScaledClock(10))).rejects.toMatchObject({
      code: "SPEED_REAL_HARDWARE",
      message: "--speed 10 is only for simulated benches; devices psb1 are real hardware — use --speed 1",
    });
  });

  it("puts every channel into safe state when it opens and when it shuts down", async () => {
    applied.length = 0;
    const clock = new VirtualClock();
    const bench = await Bench.open(realBench, clock);
    expect(applied).toEqual([{ mode: "rest" }]);
    await bench.shutdown();
    expect(applied).toEqual([{ mode: "rest" }, { mode: "rest" }]);
  });

  it("stamps every sample with monotonic and UTC wall time at the poll deadline", async () => {
    const samples: ChannelSample[] = [];
    const { bench, clock } = await openSimBench({
      auto: false,
      periodMs: 250,
      events: { channelSample: (_slot, s) => samples.push(s) },
    });
    bench.start();
    for (let t = 0; t <= 1000; t += 50) await clock.advanceTo(t);
    await bench.shutdown();
    expect(samples.map((s) => s.tMonoMs)).toEqual([0, 250, 500, 750, 1000]);
    expect(samples.map((s) => s.tWallMs - samples[0]!.tWallMs)).toEqual([0, 250, 500, 750, 1000]);
    // The chamber's loop runs half a period after the cycler's (two devices spread over the period).
    expect(bench.chambers.get("tc1")?.latest?.tMonoMs).toBe(875);
  });

  it("spreads the devices' sampling loops over the period instead of waking them all at once", async () => {
    const polls: string[] = [];
    const { bench, clock } = await openSimBench({
      auto: false,
      periodMs: 100,
      events: {
        channelSample: (_slot, s) => polls.push(`cycler1@${s.tMonoMs}`),
        chamberSample: (slot) => polls.push(`tc1@${slot.latest?.tMonoMs}`),
      },
    });
    bench.start();
    for (let t = 0; t <= 300; t += 10) await clock.advanceTo(t);
    await bench.shutdown();
    expect(polls).toEqual([
      "cycler1@0",
      "tc1@50",
      "cycler1@100",
      "tc1@150",
      "cycler1@200",
      "tc1@250",
      "cycler1@300",
    ]);
  });

  it("refuses a second run on a busy channel", async () => {
    const { bench } = await openSimBench({ auto: false });
    const profile = { name: "p", steps: [] };
    const cell = {
      id: "c",
      chemistry: "li-ion-nmc" as const,
      capacityAh: 3,
      voltageV: [2.5, 4.2] as [number, number],
      currentA: [-6, 6] as [number, number],
      temperatureC: [-20, 60] as [number, number],
    };
    bench.attachRun("ch1", { id: "R1", cell, profile }, {});
    expect(() => bench.attachRun("ch1", { id: "R2", cell, profile }, {})).toThrow(
      "channel ch1 holds run R1 (queued); stop that run, or choose another channel",
    );
    await bench.shutdown();
  });
});

describe("Bench and the wall clock", () => {
  it("reports a backwards wall-clock jump while test time keeps running on the monotonic clock", async () => {
    const errors: string[] = [];
    let jump = 0;
    const clock = new VirtualClock();
    const wallNow = clock.wallNow.bind(clock);
    clock.wallNow = () => wallNow() - jump;
    const config: BenchConfig = {
      ...realBench,
      devices: [{ id: "c", driver: "sim/cycler", channels: ["ch1"] }],
    };
    const stamps: number[] = [];
    const bench = await Bench.open(config, clock, {
      error: (_s, err) => errors.push((err as Error).message),
      channelSample: (_slot, sample) => stamps.push(sample.tWallMs),
    });
    bench.start();
    for (let t = 0; t <= 500; t += 100) await clock.advanceTo(t);
    jump = 60_000;
    for (let t = 600; t <= 800; t += 100) await clock.advanceTo(t);
    await bench.shutdown();
    expect(errors).toEqual(["wall clock went back 59900 ms (NTP step?); test time is unaffected"]);
    expect(bench.channel("ch1").latest?.tMonoMs).toBe(800);
    // Stored points are keyed by millisecond: after the step the stamps creep on 1 ms per sample
    // rather than overwrite the points already stored for those times.
    const origin = wallNow() - 800;
    expect(stamps.map((t) => t - origin)).toEqual([0, 100, 200, 300, 400, 500, 501, 502, 503]);
  });

  it("never stamps two samples of a channel with the same millisecond", async () => {
    const clock = new VirtualClock();
    const wallNow = clock.wallNow.bind(clock);
    // A wall clock that only moves every 250 ms: four 100 ms samples can fall in one reading of it.
    clock.wallNow = () => Math.floor(wallNow() / 250) * 250 + 0.4;
    const config: BenchConfig = {
      ...realBench,
      devices: [{ id: "c", driver: "sim/cycler", channels: ["ch1"] }],
    };
    const stamps: number[] = [];
    const bench = await Bench.open(config, clock, {
      channelSample: (_slot, sample) => stamps.push(sample.tWallMs),
    });
    bench.start();
    for (let t = 0; t <= 1000; t += 100) await clock.advanceTo(t);
    await bench.shutdown();
    expect(stamps).toHaveLength(11);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1] as number);
    expect(stamps.every(Number.isInteger)).toBe(true);
  });
});
