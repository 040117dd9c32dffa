import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { driveWindow, setpointFor } from "../../../src/engine/setpoints.js";
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
