/**
 * The safety supervisor on a simulated bench (virtual clock): direction-aware temperature windows
 * while running, chambers bounded by every cell inside, and a cell's thermal fault taking its whole
 * chamber to safe state.
 */
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import type { SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { SafetySupervisor } from "../../../src/safety/supervisor.js";
import { chamber, profile, rest, step } from "../../support/profile-builders.js";
import { ASSLB_POUCH, NMC_18650, recordingListener, runToEnd } from "../../support/sim-bench.js";

const sample = (temperatureC: number, currentA: number) => ({
  channel: "ch1",
  tMonoMs: 0,
  tWallMs: 0,
  voltageV: 3.8,
  currentA,
  temperatureC,
});

describe("SafetySupervisor rules", () => {
  const supervisor = new SafetySupervisor();
  supervisor.watch("ch1", NMC_18650, "R1", { temperatureRequired: true });

  it("applies the charge window while current flows in and the discharge window while it flows out", () => {
    expect(supervisor.inspect(sample(50, -3), true)).toBeUndefined();
    expect(supervisor.inspect(sample(50, 0.005), true)).toBeUndefined();
    expect(supervisor.inspect(sample(46.2, 0.05), true)).toEqual({
      kind: "charge-window",
      reason: "charging at 46.2 °C, outside the cell's 0..45 °C charge window",
    });
    expect(supervisor.inspect(sample(-0.5, 1), true)).toBeUndefined();
    expect(supervisor.inspect(sample(-1.5, 1), true)?.kind).toBe("charge-window");
  });

  it("treats a missing temperature as a violation unless the run was started with an override", () => {
    expect(supervisor.inspect(sample(Number.NaN, 0), true)).toEqual({
      kind: "no-temperature",
      reason: "no cell temperature reading (sensor lost or missing)",
    });
    const overridden = new SafetySupervisor();
    overridden.watch("ch1", NMC_18650, "R1", { temperatureRequired: false });
    expect(overridden.inspect(sample(Number.NaN, 1), true)).toBeUndefined();
  });

  it("checks a resting cell after its run for what threatens its neighbours only", () => {
    expect(supervisor.inspect({ ...sample(25, 0), voltageV: 2.0 }, false)).toBeUndefined();
    expect(supervisor.inspect(sample(80, 0), false)?.kind).toBe("over-temperature");
  });

  it("refuses a chamber set point outside the range of any cell inside, naming it", () => {
    const s = new SafetySupervisor();
    s.watch("ch1", ASSLB_POUCH, "R1", { temperatureRequired: true });
    s.watch("ch2", NMC_18650, "R2", { temperatureRequired: true });
    expect(s.chamberSetpointRefusal("tc1", 60, ["ch1", "ch2"])).toBeUndefined();
    expect(s.chamberSetpointRefusal("tc1", 105, ["ch1", "ch2"])).toBe(
      "chamber tc1 may not go to 105 °C: cell NMC-0042 (li-ion-nmc) on channel ch2 is inside and allows -20..60 °C; take the cell out (DELETE /api/v1/channels/ch2/cell) or choose a set point within its range",
    );
    s.release("ch2");
    expect(s.chamberSetpointRefusal("tc1", 105, ["ch1", "ch2"])).toBeUndefined();
  });
});

describe("runtime temperature windows (issue 10 finding 3)", () => {
  it("holds a charge off while a cell warmed by a 3C discharge is above its charge window, then charges", async () => {
    // In a 44 °C chamber a 3C discharge heats the NMC cell to ~56 °C; the charge that follows waits.
    const cell: CellSpec = { ...NMC_18650, currentA: [-10, 6] };
    const p = profile([
      step({ kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 3 } }, { durationS: 600 }),
      step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } }, { durationS: 1200 }),
    ]);
    const { engine, transcript } = await runToEnd(p, { cell, chamberC: 44, initialSoc: 0.95 });
    expect(engine.currentState).toBe("completed");
    const charging = transcript.records.filter((r) => r.currentA > 0.01);
    expect(charging.length).toBeGreaterThan(1000);
    // Never charged beyond the window plus the sensor margin (one sample may show the crossing).
    expect(charging.filter((r) => r.temperatureC > 46).length).toBeLessThanOrEqual(1);
    const waits = transcript.states.filter((e) => e.reason.startsWith("waiting: "));
    expect(waits[0]?.reason).toMatch(
      /^waiting: cell NMC-0042 at 5\d(\.\d)? °C is outside its 0\.\.45 °C charge window$/,
    );
    // The charge step's time stood still while it waited: it charged for its full 20 minutes.
    expect(charging.length).toBeGreaterThanOrEqual(1199);
  });

  it("faults a step that waits longer than the bound for its window", async () => {
    // The chamber holds 55 °C (within the NMC cell's 60 °C maximum, above its 45 °C charge window).
    const p = profile([
      chamber(55, 1800, 1),
      step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 0.5 } }, { durationS: 600 }),
    ]);
    const { engine, transcript } = await runToEnd(p, { chamberC: 55 });
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(
      /^waited 120 min for the cell to come into its temperature window: cell NMC-0042 at 5\d(\.\d)? °C is outside its 0\.\.45 °C charge window$/,
    );
    expect(transcript.records.filter((r) => r.currentA > 0.01)).toEqual([]);
  });

  it("lets a CV hold below the cell's voltage discharge at 50 °C (a discharge, issue 10 finding 2)", async () => {
    const p = profile([step({ kind: "hold", volts: 3.6 }, { durationS: 300 })]);
    const { engine, transcript } = await runToEnd(p, { chamberC: 50, initialSoc: 0.9 });
    expect(engine.currentState).toBe("completed");
    expect(transcript.records.some((r) => r.currentA < -0.1)).toBe(true);
    expect(transcript.states.filter((e) => e.reason.startsWith("waiting"))).toEqual([]);
  });
});

describe("chambers know who is inside (issue 10 finding 4)", () => {
  const config: BenchConfig = {
    source: "test",
    bench: "b",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      {
        id: "cycler1",
        driver: "sim/cycler",
        channels: ["ch1", "ch2"],
        options: { cell: ASSLB_POUCH, initialSoc: 0.5 },
      },
      { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
    ],
    chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
    samplingPeriodMs: 1000,
    tokens: [],
  };

  it("refuses a 105 °C step while an NMC cell rests in the chamber, even after the NMC run ended", async () => {
    const clock = new VirtualClock({ auto: true });
    const bench = await Bench.open(config, clock);
    bench.start();
    const nmc = bench.attachRun("ch2", { id: "R-NMC", cell: NMC_18650, profile: profile([rest(5)]) }, {});
    await nmc.start();
    while (!nmc.isTerminal) await clock.sleepUntil(clock.now() + 1000);
    expect(nmc.currentState).toBe("completed");
    expect(() =>
      bench.attachRun(
        "ch1",
        { id: "R-SSB", cell: ASSLB_POUCH, profile: profile([chamber(105), rest(60)]) },
        {},
      ),
    ).toThrow(/chamber tc1 may not go to 105 °C: cell NMC-0042 \(li-ion-nmc\) on channel ch2 is inside/);
    bench.releaseCell("ch2");
    const ssb = bench.attachRun(
      "ch1",
      { id: "R-SSB", cell: ASSLB_POUCH, profile: profile([chamber(105), rest(60)]) },
      {},
    );
    await ssb.start();
    await clock.sleepUntil(clock.now() + 5000);
    expect(ssb.currentState).toBe("running");
    await bench.shutdown();
  });

  it("puts the chamber into safe state, latched, and holds the other run when a cell runs away", async () => {
    const clock = new VirtualClock({ auto: false });
    const bench = await Bench.open(config, clock);
    bench.start();
    const a = bench.attachRun("ch1", { id: "RA", cell: ASSLB_POUCH, profile: profile([rest(3600)]) }, {});
    const { listener, transcript } = recordingListener();
    const b = bench.attachRun(
      "ch2",
      { id: "RB", cell: ASSLB_POUCH, profile: profile([rest(3600)]) },
      listener,
    );
    await a.start();
    await b.start();
    for (let t = 0; t <= 3000; t += 1000) await clock.advanceTo(t);
    // The cell on ch1 reads 800 °C (a runaway, or its sensor shows one).
    (bench.channel("ch1").channel as SimCyclerChannel).cell.temperatureC = 800;
    for (let t = 4000; t <= 8000; t += 1000) await clock.advanceTo(t);
    expect(a.currentState).toBe("faulted");
    expect(b.currentState).toBe("paused");
    expect(b.status().reason).toMatch(
      /^held: chamber tc1 in safe state after a fault of cell ASSLB-0007 on ch1: temperature \d{3}(\.\d+)? °C outside -25\.\.110 °C$/,
    );
    expect(bench.chambers.get("tc1")?.latched).toMatch(
      /^temperature \d{3}(\.\d+)? °C outside -25\.\.110 °C \(cell ASSLB-0007 on ch1\)$/,
    );
    expect(() => bench.prepareToDrive("ch2")).toThrow(/chamber tc1 is in safe state after a safety fault/);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "paused"]);
    await bench.shutdown();
  });
});
