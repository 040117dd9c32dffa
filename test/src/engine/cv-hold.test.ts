import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { profile, step } from "../../support/profile-builders.js";
import { runToEnd } from "../../support/sim-bench.js";

/** examples/cells/nmc-18650.yaml: 4 A charge, 15 A discharge. */
const NMC: CellSpec = loadCellFile("examples/cells/nmc-18650.yaml");
/** A channel far stronger than the cell in both directions. */
const WIDE_CHANNEL = { currentA: [-20, 20] as [number, number], powerW: 200 };

describe("CV hold on a simulated ±20 A channel (virtual clock)", () => {
  it("charges a 3.6 V cell towards 4.2 V at no more than the cell's 4 A charge limit", async () => {
    const p = profile([
      step({ kind: "hold", volts: 4.2 }, { durationS: 600, conditions: [{ kind: "current", amps: 0.05 }] }),
    ]);
    const { engine, transcript } = await runToEnd(p, { cell: NMC, initialSoc: 0.15, ranges: WIDE_CHANNEL });
    expect(transcript.records[0]!.voltageV).toBeCloseTo(3.6, 2);
    const currents = transcript.records.map((r) => r.currentA);
    expect(Math.max(...currents)).toBeLessThanOrEqual(4 + 1e-9);
    // The limit, not the cell's resistance, bounded the current: it ran at 4 A.
    expect(Math.max(...currents)).toBeGreaterThan(3.99);
    expect(engine.currentState).toBe("completed");
  });

  it("discharges a full cell towards the hold voltage at no more than the profile's discharge limit", async () => {
    const p = profile([step({ kind: "hold", volts: 3.7 }, { durationS: 300 })], {
      safety: { currentA: [-2, 4] },
    });
    const { engine, transcript } = await runToEnd(p, { cell: NMC, initialSoc: 0.9, ranges: WIDE_CHANNEL });
    const currents = transcript.records.map((r) => r.currentA);
    expect(Math.min(...currents)).toBeGreaterThanOrEqual(-2 - 1e-9);
    expect(Math.min(...currents)).toBeLessThan(-1.99);
    expect(engine.currentState).toBe("completed");
  });
});
