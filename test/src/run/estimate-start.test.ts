import { describe, expect, it } from "vitest";
import { ocvAt, ocvCurve } from "../../../drivers/sim/ocv-curves.js";
import { DEFAULT_ESTIMATE_SOC, estimateStartSoc } from "../../../src/run/estimate-start.js";
import type { ChannelSample } from "../../../src/sampling/sample.js";
import { NMC_18650 } from "../../support/sim-bench.js";

const sample = (voltageV: number, currentA: number): ChannelSample => ({
  channel: "ch1",
  tMonoMs: 0,
  tWallMs: 0,
  voltageV,
  currentA,
  temperatureC: 25,
});

describe("estimateStartSoc", () => {
  const nmc = ocvCurve(NMC_18650.chemistry);

  it("reads the state of charge off the open-circuit curve when the cell rests", () => {
    for (const soc of [0.1, 0.5, 0.9]) {
      expect(estimateStartSoc(NMC_18650, sample(ocvAt(nmc, soc), 0))).toBeCloseTo(soc, 3);
    }
    // Within C/100 counts as rest.
    expect(estimateStartSoc(NMC_18650, sample(ocvAt(nmc, 0.8), NMC_18650.capacityAh / 100))).toBeCloseTo(
      0.8,
      3,
    );
  });

  it("clamps to 0..1 beyond the curve's ends", () => {
    expect(estimateStartSoc(NMC_18650, sample(5, 0))).toBe(1);
    expect(estimateStartSoc(NMC_18650, sample(1, 0))).toBe(0);
  });

  it("falls back to 50 % without a sample, under load, or with an unreadable one", () => {
    expect(DEFAULT_ESTIMATE_SOC).toBe(0.5);
    expect(estimateStartSoc(NMC_18650, undefined)).toBe(0.5);
    expect(estimateStartSoc(NMC_18650, sample(ocvAt(nmc, 0.9), -1.5))).toBe(0.5);
    expect(estimateStartSoc(NMC_18650, sample(Number.NaN, 0))).toBe(0.5);
  });
});
