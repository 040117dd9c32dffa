import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { changesDuringStep, driveWindow, rampValue, setpointFor } from "../../../src/engine/setpoints.js";
import type { Action } from "../../../src/profile/ast.js";

/** examples/cells/nmc-18650.yaml: current [-15, 4] A, i.e. 4 A charge, 15 A discharge. */
const NMC: CellSpec = loadCellFile("examples/cells/nmc-18650.yaml");
const HOLD: Action = { kind: "hold", volts: 4.2 };
const NOW = { voltageV: 3.6, stepElapsedS: 0 };

describe("driveWindow", () => {
  it("keeps the charge and the discharge limit of the cell apart", () => {
    expect(NMC.currentA).toEqual([-15, 4]);
    expect(driveWindow(NMC)).toEqual({ minV: 2.5, maxV: 4.2, chargeLimitA: 4, dischargeLimitA: 15 });
  });

  it("takes the tighter of the cell and the profile's safety current in each direction", () => {
    expect(driveWindow(NMC, { currentA: [-5, 6] })).toMatchObject({ chargeLimitA: 4, dischargeLimitA: 5 });
    expect(driveWindow(NMC, { currentA: [-20, 2.5] })).toMatchObject({
      chargeLimitA: 2.5,
      dischargeLimitA: 15,
    });
  });

  it("takes the channel's hardware ranges as the outermost tier", () => {
    expect(driveWindow(NMC, undefined, { currentA: [-10, 20] })).toMatchObject({
      chargeLimitA: 4,
      dischargeLimitA: 10,
    });
    expect(driveWindow(NMC, { currentA: [-12, 3] }, { currentA: [-10, 2] })).toMatchObject({
      chargeLimitA: 2,
      dischargeLimitA: 10,
    });
  });

  it("never gives a negative limit (a safety window that forbids one direction gives 0 A)", () => {
    expect(driveWindow(NMC, { currentA: [0.5, 3] })).toMatchObject({ chargeLimitA: 3, dischargeLimitA: 0 });
  });
});

describe("setpointFor", () => {
  it("limits a CV hold on the NMC 18650 to 4 A charging and 15 A discharging", () => {
    expect(setpointFor(HOLD, NMC, driveWindow(NMC), NOW)).toEqual({
      mode: "cv",
      voltageV: 4.2,
      chargeLimitA: 4,
      dischargeLimitA: 15,
    });
  });

  it("limits a CV hold by the profile's safety current where it is tighter", () => {
    const window = driveWindow(NMC, { voltageV: [3, 4.2], currentA: [-3, 1.5] });
    expect(setpointFor(HOLD, NMC, window, NOW)).toEqual({
      mode: "cv",
      voltageV: 4.2,
      chargeLimitA: 1.5,
      dischargeLimitA: 3,
    });
  });

  it("limits a resistance step by the limit of its own direction", () => {
    const window = driveWindow(NMC);
    const ohms = (direction: "charge" | "discharge"): Action => ({
      kind: "constant",
      direction,
      value: { kind: "resistance", ohms: 0.1 },
    });
    // 3.6 V / 0.1 Ω = 36 A asked: a charge stops at 4 A, a discharge at 15 A.
    expect(setpointFor(ohms("charge"), NMC, window, NOW)).toMatchObject({ mode: "cc", currentA: 4 });
    expect(setpointFor(ohms("discharge"), NMC, window, NOW)).toMatchObject({ mode: "cc", currentA: -15 });
    // Below both limits the resistance decides.
    const slow: Action = { kind: "constant", direction: "discharge", value: { kind: "resistance", ohms: 2 } };
    expect(setpointFor(slow, NMC, window, NOW)).toMatchObject({ mode: "cc", currentA: -1.8 });
  });
});

describe("issue 14: CV current limit and ramps", () => {
  it("clamps a CV hold to its own limit, never above the window (tightest wins)", () => {
    const own = (amps: number): Action => ({
      kind: "hold",
      volts: 4.2,
      currentLimit: { kind: "current", amps },
    });
    expect(setpointFor(own(1), NMC, driveWindow(NMC), NOW)).toEqual({
      mode: "cv",
      voltageV: 4.2,
      chargeLimitA: 1,
      dischargeLimitA: 1,
    });
    // 10 A asked: the cell's 4 A stays the charge limit; 10 A is tighter than its 15 A discharge.
    expect(setpointFor(own(10), NMC, driveWindow(NMC), NOW)).toMatchObject({
      chargeLimitA: 4,
      dischargeLimitA: 10,
    });
    const cRate: Action = { kind: "hold", volts: 4.2, currentLimit: { kind: "c-rate", c: 0.5 } };
    expect(setpointFor(cRate, NMC, driveWindow(NMC), NOW)).toMatchObject({
      chargeLimitA: 1.5,
      dischargeLimitA: 1.5,
    });
  });

  it("moves a current ramp linearly over its duration and holds its end after it", () => {
    const ramp: Action = {
      kind: "ramp",
      direction: "charge",
      from: { kind: "c-rate", c: 0.1 },
      to: { kind: "current", amps: 3 },
      overS: 600,
    };
    const at = (stepElapsedS: number) =>
      setpointFor(ramp, NMC, driveWindow(NMC), { voltageV: 3.6, stepElapsedS });
    expect(at(0)).toMatchObject({ mode: "cc", minV: 2.5, maxV: 4.2 });
    expect((at(0) as { currentA: number }).currentA).toBeCloseTo(0.3, 12);
    expect(at(300)).toMatchObject({ currentA: 1.65 });
    expect(at(600)).toMatchObject({ currentA: 3 });
    expect(at(900)).toMatchObject({ currentA: 3 });
    const discharge: Action = { ...ramp, direction: "discharge", to: { kind: "current", amps: 20 } };
    // Clamped to the cell's 15 A discharge limit.
    expect(setpointFor(discharge, NMC, driveWindow(NMC), { voltageV: 3.6, stepElapsedS: 600 })).toMatchObject(
      {
        currentA: -15,
      },
    );
    const power: Action = {
      kind: "ramp",
      direction: "discharge",
      from: { kind: "power", watts: 0 },
      to: { kind: "power", watts: 10 },
      overS: 100,
    };
    expect(setpointFor(power, NMC, driveWindow(NMC), { voltageV: 3.6, stepElapsedS: 25 })).toMatchObject({
      mode: "cp",
      powerW: -2.5,
    });
  });

  it("moves a voltage ramp's CV set point", () => {
    const ramp: Action = {
      kind: "hold",
      volts: 3.6,
      toVolts: 4.1,
      overS: 100,
      currentLimit: { kind: "current", amps: 1 },
    };
    expect(setpointFor(ramp, NMC, driveWindow(NMC), { voltageV: 3.6, stepElapsedS: 50 })).toEqual({
      mode: "cv",
      voltageV: 3.85,
      chargeLimitA: 1,
      dischargeLimitA: 1,
    });
    expect(changesDuringStep(ramp)).toBe(true);
    expect(changesDuringStep(HOLD)).toBe(false);
  });

  it("keeps a ramp's value between its ends at every moment, in steps of at least 1 mA", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        fc.double({ min: -10, max: 2e6, noNaN: true }),
        (from, to, overS, t) => {
          const v = rampValue(from, to, overS, t);
          expect(v).toBeGreaterThanOrEqual(Math.min(from, to));
          expect(v).toBeLessThanOrEqual(Math.max(from, to));
          if (t <= 0) expect(v).toBeCloseTo(from, 3);
          if (t >= overS) expect(v).toBeCloseTo(to, 3);
        },
      ),
    );
  });
});
