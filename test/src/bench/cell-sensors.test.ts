/** Issue 13: a channel's cell temperature from the sensors the configuration names. */
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import type { CellRecord } from "../../../src/run/records.js";
import { RunManager } from "../../../src/run/run-manager.js";
import { profile, step } from "../../support/profile-builders.js";
import { RESTING, registerScriptedCycler } from "../../support/scripted-cycler.js";
import { registerScriptedSensors } from "../../support/scripted-sensors.js";
import { NMC_18650 } from "../../support/sim-bench.js";
import { rejection } from "../../support/wait.js";

const PERIOD_MS = 100;
let safeStates = 0;
// A real cycler: no cell temperature of its own.
registerScriptedCycler("test/tc-cycler", "ch1", {
  read: async () => ({ ...RESTING, temperatureC: Number.NaN }),
  toSafeState: async () => {
    safeStates++;
  },
});
const daq = registerScriptedSensors("test/tc-daq", ["101", "102", "103"]);

function config(
  sensors: { device: string; input: string }[] = [
    { device: "daq1", input: "101" },
    { device: "daq1", input: "102" },
  ],
): BenchConfig {
  return {
    source: "test",
    bench: "b",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      { id: "psb1", driver: "test/tc-cycler", channels: ["ch1"] },
      { id: "daq1", driver: "test/tc-daq" },
    ],
    chambers: [],
    cellSensors: { ch1: sensors },
    samplingPeriodMs: PERIOD_MS,
    tokens: [],
  };
}

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.shutdown();
  bench = undefined;
  daq.failure = undefined;
  for (const input of ["101", "102", "103"]) daq.set(input, 25);
  safeStates = 0;
});

async function openBench(c = config()) {
  const clock = new VirtualClock();
  bench = await Bench.open(c, clock);
  bench.start();
  await clock.advanceTo(PERIOD_MS);
  return { bench, clock, runs: new RunManager(bench) };
}

/** A gentle 1 h charge (0.1C of the 3 Ah cell). */
const charge = () =>
  profile([
    step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 0.1 } }, { durationS: 3600 }),
  ]);

describe("cell temperature from configured sensors", () => {
  it("is the hottest sensor, with each sensor's value and the scan's age", async () => {
    daq.set("101", 24.5);
    daq.set("102", 27.25);
    const { bench, clock } = await openBench();
    await clock.advanceTo(3 * PERIOD_MS);
    const sample = bench.channel("ch1").latest;
    expect(sample?.temperatureC).toBe(27.25);
    expect(sample?.temperaturesC).toEqual({ "daq1:101": 24.5, "daq1:102": 27.25 });
    expect(sample?.temperatureAgeMs).toBeGreaterThanOrEqual(0);
    expect(sample?.temperatureAgeMs).toBeLessThanOrEqual(PERIOD_MS);
    expect(sample?.temperatureFault).toBeUndefined();
  });

  it("lifts the no-temperature refusal: a run starts without an override, and its records carry every sensor", async () => {
    const { bench, clock } = await openBench();
    const records: CellRecord[] = [];
    const runs = new RunManager(bench, {
      sink: {
        logCell: (r) => records.push(r),
        logCycle: () => undefined,
        logStep: () => undefined,
        logRunEvent: () => undefined,
        setCheckpoint: () => undefined,
        deleteCheckpoint: () => undefined,
      },
    });
    daq.set("101", 26);
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    expect(runs.get("R1").state).toBe("running");
    expect(records.at(-1)).toMatchObject({ temperatureC: 26, sensorsC: { "daq1:101": 26, "daq1:102": 25 } });
  });

  it("faults the run within one period when a sensor passes the cell's limit, naming the sensor", async () => {
    const { runs, clock } = await openBench();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    const before = safeStates;
    daq.set("102", 75);
    // The next period's scan sees it, and the channel sampled after it in that period.
    await clock.advanceTo(11 * PERIOD_MS);
    const run = runs.get("R1");
    expect(run.state).toBe("faulted");
    expect(run.reason).toMatch(/^temperature 75 °C at sensor daq1:102 outside -?\d+\.\.\d+ °C/);
    expect(safeStates).toBeGreaterThan(before);
  });

  it("reads a channel and its sensors in the same period: the channel waits for a scan under way", async () => {
    const { runs, clock } = await openBench();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    let release = () => {};
    daq.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    daq.set("102", 75);
    await clock.advanceTo(10 * PERIOD_MS + PERIOD_MS);
    expect(runs.get("R1").state).toBe("running");
    // The scan of period 11 answers 20 ms into the period; the channel's sample of period 11 uses it.
    await clock.advanceTo(11 * PERIOD_MS + 20);
    release();
    daq.hold = undefined;
    await clock.advanceTo(11 * PERIOD_MS + 21);
    expect(runs.get("R1").state).toBe("faulted");
  });

  it("acts on a slow scan as soon as it answers, not at the channel's next sample", async () => {
    const { runs, clock } = await openBench();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    let release = () => {};
    daq.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    daq.set("101", 80);
    // Longer than the channel waits for it (half a period): the channel's sample of period 11 goes on without it.
    await clock.advanceTo(11 * PERIOD_MS + 70);
    expect(runs.get("R1").state).toBe("running");
    const before = safeStates;
    release();
    daq.hold = undefined;
    await clock.advanceTo(11 * PERIOD_MS + 71);
    expect(runs.get("R1").state).toBe("faulted");
    expect(safeStates).toBeGreaterThan(before);
  });

  it("faults the run when a thermocouple opens mid-run, naming it; an override does not start another", async () => {
    const { runs, clock } = await openBench();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    daq.readings.set("101", { ok: false, fault: "open", detail: "+9.9E+37" });
    await clock.advanceTo(12 * PERIOD_MS);
    expect(runs.get("R1").state).toBe("faulted");
    expect(runs.get("R1").reason).toBe("sensor daq1:101: open sensor (+9.9E+37)");
    await runs.control("R1", "clear");
    const err = await rejection(
      runs.create(
        { channel: "ch1", cell: NMC_18650, profile: charge(), temperatureOverride: "try anyway" },
        "R2",
      ),
    );
    expect(err.code).toBe("TEMPERATURE_SENSOR_FAULT");
    expect(err.message).toContain("sensor daq1:101: open sensor");
  });

  it("faults the run when the sensor device stops answering, once its scan is older than the watchdog time", async () => {
    const { bench, runs, clock } = await openBench();
    await runs.create({ channel: "ch1", cell: NMC_18650, profile: charge() }, "R1");
    await clock.advanceTo(10 * PERIOD_MS);
    daq.failure = new Error("no reply");
    await clock.advanceTo(15 * PERIOD_MS);
    expect(runs.get("R1").state).toBe("running");
    await clock.advanceTo(30 * PERIOD_MS);
    expect(runs.get("R1").state).toBe("faulted");
    expect(runs.get("R1").reason).toMatch(
      /^sensor daq1:101: the last scan of daq1 is \d+\.\d s old \(stale\)$/,
    );
    expect(bench.channel("ch1").latest?.temperatureFault).toMatch(/stale/);
  });

  it("reads a chamber's extra sensors with its readings", async () => {
    daq.set("103", 31.5);
    const c = config();
    c.devices.push({ id: "cdev", driver: "sim/chamber" });
    c.chambers.push({
      id: "oven",
      device: "cdev",
      channels: ["ch1"],
      sensors: [{ device: "daq1", input: "103" }],
    });
    const { bench, clock } = await openBench(c);
    await clock.advanceTo(3 * PERIOD_MS);
    expect(bench.chambers.get("oven")?.sensors).toMatchObject({ ok: true, bySensor: { "daq1:103": 31.5 } });
    daq.readings.set("103", { ok: false, fault: "overload", detail: "-9.9E+37" });
    await clock.advanceTo(5 * PERIOD_MS);
    expect(bench.chambers.get("oven")?.sensors).toEqual({
      ok: false,
      fault: "sensor daq1:103: overload (-9.9E+37)",
    });
  });

  it("refuses to open a bench whose sensor is not an input of its device, or not a sensor device", async () => {
    await expect(
      Bench.open(config([{ device: "daq1", input: "109" }]), new VirtualClock()),
    ).rejects.toMatchObject({
      code: "SENSOR_NOT_AVAILABLE",
      message:
        'channel ch1: sensor daq1:109: device "daq1" has no input 109 configured; its inputs are 101, 102, 103 (add it to the device\'s options)',
    });
    await expect(
      Bench.open(config([{ device: "psb1", input: "1" }]), new VirtualClock()),
    ).rejects.toMatchObject({
      code: "SENSOR_NOT_AVAILABLE",
      message: expect.stringContaining('device "psb1" (test/tc-cycler) has no temperature inputs'),
    });
  });
});
