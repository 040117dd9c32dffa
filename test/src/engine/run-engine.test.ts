import { describe, expect, it } from "vitest";
import type { SimChamber } from "../../../drivers/sim/sim-chamber.js";
import { chamber, profile, repeat, rest, step, sweep } from "../../support/profile-builders.js";
import {
  ASSLB_POUCH,
  NMC_18650,
  openSimBench,
  recordingListener,
  runToEnd,
} from "../../support/sim-bench.js";

const C = NMC_18650.capacityAh;

describe("run engine on a simulated channel (virtual clock)", () => {
  it("ends a CC-CV step when the current tapers to C/20, holding the CV voltage", async () => {
    const p = profile([
      step(
        { kind: "cccv", direction: "charge", value: { kind: "c-rate", c: 0.5 }, holdVolts: 4.2 },
        { conditions: [{ kind: "c-rate", c: 1 / 20 }] },
      ),
    ]);
    const { engine, transcript } = await runToEnd(p, { initialSoc: 0.2 });
    expect(engine.currentState).toBe("completed");
    const step1 = transcript.records.filter((r) => r.stepIndex === 1);
    const last = step1[step1.length - 1]!;
    const beforeLast = step1[step1.length - 2]!;
    expect(last.currentA).toBeLessThanOrEqual(C / 20);
    expect(beforeLast.currentA).toBeGreaterThan(C / 20);
    expect(last.voltageV).toBeCloseTo(4.2, 3);
    // The CC phase ran at C/2 before the taper.
    expect(step1[5]!.currentA).toBeCloseTo(C / 2, 6);
    expect(transcript.steps).toHaveLength(1);
  });

  it("applies the next set point on the same sample that ended the previous step", async () => {
    const p = profile([
      step(
        { kind: "constant", direction: "discharge", value: { kind: "current", amps: 1 } },
        { durationS: 10 },
      ),
      step({ kind: "constant", direction: "charge", value: { kind: "current", amps: 2 } }, { durationS: 10 }),
    ]);
    const { transcript } = await runToEnd(p);
    const firstOfStep2 = transcript.records.findIndex((r) => r.stepIndex === 2);
    // The sample that ended step 1 is logged under step 1 and forced; the very next sample already charges.
    expect(transcript.records[firstOfStep2 - 1]!.stepIndex).toBe(1);
    expect(transcript.forced[firstOfStep2 - 1]).toBe(true);
    expect(transcript.records[firstOfStep2 - 1]!.testTimeS).toBe(10);
    expect(transcript.records[firstOfStep2]!.currentA).toBeCloseTo(2, 6);
    expect(transcript.records[firstOfStep2]!.testTimeS).toBe(11);
    // 1 A for 10 s then 2 A for 10 s: charge and discharge are integrated apart.
    const end = transcript.records[transcript.records.length - 1]!;
    expect(end.dischargeAh).toBeCloseTo(10 / 3600, 9);
    expect(end.chargeAh).toBeCloseTo(20 / 3600, 9);
  });

  it("counts nested loops: steps, cycles and one summary per cycle", async () => {
    const p = profile([
      repeat(2, [
        rest(5),
        repeat(3, [
          step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } }, { durationS: 60 }),
          step(
            { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 1 } },
            { durationS: 30 },
          ),
        ]),
      ]),
    ]);
    const { transcript, engine } = await runToEnd(p);
    expect(engine.status().stepIndex).toBe(2 * (1 + 3 * 2));
    expect(transcript.cycles.map((c) => c.cycleIndex)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const c of transcript.cycles) {
      expect(c.chargeAh).toBeCloseTo((C * 60) / 3600, 4);
      expect(c.dischargeAh).toBeCloseTo((C * 30) / 3600, 4);
      expect(c.coulombicEfficiency).toBeCloseTo(0.5, 3);
      expect(c.minTemperatureC).toBeLessThanOrEqual(c.maxTemperatureC);
    }
    // The sample that ended the last step still belongs to cycle 6.
    expect(transcript.records[transcript.records.length - 1]!.cycleIndex).toBe(6);
  });

  it("visits every sweep temperature only after the chamber is within tolerance for the soak time", async () => {
    const temps = [-20, 25, 60];
    const p = profile([
      sweep(temps, [step({ kind: "rest" }, { durationS: 60 }, { text: "measure" })], 1800, 0.5),
    ]);
    const { transcript, bench } = await runToEnd(p, { cell: ASSLB_POUCH, chamberC: 25 });
    const measureStarts = transcript.steps.filter((s) => s.text === "measure");
    expect(measureStarts).toHaveLength(3);
    const chamberPhases = transcript.steps.filter((s) => s.path.includes(".sweep["));
    expect(chamberPhases.map((s) => s.path)).toEqual([
      "steps[0].sweep[0]",
      "steps[0].sweep[1]",
      "steps[0].sweep[2]",
    ]);
    for (const [i, start] of measureStarts.entries()) {
      const at = transcript.records.find(
        (r) => r.tWallMs >= start.tWallMs && r.stepIndex === start.stepIndex,
      )!;
      // After a 30-minute soak the cell has followed the air.
      expect(Math.abs(at.temperatureC - temps[i]!)).toBeLessThan(3);
      const phaseStart = chamberPhases[i]!.tWallMs;
      expect((start.tWallMs - phaseStart) / 1000).toBeGreaterThanOrEqual(1800);
    }
    expect(bench.chambers.get("tc1")?.latest?.setpointC).toBe(60);
  });

  it("pauses and resumes with Ah, step time and cycle index intact", async () => {
    const { bench, clock } = await openSimBench({ auto: false });
    const { listener, transcript } = recordingListener();
    const p = profile([
      repeat(2, [
        step(
          { kind: "constant", direction: "discharge", value: { kind: "current", amps: 1.5 } },
          { durationS: 100 },
        ),
      ]),
    ]);
    const engine = bench.attachRun("ch1", { id: "R1", cell: NMC_18650, profile: p }, listener);
    bench.start();
    await engine.start();
    await clock.advanceTo(100_000 + 40_000); // cycle 2, 40 s into its step
    const before = engine.status();
    expect(before.cycleIndex).toBe(2);
    expect(before.stepElapsedS).toBe(40);
    await engine.pause();
    await clock.advanceBy(500_000);
    const paused = engine.status();
    expect(paused.state).toBe("paused");
    expect(paused.stepElapsedS).toBe(40);
    expect(paused.total.dischargeAh).toBeCloseTo(before.total.dischargeAh, 9);
    expect(transcript.records[transcript.records.length - 1]!.currentA).toBe(0);
    await engine.resume();
    await clock.advanceBy(59_000);
    expect(engine.currentState).toBe("running");
    await clock.advanceBy(2_000);
    expect(engine.currentState).toBe("completed");
    const end = engine.status();
    expect(end.total.dischargeAh).toBeCloseTo((1.5 * 200) / 3600, 4);
    expect(transcript.cycles).toHaveLength(2);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "paused", "running", "completed"]);
    await bench.shutdown();
  });

  it("jumps to a label when a goto limit fires, keeping the loop counter", async () => {
    const p = profile([
      step({ kind: "rest" }, { durationS: 5 }, { label: "start", text: "start" }),
      step(
        { kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } },
        { durationS: 3600 },
        {
          text: "charge",
          limits: [
            { when: { kind: "voltage", op: ">", volts: 3.9 }, then: { kind: "goto", label: "drain" } },
          ],
        },
      ),
      step({ kind: "rest" }, { durationS: 5 }, { text: "skipped" }),
      step(
        { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 1 } },
        { durationS: 60 },
        { label: "drain", text: "drain" },
      ),
    ]);
    const { transcript } = await runToEnd(p, { initialSoc: 0.5 });
    expect(transcript.steps.map((s) => s.text)).toEqual(["start", "charge", "drain"]);
    expect(transcript.steps[2]!.endedBecause).toBe("limit voltage ≥ 3.9 V");
  });

  it("aborts the run when an abort limit fires", async () => {
    const p = profile([
      step(
        { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 1 } },
        { durationS: 3600 },
        { limits: [{ when: { kind: "voltage", op: "<", volts: 3.5 }, then: { kind: "abort" } }] },
      ),
    ]);
    const { engine, transcript } = await runToEnd(p, { initialSoc: 0.5 });
    expect(engine.currentState).toBe("aborted");
    expect(engine.status().reason).toBe("limit voltage ≤ 3.5 V");
    expect(transcript.records[transcript.records.length - 1]!.currentA).toBeLessThan(0);
  });

  it("follows a current-versus-time drive cycle from its points", async () => {
    const points = [
      { tS: 0, value: 1 },
      { tS: 10, value: 2.5 },
      { tS: 20, value: 0.5 },
      { tS: 30, value: 0 },
    ];
    const p = profile([
      step({ kind: "drive-cycle", direction: "discharge", file: "cycle.csv", unit: "A", points }),
      rest(3),
    ]);
    const { transcript } = await runToEnd(p, { initialSoc: 0.8 });
    const drive = transcript.records.filter((r) => r.stepIndex === 1 && r.testTimeS > 0);
    for (const r of drive) {
      const t = r.stepTimeS;
      const expected = t <= 10 ? 1 : t <= 20 ? 2.5 : t <= 30 ? 0.5 : 0;
      // The sample at t reflects the current flowing during (t - 1 s, t].
      expect(r.currentA, `at ${t} s`).toBeCloseTo(-expected, 6);
    }
    expect(drive[drive.length - 1]!.stepTimeS).toBe(30);
    expect(transcript.records[transcript.records.length - 1]!.dischargeAh).toBeCloseTo(
      (10 * 1 + 10 * 2.5 + 10 * 0.5) / 3600,
      6,
    );
  });

  it("clamps a charge at the profile's safety voltage instead of overshooting it", async () => {
    const p = profile(
      [step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } }, { durationS: 7200 })],
      { safety: { voltageV: [3.0, 3.9] } },
    );
    const { engine, transcript } = await runToEnd(p, { initialSoc: 0.5 });
    expect(engine.currentState).toBe("completed");
    expect(Math.max(...transcript.records.map((r) => r.voltageV))).toBeLessThanOrEqual(3.9 + 1e-9);
  });

  it("faults the run, latched, when a sample leaves the profile's safety window", async () => {
    const p = profile(
      [
        step(
          { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 2 } },
          { durationS: 1200 },
        ),
      ],
      { safety: { temperatureC: [0, 26] } },
    );
    const { engine, transcript } = await runToEnd(p, { initialSoc: 1 });
    expect(engine.currentState).toBe("faulted");
    // 1 °C of sensor margin above the 26 °C limit.
    expect(engine.status().reason).toMatch(/^temperature 27\.\d+ °C outside 0\.\.26 °C$/);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "faulted"]);
    await expect(engine.resume()).rejects.toMatchObject({ code: "RUN_INVALID_TRANSITION" });
  });

  it("refuses invalid transitions with a message that says what is allowed", async () => {
    const { bench } = await openSimBench({ auto: false });
    const engine = bench.attachRun("ch1", { id: "R9", cell: NMC_18650, profile: profile([rest(10)]) }, {});
    await expect(engine.pause()).rejects.toThrow(
      "run R9 is queued: cannot pause it (start, stop or abort a queued run)",
    );
    await engine.start();
    await expect(engine.resume()).rejects.toThrow(
      "run R9 is running: cannot resume it (a running run can be paused, stopped or aborted)",
    );
    await engine.stop();
    expect(engine.currentState).toBe("stopped");
    await expect(engine.stop()).rejects.toThrow(
      "run R9 is stopped: cannot stop it (it has ended; start a new run)",
    );
    expect(() =>
      bench.attachRun("nope", { id: "R10", cell: NMC_18650, profile: profile([rest(1)]) }, {}),
    ).toThrow('no channel "nope" on this bench; use one of: ch1');
    await bench.shutdown();
  });

  it("faults the run, output off, when the chamber refuses a set point twice", async () => {
    const { bench } = await openSimBench({ auto: true });
    const { listener, transcript } = recordingListener();
    const p = profile([rest(10), chamber(40, 60)]);
    const simChamber = bench.chambers.get("tc1")!.chamber as SimChamber;
    const engine = bench.attachRun(
      "ch1",
      { id: "R1", cell: NMC_18650, profile: p },
      {
        ...listener,
        // The chamber step's set point (sent right after the step event) and its retry get no reply.
        step: (change) => {
          listener.step?.(change);
          if (change.path === "steps[1]") simChamber.faults.set({ dropReplies: { next: 2 } });
        },
      },
    );
    bench.start();
    await engine.start();
    while (!engine.isTerminal) await new Promise((r) => setImmediate(r));
    await bench.shutdown();
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(/^could not set chamber to 40 °C: /);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "faulted"]);
  });

  it.each([
    [
      { kind: "capacity", ah: 0.25 } as const,
      "step charge ≥ 0.25 Ah",
      (r: { dischargeAh: number }) => r.dischargeAh,
      0.25,
    ],
    [
      { kind: "energy", wh: 0.9 } as const,
      "step energy ≥ 0.9 Wh",
      (r: { dischargeWh: number }) => r.dischargeWh,
      0.9,
    ],
  ])("ends a discharge on %j", async (condition, reason, measure, threshold) => {
    const p = profile([
      step(
        { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 1 } },
        { durationS: 3600, conditions: [condition] },
      ),
      rest(2),
    ]);
    const { transcript } = await runToEnd(p, { initialSoc: 0.9 });
    expect(transcript.steps[1]!.endedBecause).toBe(reason);
    const ended = transcript.records.filter((r) => r.stepIndex === 1).at(-1)!;
    // 1C = 3 A sampled every second: the step ends on the first sample past the threshold.
    expect(measure(ended)).toBeGreaterThanOrEqual(threshold);
    expect(measure(ended)).toBeLessThan(
      threshold + (condition.kind === "capacity" ? 3 / 3600 : (3 * 4.2) / 3600) + 1e-9,
    );
  });

  it("ends a rest when the voltage relaxation slows below a dV/dt threshold", async () => {
    const p = profile([
      step({ kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 1 } }, { durationS: 600 }),
      step({ kind: "rest" }, { durationS: 7200, conditions: [{ kind: "dvdt", op: "<", mvPerS: 0.05 }] }),
    ]);
    const { transcript } = await runToEnd(p, { initialSoc: 0.8 });
    const restEnd = transcript.records.filter((r) => r.stepIndex === 2).at(-1)!;
    expect(transcript.states.at(-1)?.state).toBe("completed");
    // Relaxation after a 1C pulse takes minutes, not the full two hours, and not a moment.
    expect(restEnd.stepTimeS).toBeGreaterThan(30);
    expect(restEnd.stepTimeS).toBeLessThan(7200);
  });

  it("ends a step when the cell temperature crosses a threshold", async () => {
    const p = profile([
      step(
        { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 2 } },
        { durationS: 1200, conditions: [{ kind: "temperature", celsius: 25.5 }] },
      ),
      rest(1),
    ]);
    const { transcript } = await runToEnd(p, { initialSoc: 1 });
    expect(transcript.steps[1]!.endedBecause).toBe("temperature ≥ 25.5 °C");
    const ended = transcript.records.filter((r) => r.stepIndex === 1).at(-1)!;
    expect(ended.temperatureC).toBeGreaterThanOrEqual(25.5);
  });
});
