/** Step and cycle records of whole example profiles, run through the engine on the simulated cell. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { CellModel } from "../../../drivers/sim/cell-model.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { dryRun } from "../../../src/engine/dry-run.js";
import type { Profile } from "../../../src/profile/ast.js";
import { parseProfile } from "../../../src/profile/document.js";
import { loadProfileFile } from "../../../src/profile/load-profile.js";
import type { CycleRecord, StepRecord } from "../../../src/run/records.js";

const NMC = loadCellFile("examples/cells/nmc-18650.yaml");

async function records(
  profile: Profile,
  cell: CellSpec,
  options: { initialSoc?: number; periodS?: number } = {},
) {
  const cycles: CycleRecord[] = [];
  const steps: StepRecord[] = [];
  const estimate = await dryRun(profile, cell, {
    initialSoc: options.initialSoc ?? 0.3,
    periodS: options.periodS ?? 1,
    onCycle: (c) => cycles.push(c),
    onStep: (s) => steps.push(s),
  });
  return { estimate, cycles, steps };
}

const exampleRuns = new Map<string, ReturnType<typeof records>>();

/** Each example is run once, whichever test asks first. */
function example(name: string): ReturnType<typeof records> {
  let run = exampleRuns.get(name);
  if (!run) {
    // HPPC at the 100 ms its pulses are logged at (its 0.1 s resistance needs it), GITT's slow steps at 10 s.
    const periodS = name === "hppc" ? 0.1 : name === "gitt" ? 10 : 1;
    run = records(loadProfileFile(`examples/profiles/${name}.yaml`), NMC, { periodS });
    exampleRuns.set(name, run);
  }
  return run;
}

function profileOf(yaml: string): Profile {
  return parseProfile(yaml, { sourceName: "test" });
}

describe("cycle records", () => {
  it.each([["formation"], ["hppc"], ["gitt"]])(
    "%s: every cycle's coulombic efficiency is within 95-101 percent, and charge outside cycles counts in none",
    async (name) => {
      const { estimate, cycles, steps } = await example(name);
      expect(estimate.state).toBe("completed");
      expect(cycles.length).toBeGreaterThan(0);
      for (const c of cycles) {
        expect(c.coulombicEfficiency, `cycle ${c.cycleIndex}`).toBeGreaterThanOrEqual(0.95);
        expect(c.coulombicEfficiency, `cycle ${c.cycleIndex}`).toBeLessThanOrEqual(1.01);
        // Energy goes back in at a higher voltage than it comes out.
        expect(c.energyEfficiency).toBeLessThan(c.coulombicEfficiency);
        expect(c.energyEfficiency).toBeGreaterThan(0.8);
      }
      // Every step before the first loop is outside every cycle.
      const first = steps.find((s) => s.cycleIndex > 0) as StepRecord;
      const before = steps.filter((s) => s.stepIndex < first.stepIndex);
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((s) => s.cycleIndex === 0)).toBe(true);
      // The cycles hold exactly the charge of the steps inside them.
      for (const c of cycles) {
        const inside = steps.filter((s) => s.cycleIndex === c.cycleIndex);
        expect(inside.reduce((a, s) => a + s.chargeAh, 0)).toBeCloseTo(c.chargeAh, 9);
        expect(inside.reduce((a, s) => a + s.dischargeAh, 0)).toBeCloseTo(c.dischargeAh, 9);
      }
    },
    120_000,
  );

  it("formation: two cycles of its repeat loop; capacity retention against the first", async () => {
    const { cycles } = await example("formation");
    expect(cycles.map((c) => c.cycleIndex)).toEqual([1, 2]);
    expect(cycles[0]?.capacityRetention).toBe(1);
    expect(cycles[1]?.capacityRetention).toBeCloseTo(
      (cycles[1]?.dischargeAh ?? 0) / (cycles[0]?.dischargeAh ?? 1),
      12,
    );
  });

  it("a goto out of the cycle loop ends the cycle; the steps after it are in none", async () => {
    const profile = profileOf(`
name: goto-out
steps:
  - Charge at 1C to 4.2 V, hold until C/10
  - repeat: 5
    steps:
      - Discharge at 1C for 10 minutes
      - step: Rest for 1 minute
        limits: [{ when: "< 3.7 V", then: goto tail }]
  - step: Rest for 2 minutes
    label: tail
  - Charge at 1C for 1 minute
`);
    const { cycles, steps } = await records(profile, NMC, { initialSoc: 0.5 });
    const last = cycles[cycles.length - 1] as CycleRecord;
    expect(cycles.length).toBeLessThan(5);
    const tail = steps.filter((s) => s.path === "steps[2]" || s.path === "steps[3]");
    expect(tail.map((s) => s.stepId)).toEqual([5, 6]);
    // Every iteration of the loop numbers its steps alike (Step ID), unlike the step count.
    expect(new Set(steps.filter((s) => s.cycleIndex > 0).map((s) => s.stepId))).toEqual(new Set([3, 4]));
    expect(tail.every((s) => s.cycleIndex === 0)).toBe(true);
    // The cycle the goto left is complete: its discharge is all the loop's discharge.
    const loopDischarge = steps.filter((s) => s.cycleIndex > 0).reduce((a, s) => a + s.dischargeAh, 0);
    expect(cycles.reduce((a, c) => a + c.dischargeAh, 0)).toBeCloseTo(loopDischarge, 9);
    expect(last.chargeAh).toBe(0);
    expect(last.coulombicEfficiency).toBeNaN();
  });
});

describe("step records", () => {
  it("give each step's type, end reason, duration, Ah/Wh moved and start/end voltage", async () => {
    const profile = profileOf(`
name: three-steps
steps:
  - Discharge at 1C for 5 minutes
  - Rest for 2 minutes
  - Charge at C/2 to 4.2 V, hold until C/20
`);
    const { steps } = await records(profile, NMC, { initialSoc: 0.5 });
    expect(steps.map((s) => [s.stepIndex, s.stepId, s.type, s.path])).toEqual([
      [1, 1, "cc_discharge", "steps[0]"],
      [2, 2, "rest", "steps[1]"],
      [3, 3, "cccv_charge", "steps[2]"],
    ]);
    const [discharge, rest, charge] = steps as [StepRecord, StepRecord, StepRecord];
    expect(discharge.durationS).toBeCloseTo(300, 6);
    expect(discharge.dischargeAh).toBeCloseTo(0.25, 2);
    expect(discharge.chargeAh).toBe(0);
    expect(discharge.endReason).toBe("step time 300 s");
    expect(discharge.endVoltageV).toBeLessThan(discharge.startVoltageV);
    expect(rest.startVoltageV).toBe(discharge.endVoltageV);
    expect(rest.endVoltageV).toBeGreaterThan(rest.startVoltageV);
    expect(rest.dischargeAh + rest.chargeAh).toBe(0);
    expect(charge.endReason).toMatch(/^completed|current/);
    expect(charge.endVoltageV).toBeCloseTo(4.2, 2);
    expect(charge.maxTemperatureC).toBeGreaterThan(20);
    for (const s of steps) expect(s.dcirOhm).toEqual({});
  });
});

describe("DC internal resistance from pulse steps", () => {
  it.each([
    [0.5, 25],
    [0.2, 25],
    [0.5, 0],
  ])(
    "equals the simulated cell's pulse resistance within 5 percent at 0.1, 1 and 10 s (SOC %s, %s °C)",
    async (soc, airC) => {
      const profile = profileOf(`
name: one-pulse
steps:
  - Rest for 5 minutes (100 ms period)
  - Discharge at 1C for 10 seconds (100 ms period)
  - Rest for 1 minute (100 ms period)
  - Charge at 0.75C for 10 seconds (100 ms period)
`);
      const steps: StepRecord[] = [];
      await dryRun(profile, NMC, {
        initialSoc: soc,
        initialChamberC: airC,
        periodS: 0.1,
        onStep: (r) => steps.push(r),
      });
      // The cell the dry run starts from, at rest at the same SOC and temperature.
      const cell = new CellModel(NMC, { soc, temperatureC: airC });
      const pulse = steps[1] as StepRecord;
      expect(pulse.type).toBe("cc_discharge");
      const measured = [pulse.dcirOhm.s0p1, pulse.dcirOhm.s1, pulse.dcirOhm.s10] as number[];
      const expected = [0.1, 1, 10].map((t) => cell.pulseResistanceOhm(t));
      for (const [i, r] of measured.entries()) {
        expect(r, `DCIR at ${[0.1, 1, 10][i]} s`).toBeGreaterThan(0);
        expect(Math.abs(r / (expected[i] as number) - 1), `DCIR ${r} against ${expected[i]}`).toBeLessThan(
          0.05,
        );
      }
      // Rests give none; the charge pulse after a rest does.
      expect(steps[0]?.dcirOhm).toEqual({});
      expect(steps[3]?.dcirOhm.s10).toBeGreaterThan(0);
    },
  );

  it("HPPC: every pulse has its three resistances, growing with pulse time and toward empty", async () => {
    const { steps } = await example("hppc");
    const pulses = steps.filter((s) => s.type === "cc_discharge" && s.durationS <= 10.5);
    expect(pulses.length).toBe(9);
    for (const p of pulses) {
      const { s0p1, s1, s10 } = p.dcirOhm as Required<StepRecord["dcirOhm"]>;
      expect(s0p1).toBeLessThan(s1);
      expect(s1).toBeLessThan(s10);
    }
    expect((pulses[8] as StepRecord).dcirOhm.s10).toBeGreaterThan(
      (pulses[0] as StepRecord).dcirOhm.s10 as number,
    );
  });
});

describe("capacity retention and the end of a cycle-life loop", () => {
  it("a 300-cycle loop at 60 °C ends on fade below 80 % of cycle 1, and the run goes on after it", async () => {
    const text = readFileSync("examples/profiles/cycle-life-60c.yaml", "utf8").replace(
      "repeat: 1000",
      "repeat: 300",
    );
    const profile = parseProfile(text, { sourceName: "cycle-life-60c" });
    const cell = loadCellFile("examples/cells/nmc-18650-ageing.yaml");
    const cycles: CycleRecord[] = [];
    const steps: StepRecord[] = [];
    const estimate = await dryRun(profile, cell, {
      initialSoc: 0.3,
      periodS: 30,
      onCycle: (c) => cycles.push(c),
      onStep: (s) => steps.push(s),
    });
    expect(estimate.state).toBe("completed");
    const last = cycles[cycles.length - 1] as CycleRecord;
    expect(cycles.length).toBeLessThan(300);
    expect(cycles.length).toBeGreaterThan(100);
    expect(last.capacityRetention).toBeLessThan(0.8);
    expect(cycles.slice(0, -1).every((c) => c.capacityRetention >= 0.8)).toBe(true);
    expect(cycles[0]?.capacityRetention).toBe(1);
    // Fade is steady: no cycle gains more than 0.5 % back over its predecessor.
    for (let i = 1; i < cycles.length; i++)
      expect((cycles[i] as CycleRecord).capacityRetention).toBeLessThan(
        (cycles[i - 1] as CycleRecord).capacityRetention + 0.005,
      );
    // The last chamber step (back to 25 °C) ran after the loop.
    expect(steps[steps.length - 1]?.type).toBe("chamber");
  }, 120_000);
});
