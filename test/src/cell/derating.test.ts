/** Issue 10 deliver 2: a cell may declare derating (largest current by temperature); the supervisor applies it. */
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { parseCell } from "../../../src/cell/cell.js";
import { deratedLimits } from "../../../src/cell/derating.js";
import { readCell } from "../../../src/http/request-input.js";
import { SafetySupervisor } from "../../../src/safety/supervisor.js";
import { profile, step } from "../../support/profile-builders.js";
import { NMC_18650, runToEnd } from "../../support/sim-bench.js";

const CURVE = [
  { temperatureC: 0, chargeA: 0.3, dischargeA: 3 },
  { temperatureC: 10, chargeA: 1.5, dischargeA: 6 },
  { temperatureC: 45, chargeA: 3, dischargeA: 6 },
];

describe("deratedLimits", () => {
  it("interpolates linearly between points and holds the end values beyond them", () => {
    expect(deratedLimits(CURVE, -10)).toEqual({ chargeA: 0.3, dischargeA: 3 });
    expect(deratedLimits(CURVE, 5).chargeA).toBeCloseTo(0.9, 12);
    expect(deratedLimits(CURVE, 5).dischargeA).toBeCloseTo(4.5, 12);
    expect(deratedLimits(CURVE, 27.5).chargeA).toBeCloseTo(2.25, 12);
    expect(deratedLimits(CURVE, 60)).toEqual({ chargeA: 3, dischargeA: 6 });
    expect(deratedLimits(undefined, 5).chargeA).toBe(Number.POSITIVE_INFINITY);
    // Before the first reading the temperature is unknown: the lowest limits of the curve.
    expect(deratedLimits(CURVE, Number.NaN)).toEqual({ chargeA: 0.3, dischargeA: 3 });
  });
});

describe("a cell's derating curve", () => {
  const base = { id: "NMC-9", chemistry: "li-ion-nmc", capacity_ah: 3, current: [-6, 3] };

  it("is read from the cell file, with units, by rising temperature", () => {
    const cell = parseCell(
      {
        ...base,
        derating: [
          { temperature: "0 °C", charge: "0.3 A", discharge: 3 },
          { temperature: 10, charge: 1.5, discharge: "6 A" },
        ],
      },
      "cell",
    );
    expect(cell.derating).toEqual([
      { temperatureC: 0, chargeA: 0.3, dischargeA: 3 },
      { temperatureC: 10, chargeA: 1.5, dischargeA: 6 },
    ]);
  });

  it("names every point that is out of order or beyond the cell's limits", () => {
    expect(() =>
      parseCell(
        {
          ...base,
          derating: [
            { temperature: 10, charge: 4, discharge: 3 },
            { temperature: 10, charge: 1, discharge: 7, slope: 1 },
          ],
        },
        "cell",
      ),
    ).toThrow(
      [
        "derating[0].charge: 4 A must be from 0 to the cell's 3 A charge limit",
        "derating[1].slope: unknown key; a derating point takes temperature, charge or discharge",
        "derating[1].discharge: 7 A must be from 0 to the cell's 6 A discharge limit (a magnitude)",
        "derating[1].temperature: 10 °C must be above the previous point's 10 °C",
      ].join("\n"),
    );
  });

  it("takes no number in quotes in a JSON request (400 naming the point)", () => {
    expect(() =>
      readCell({ ...base, derating: [{ temperature: "0 °C", charge: "0.3", discharge: 3 }] }, "body.cell"),
    ).toThrow(/body\.cell\.derating\[0\]\.charge/);
  });

  it("is a limit the supervisor enforces on every sample", () => {
    const supervisor = new SafetySupervisor();
    supervisor.watch("ch1", { ...NMC_18650, derating: CURVE }, "R1", { temperatureRequired: true });
    const sample = (currentA: number, temperatureC: number) => ({
      channel: "ch1",
      tMonoMs: 0,
      tWallMs: 0,
      voltageV: 3.8,
      currentA,
      temperatureC,
    });
    expect(supervisor.inspect(sample(0.9, 5), true)).toBeUndefined();
    expect(supervisor.inspect(sample(1.2, 5), true)).toEqual({
      kind: "current",
      reason: "current 1.2 A above the 0.9 A the cell may charge at 5 °C (derating)",
    });
    expect(supervisor.inspect(sample(-5, 5), true)?.reason).toBe(
      "current -5 A beyond the 4.5 A the cell may discharge at 5 °C (derating)",
    );
  });

  it("narrows the set points: a 1C charge of a cold cell runs at the derated current, and follows it as the cell warms", async () => {
    const cell: CellSpec = { ...NMC_18650, derating: CURVE };
    const p = profile([
      step({ kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } }, { durationS: 1800 }),
    ]);
    const { engine, transcript } = await runToEnd(p, { cell, chamberC: 5, initialSoc: 0.2 });
    expect(engine.status().reason).toBe("");
    expect(engine.currentState).toBe("completed");
    const charging = transcript.records.filter((r) => r.currentA > 0.01);
    expect(charging.length).toBeGreaterThan(1000);
    for (const r of charging) {
      const limit = deratedLimits(CURVE, r.temperatureC).chargeA;
      // The set point follows the previous sample's temperature: allow the margin of one sample's warming.
      expect(r.currentA, `at ${r.testTimeS} s, ${r.temperatureC} °C`).toBeLessThanOrEqual(
        limit + 0.02 * 6 + 0.01,
      );
    }
    // Far below 1C (3 A): the cold cell charged at its derated limit, which rose as it warmed.
    expect(Math.max(...charging.map((r) => r.currentA))).toBeLessThan(2);
  });
});
