import { describe, expect, it } from "vitest";
import {
  arrheniusFactor,
  CellModel,
  cellParameters,
  depletionFactor,
  powerCurrent,
} from "../../../drivers/sim/cell-model.js";
import { SOC_CEILING, SOC_FLOOR } from "../../../drivers/sim/ocv-curves.js";
import { capacityAt, chargeCccv, dischargeToCutoff, EXAMPLE_AH, exampleCell, rest } from "./cell-drive.js";

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

  it("follows Arrhenius: liquid cells several times, sulfide cells over a decade more resistive at -20 °C", () => {
    const liquid = nmc();
    const sulfide = new CellModel(
      { chemistry: "asslb-sulfide", capacityAh: 1 },
      { soc: 0.5, temperatureC: 25 },
    );
    const liquidRatio = liquid.dcResistanceAt(-20) / liquid.dcResistanceAt(25);
    const sulfideRatio = sulfide.dcResistanceAt(-20) / sulfide.dcResistanceAt(25);
    // Charge transfer (50 kJ/mol) dominates a cold liquid cell: 18650 DC resistance at −20 °C is
    // typically 5–20× that at 25 °C.
    expect(liquidRatio).toBeGreaterThan(5);
    expect(liquidRatio).toBeLessThan(20);
    expect(sulfideRatio).toBeGreaterThan(10);
    expect(sulfideRatio).toBeLessThanOrEqual(100);
    expect(arrheniusFactor(50_000, -20)).toBeCloseTo(
      Math.exp((50_000 / 8.314) * (1 / 253.15 - 1 / 298.15)),
      9,
    );
    expect(arrheniusFactor(50_000, 25)).toBeCloseTo(1, 12);
    expect(sulfide.dcResistanceAt(60)).toBeLessThan(sulfide.dcResistanceAt(25) / 4);
  });

  it("keeps a resistance floor for contacts and collectors: a hot sulfide pouch stays above 5 mΩ", () => {
    const sulfide = new CellModel(
      { chemistry: "asslb-sulfide", capacityAh: 1 },
      { soc: 0.5, temperatureC: 105 },
    );
    const floor = sulfide.params.floorOhm;
    expect(floor).toBeCloseTo(0.005, 9);
    // The electrochemical part keeps falling with temperature; the floor does not.
    expect(sulfide.dcResistanceAt(105)).toBeGreaterThan(floor);
    expect(sulfide.dcResistanceAt(105) - floor).toBeLessThan(floor);
    expect(sulfide.dcResistanceAt(300)).toBeGreaterThan(floor);
    // Driven: the instantaneous step of a 1 A pulse at 105 °C, ΔV/ΔI, is above the floor.
    const before = sulfide.voltageV;
    sulfide.setDrive({ mode: "cc", currentA: -1, minV: 0, maxV: 5 });
    const stepOhm = (before - sulfide.voltageV) / 1;
    expect(stepOhm).toBeGreaterThan(floor);
    // After 10 s of the pulse (charge transfer and diffusion included), still only a few mΩ.
    for (let s = 0; s < 10; s++) sulfide.step(1, 105);
    const tenSecondOhm = (before - sulfide.voltageV) / 1;
    console.info(
      `ASSLB 1 Ah at 105 °C: step ${(stepOhm * 1000).toFixed(2)} mΩ, 10 s ${(tenSecondOhm * 1000).toFixed(2)} mΩ`,
    );
    expect(tenSecondOhm).toBeGreaterThan(stepOhm);
    expect(tenSecondOhm).toBeLessThan(0.02);
  });

  it("raises the charge-transfer resistance toward an empty surface", () => {
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
    expect(empty.stateOfCharge).toBeCloseTo(SOC_FLOOR, 5);
    expect(Number.isFinite(empty.voltageV)).toBe(true);
    expect(empty.voltageV).toBeLessThan(2);
    const full = nmc(0.95);
    full.setDrive({ mode: "profile", points: [{ tS: 0, currentA: 9 }], minV: 0, maxV: 100 });
    for (let s = 0; s < 7200; s++) full.step(1, 25);
    expect(full.stateOfCharge).toBeCloseTo(SOC_CEILING, 5);
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
      expect(Number.isNaN(c.v1 + c.v2 + c.lag)).toBe(false);
    }
  });

  it("reaches the cut-off through its emptied particle surface, with charge left in the bulk", () => {
    const c = nmc(0.02);
    c.setDrive({ mode: "cc", currentA: -0.3, minV: 0, maxV: 5 });
    let s = 0;
    while (c.voltageV > 2.5 && s < 7200) {
      c.step(1, 25);
      s++;
    }
    expect(c.voltageV).toBeLessThanOrEqual(2.5);
    // At C/10 the surface lags the bulk by well under 1 %: the cut-off comes at empty, not past it.
    expect(c.stateOfCharge).toBeGreaterThanOrEqual(0);
    expect(c.stateOfCharge).toBeLessThan(0.02);
    expect(c.surfaceSoc).toBeLessThan(c.stateOfCharge);
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

describe("cell model against the numbers a battery engineer expects (issue 14, item 6)", () => {
  it("NMC 18650 at 25 °C: the 3C capacity is 88–95 % of the C/10 capacity, and falls with rate", () => {
    const c10 = capacityAt("li-ion-nmc", 0.1, 25);
    const rates = [0.5, 1, 2, 3].map((rate) => ({ rate, ah: capacityAt("li-ion-nmc", rate, 25) }));
    console.info(
      `NMC 3 Ah at 25 °C: C/10 ${c10.toFixed(3)} Ah; ${rates.map((r) => `${r.rate}C ${((100 * r.ah) / c10).toFixed(1)} %`).join(", ")}`,
    );
    expect(c10).toBeGreaterThan(0.97 * EXAMPLE_AH["li-ion-nmc"]);
    const threeC = (rates[3] as { ah: number }).ah / c10;
    expect(threeC).toBeGreaterThanOrEqual(0.88);
    expect(threeC).toBeLessThanOrEqual(0.95);
    // Up to 2C every faster rate gives less (at 3C self-heating may hold it level with 2C).
    for (let k = 1; k < 3; k++)
      expect((rates[k] as { ah: number }).ah).toBeLessThan((rates[k - 1] as { ah: number }).ah);
    expect((rates[0] as { ah: number }).ah).toBeLessThan(c10);
  });

  for (const chemistry of ["li-ion-nmc", "li-ion-lfp"] as const) {
    it(`${chemistry} at -20 °C: a 1C discharge gives 55–80 % of the 25 °C capacity`, () => {
      const warm1C = capacityAt(chemistry, 1, 25);
      const warmC10 = capacityAt(chemistry, 0.1, 25);
      const cold = capacityAt(chemistry, 1, -20);
      console.info(
        `${chemistry} 1C at -20 °C: ${cold.toFixed(3)} Ah = ${((100 * cold) / warm1C).toFixed(1)} % of 1C, ${((100 * cold) / warmC10).toFixed(1)} % of C/10 at 25 °C`,
      );
      for (const ratio of [cold / warm1C, cold / warmC10]) {
        expect(ratio).toBeGreaterThanOrEqual(0.55);
        expect(ratio).toBeLessThanOrEqual(0.8);
      }
    });
  }

  it("NMC after a 1C discharge to 2.5 V relaxes above 3.2 V (it stopped on its surface, not past 0 %)", () => {
    const cell = exampleCell("li-ion-nmc");
    chargeCccv(cell, 0.5, 25);
    rest(cell, 25, 1800);
    dischargeToCutoff(cell, 1, 25);
    expect(cell.voltageV).toBeLessThanOrEqual(2.5);
    const atCutoff = { bulk: cell.stateOfCharge, surface: cell.surfaceSoc };
    rest(cell, 25, 1800);
    console.info(
      `NMC after 1C to 2.5 V: bulk SOC ${atCutoff.bulk.toFixed(3)}, surface ${atCutoff.surface.toFixed(3)}; after 30 min rest ${cell.voltageV.toFixed(3)} V`,
    );
    expect(atCutoff.bulk).toBeGreaterThan(0.02);
    expect(atCutoff.surface).toBeLessThan(atCutoff.bulk);
    expect(cell.voltageV).toBeGreaterThan(3.2);
    expect(cell.voltageV).toBeLessThan(cell.restOcvV + 0.01);
  });
});

describe("cell ageing through the model (1C/1C cycles: CC-CV to C/20, 1C to the cut-off)", () => {
  /** Cycles an NMC 18650 in `airC` air; returns each cycle's discharge capacity until it falls below 80 % or `n` cycles. */
  const cycle = (airC: number, n: number): number[] => {
    const cell = exampleCell("li-ion-nmc", 0.5, airC);
    const ah: number[] = [];
    for (let k = 0; k < n; k++) {
      chargeCccv(cell, 1, airC);
      ah.push(dischargeToCutoff(cell, 1, airC).deliveredAh);
      if ((ah[k] as number) < 0.8 * (ah[0] as number)) break;
    }
    return ah;
  };

  it("at 60 °C falls below 80 % of its first discharge between 200 and 280 cycles", () => {
    const ah = cycle(60, 400);
    const first = ah[0] as number;
    console.info(
      `NMC 1C/1C at 60 °C: first ${first.toFixed(3)} Ah, below 80 % at cycle ${ah.length} (${(ah[ah.length - 1] as number).toFixed(3)} Ah)`,
    );
    expect(ah.length).toBeGreaterThanOrEqual(200);
    expect(ah.length).toBeLessThanOrEqual(280);
    // Fade is steady: no cycle gives more than the one before by more than noise of the cut-off.
    for (let k = 1; k < ah.length; k++) expect(ah[k] as number).toBeLessThan((ah[k - 1] as number) + 1e-3);
  });

  it("at 25 °C keeps more than 80 % after 1000 cycles", () => {
    const ah = cycle(25, 1000);
    const last = ah[ah.length - 1] as number;
    console.info(
      `NMC 1C/1C at 25 °C: ${((100 * last) / (ah[0] as number)).toFixed(1)} % after ${ah.length} cycles`,
    );
    expect(ah.length).toBe(1000);
    expect(last / (ah[0] as number)).toBeGreaterThan(0.8);
    expect(last / (ah[0] as number)).toBeLessThan(0.97);
  });
});
