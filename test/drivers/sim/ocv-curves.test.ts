import { describe, expect, it } from "vitest";
import { CHEMISTRIES } from "../../../drivers/capabilities.js";
import {
  ocvAt,
  ocvCurve,
  ocvSlopeAt,
  SOC_CEILING,
  SOC_FLOOR,
  socAtOcv,
} from "../../../drivers/sim/ocv-curves.js";

describe("OCV curves", () => {
  it("rise strictly with SOC over the whole physical range, for every chemistry", () => {
    for (const chemistry of CHEMISTRIES) {
      const curve = ocvCurve(chemistry);
      let previous = Number.NEGATIVE_INFINITY;
      for (let soc = SOC_FLOOR; soc <= SOC_CEILING; soc += 0.0005) {
        const v = ocvAt(curve, soc);
        expect(v, `${chemistry} at ${soc}`).toBeGreaterThan(previous);
        expect(ocvSlopeAt(curve, soc)).toBeGreaterThan(0);
        previous = v;
      }
    }
  });

  it("span the windows of each chemistry", () => {
    const nmc = ocvCurve("li-ion-nmc");
    expect(ocvAt(nmc, 0)).toBeCloseTo(3.0, 9);
    expect(ocvAt(nmc, 1)).toBeCloseTo(4.2, 9);
    const lfp = ocvCurve("li-ion-lfp");
    expect(ocvAt(lfp, 0)).toBeGreaterThanOrEqual(2.0);
    expect(ocvAt(lfp, 0)).toBeLessThanOrEqual(2.5);
    expect(ocvAt(lfp, 1)).toBeCloseTo(3.6, 9);
    const asslb = ocvCurve("asslb-sulfide");
    expect(ocvAt(asslb, 0)).toBeGreaterThanOrEqual(2.5);
    expect(ocvAt(asslb, 1)).toBeCloseTo(4.25, 9);
  });

  it("give LFP its flat plateau between 3.2 and 3.35 V", () => {
    const lfp = ocvCurve("li-ion-lfp");
    for (let soc = 0.1; soc <= 0.9; soc += 0.01) {
      expect(ocvAt(lfp, soc)).toBeGreaterThanOrEqual(3.2);
      expect(ocvAt(lfp, soc)).toBeLessThanOrEqual(3.35);
    }
    expect(ocvAt(lfp, 0.9) - ocvAt(lfp, 0.1)).toBeLessThan(0.15);
    const nmc = ocvCurve("li-ion-nmc");
    expect(ocvAt(nmc, 0.9) - ocvAt(nmc, 0.1)).toBeGreaterThan(0.4);
  });

  it("interpolate linearly between breakpoints and clamp outside the physical range", () => {
    const nmc = ocvCurve("li-ion-nmc");
    expect(ocvAt(nmc, 0.55)).toBeCloseTo((3.79 + 3.86) / 2, 9);
    expect(ocvSlopeAt(nmc, 0.55)).toBeCloseTo((3.86 - 3.79) / 0.1, 6);
    expect(ocvAt(nmc, -5)).toBe(ocvAt(nmc, SOC_FLOOR));
    expect(ocvAt(nmc, 7)).toBeCloseTo(ocvAt(nmc, SOC_CEILING), 6);
    expect(Number.isFinite(ocvAt(nmc, Number.NEGATIVE_INFINITY))).toBe(true);
  });

  it("collapse steeply past empty and rise steeply past full", () => {
    const nmc = ocvCurve("li-ion-nmc");
    expect(ocvAt(nmc, SOC_FLOOR)).toBeLessThan(1);
    expect(ocvSlopeAt(nmc, -0.01)).toBeGreaterThan(10 * ocvSlopeAt(nmc, 0.5));
    expect(ocvAt(nmc, SOC_CEILING)).toBeGreaterThan(5);
    expect(socAtOcv(nmc, 3.79)).toBeCloseTo(0.5, 6);
  });
});
