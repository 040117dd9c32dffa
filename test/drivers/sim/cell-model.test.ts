import { describe, expect, it } from "vitest";
import {
  arrheniusFactor,
  CellModel,
  cellParameters,
  depletionFactor,
  powerCurrent,
} from "../../../drivers/sim/cell-model.js";
import { SOC_CEILING, SOC_FLOOR } from "../../../drivers/sim/ocv-curves.js";

const nmc = (soc = 0.5, temperatureC = 25) =>
  new CellModel({ chemistry: "li-ion-nmc", capacityAh: 3 }, { soc, temperatureC });

describe("cell model parameters", () => {
  it("scales resistance with 1/capacity and thermal mass with capacity", () => {
    const small = cellParameters({ chemistry: "li-ion-nmc", capacityAh: 1 });
    const big = cellParameters({ chemistry: "li-ion-nmc", capacityAh: 50 });
    expect(big.r0Ohm * 50).toBeCloseTo(small.r0Ohm, 12);
    expect(big.r2Ohm * 50).toBeCloseTo(small.r2Ohm, 12);
    expect(big.heatCapacityJPerK / small.heatCapacityJPerK).toBeCloseTo(50, 9);
    expect(big.thermalTauS).toBeGreaterThan(small.thermalTauS);
    expect(() => cellParameters({ chemistry: "li-ion-nmc", capacityAh: 0 })).toThrow(RangeError);
  });

  it("follows Arrhenius: liquid cells a few times, sulfide cells over a decade more resistive at -20 °C", () => {
    const liquid = nmc();
    const sulfide = new CellModel(
      { chemistry: "asslb-sulfide", capacityAh: 1 },
      { soc: 0.5, temperatureC: 25 },
    );
    const liquidRatio = liquid.dcResistanceAt(-20) / liquid.dcResistanceAt(25);
    const sulfideRatio = sulfide.dcResistanceAt(-20) / sulfide.dcResistanceAt(25);
    expect(liquidRatio).toBeGreaterThan(4);
    expect(liquidRatio).toBeLessThan(10);
    expect(sulfideRatio).toBeGreaterThan(10);
    expect(sulfideRatio).toBeLessThanOrEqual(100);
    expect(arrheniusFactor(50_000, -20)).toBeCloseTo(
      Math.exp((50_000 / 8.314) * (1 / 253.15 - 1 / 298.15)),
      9,
    );
    expect(arrheniusFactor(50_000, 25)).toBeCloseTo(1, 12);
    expect(sulfide.dcResistanceAt(60)).toBeLessThan(sulfide.dcResistanceAt(25) / 5);
  });

  it("raises the slow resistances toward empty", () => {
    expect(depletionFactor(0)).toBeCloseTo(4, 9);
    expect(depletionFactor(1)).toBeLessThan(1.01);
    expect(depletionFactor(0.1)).toBeGreaterThan(depletionFactor(0.3));
  });
});

describe("cell model integration", () => {
  it("integrates SOC coulombically: +1 A for 1 h adds 1/3 of a 3 Ah cell", () => {
    const c = nmc(0.2);
    c.setDrive({ mode: "cc", currentA: 1, minV: 0, maxV: 5 });
    for (let s = 0; s < 3600; s++) c.step(1, 25);
    expect(c.soc).toBeCloseTo(0.2 + 1 / 3, 9);
  });

  it("gives the same trajectory with 1 s and 0.05 s sub-steps (exact RC updates, stable CV)", () => {
    const run = (dt: number) => {
      const c = nmc(0.6);
      c.setDrive({ mode: "cccv", currentA: 6, voltageV: 4.0 });
      const currents: number[] = [];
      for (let s = 0; s < 1800; s++) {
        for (let k = 0; k < Math.round(1 / dt); k++) c.step(dt, 25);
        currents.push(c.currentA);
      }
      return { currents, soc: c.soc, v: c.voltageV };
    };
    const coarse = run(1);
    const fine = run(0.05);
    expect(coarse.soc).toBeCloseTo(fine.soc, 4);
    expect(coarse.v).toBeCloseTo(fine.v, 6);
    for (let s = 60; s < 1800; s += 60) {
      expect(Math.abs((coarse.currents[s] as number) - (fine.currents[s] as number))).toBeLessThan(0.02);
    }
    // In CV the current only falls: no ringing from the voltage loop.
    const cv = coarse.currents.slice(coarse.currents.findIndex((i) => i < 6 - 1e-9));
    for (let k = 1; k < cv.length; k++)
      expect(cv[k] as number).toBeLessThanOrEqual((cv[k - 1] as number) + 1e-12);
  });

  it("stays finite when driven far past empty or full: the voltage collapses or soars, SOC is bounded", () => {
    const empty = nmc(0.05);
    empty.setDrive({ mode: "cc", currentA: -9, minV: 0, maxV: 5 });
    for (let s = 0; s < 7200; s++) empty.step(1, 25);
    expect(empty.soc).toBe(SOC_FLOOR);
    expect(Number.isFinite(empty.voltageV)).toBe(true);
    expect(empty.voltageV).toBeLessThan(2);
    const full = nmc(0.95);
    full.setDrive({ mode: "profile", points: [{ tS: 0, currentA: 9 }], minV: 0, maxV: 100 });
    for (let s = 0; s < 7200; s++) full.step(1, 25);
    expect(full.soc).toBe(SOC_CEILING);
    expect(full.voltageV).toBeGreaterThan(5.5);
    expect(full.voltageV).toBeLessThan(10);
    // With a clamp the same overcharge stops on the clamp voltage.
    const clamped = nmc(0.95);
    clamped.setDrive({ mode: "profile", points: [{ tS: 0, currentA: 9 }], minV: 0, maxV: 4.3 });
    for (let s = 0; s < 7200; s++) clamped.step(1, 25);
    expect(clamped.voltageV).toBe(4.3);
    expect(clamped.soc).toBeLessThan(1.01);
    for (const c of [empty, full]) {
      expect(Number.isFinite(c.temperatureC)).toBe(true);
      expect(Number.isNaN(c.v1 + c.v2)).toBe(false);
    }
  });

  it("makes a cut-off reachable: a C/10 discharge without clamps falls below 2.5 V just past empty", () => {
    const c = nmc(0.02);
    c.setDrive({ mode: "cc", currentA: -0.3, minV: 0, maxV: 5 });
    let s = 0;
    while (c.voltageV > 2.5 && s < 7200) {
      c.step(1, 25);
      s++;
    }
    expect(c.voltageV).toBeLessThanOrEqual(2.5);
    expect(c.soc).toBeLessThan(0);
    expect(c.soc).toBeGreaterThan(-0.02);
  });

  it("solves constant power from the source voltage and resistance", () => {
    const i = powerCurrent(-10, 3.7, 0.05);
    expect((3.7 + i * 0.05) * i).toBeCloseTo(-10, 9);
    expect(powerCurrent(10, 3.7, 0.05)).toBeGreaterThan(0);
    // Beyond the maximum power (e²/4R = 68 W) it returns the current of maximum power.
    expect(powerCurrent(-100, 3.7, 0.05)).toBeCloseTo(-3.7 / 0.1, 9);
    expect(powerCurrent(0, 3.7, 0.05)).toBe(0);
  });
});
