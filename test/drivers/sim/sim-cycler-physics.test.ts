import { describe, expect, it } from "vitest";
import {
  ASSLB_1AH,
  chargeCccv,
  NMC_3AH,
  readChamberEverySecond,
  readEverySecond,
  simFixture,
} from "./sim-fixture.js";

describe("sim/cycler cell physics, through the CyclerChannel interface", () => {
  it("delivers the NMC cell's nominal 3.0 Ah ±3 % at C/10 and 25 °C", async () => {
    const q = NMC_3AH.capacityAh;
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5, chamberC: 25 });
    const charge = await chargeCccv(f, q / 10, 4.2, q / 20);
    expect(charge.stopped).toBe(true);
    await f.channel.apply({ mode: "rest" });
    await readEverySecond(f.clock, f.channel, 3600);
    await f.channel.apply({ mode: "cc", currentA: -q / 10, minV: 2.5, maxV: 4.2 });
    const discharge = await readEverySecond(f.clock, f.channel, 15 * 3600, (r) => r.voltageV <= 2.5);
    expect(discharge.stopped).toBe(true);
    const deliveredAh = -discharge.ah;
    console.info(
      `NMC 3.0 Ah at C/10, 25 °C: delivered ${deliveredAh.toFixed(4)} Ah in ${discharge.tS.length} s`,
    );
    expect(deliveredAh).toBeGreaterThan(q * 0.97);
    expect(deliveredAh).toBeLessThan(q * 1.03);
    // About ten hours, as C/10 should take.
    expect(discharge.tS.length / 3600).toBeGreaterThan(9.5);
    expect(discharge.tS.length / 3600).toBeLessThan(10.5);
  });

  it("gives the ASSLB clearly less capacity at -20 °C than at 60 °C at C/3 (charged at 25 °C)", async () => {
    const q = ASSLB_1AH.capacityAh;
    const deliveredAt = async (celsius: number): Promise<{ ah: number; minCellC: number }> => {
      const f = await simFixture({ cell: ASSLB_1AH, initialSoc: 0.3, chamberC: 25 });
      const charge = await chargeCccv(f, q / 3, 4.25, q / 20);
      expect(charge.stopped).toBe(true);
      await f.channel.apply({ mode: "rest" });
      await f.chamber?.setSetpoint(celsius);
      const soak = await readEverySecond(f.clock, f.channel, 3 * 3600);
      const soaked = soak.readings[soak.readings.length - 1]?.temperatureC as number;
      expect(Math.abs(soaked - celsius)).toBeLessThan(0.5);
      await f.channel.apply({ mode: "cc", currentA: -q / 3, minV: 2.5, maxV: 4.25 });
      const d = await readEverySecond(f.clock, f.channel, 6 * 3600, (r) => r.voltageV <= 2.5);
      expect(d.stopped).toBe(true);
      return { ah: -d.ah, minCellC: Math.min(...d.readings.map((r) => r.temperatureC)) };
    };
    const cold = await deliveredAt(-20);
    const hot = await deliveredAt(60);
    const ratio = cold.ah / hot.ah;
    console.info(
      `ASSLB 1 Ah at C/3: ${cold.ah.toFixed(3)} Ah at -20 °C, ${hot.ah.toFixed(3)} Ah at 60 °C, ratio ${ratio.toFixed(3)}`,
    );
    expect(hot.ah).toBeGreaterThan(0.95 * q);
    expect(ratio).toBeLessThan(0.8);
    expect(ratio).toBeGreaterThan(0.2);
    expect(cold.minCellC).toBeLessThan(-19);
  });

  it("tapers the CC-CV current after the CV voltage; faster rates finish sooner with a larger CV share", async () => {
    const q = NMC_3AH.capacityAh;
    const results: { rate: number; totalS: number; cvS: number; share: number }[] = [];
    for (const rate of [0.2, 0.5, 1, 2]) {
      const f = await simFixture({ cell: NMC_3AH, initialSoc: 0, chamberC: 25 });
      const trace = await chargeCccv(f, rate * q, 4.2, q / 20, 30_000);
      expect(trace.stopped).toBe(true);
      const cvStart = trace.readings.findIndex((r) => r.voltageV >= 4.2 - 1e-9);
      expect(cvStart).toBeGreaterThan(0);
      // CC phase: the set current and a voltage below the CV voltage.
      for (const r of trace.readings.slice(0, cvStart)) {
        expect(r.currentA).toBeCloseTo(rate * q, 9);
        expect(r.voltageV).toBeLessThan(4.2);
      }
      // CV phase: the voltage held, the current never above the CC value and falling steadily.
      const cv = trace.readings.slice(cvStart);
      for (const [k, r] of cv.entries()) {
        expect(r.voltageV).toBeCloseTo(4.2, 9);
        expect(r.currentA).toBeLessThanOrEqual(rate * q + 1e-9);
        if (k > 0) expect(r.currentA).toBeLessThanOrEqual((cv[k - 1]?.currentA as number) + 1e-9);
      }
      const last = cv[cv.length - 1]?.currentA as number;
      expect(last).toBeLessThanOrEqual(q / 20);
      const totalS = trace.tS.length;
      const cvS = totalS - cvStart;
      results.push({ rate, totalS, cvS, share: cvS / totalS });
    }
    console.info(
      `CC-CV 0→4.2 V until C/20 (3 Ah NMC): ${results
        .map((r) => `${r.rate}C total ${r.totalS} s, CV ${r.cvS} s (${(100 * r.share).toFixed(1)} %)`)
        .join("; ")}`,
    );
    for (let k = 1; k < results.length; k++) {
      const a = results[k - 1] as (typeof results)[number];
      const b = results[k] as (typeof results)[number];
      expect(b.totalS).toBeLessThan(a.totalS);
      expect(b.share).toBeGreaterThan(a.share);
    }
    // The CV phase lasts longer up to 1C; at 2C the self-heated cell's particles relax faster, so
    // its CV phase is no longer than at 1C (as on real 18650s), but still far longer than at C/5.
    for (let k = 1; k < 3; k++)
      expect((results[k] as (typeof results)[number]).cvS).toBeGreaterThan(
        (results[k - 1] as (typeof results)[number]).cvS,
      );
    expect((results[3] as (typeof results)[number]).cvS).toBeGreaterThan(
      1.5 * (results[0] as (typeof results)[number]).cvS,
    );
  });

  it("warms a cell in a hot chamber toward the air with a thermal time constant of minutes", async () => {
    const f = await simFixture({ cell: NMC_3AH, chamberC: 25 });
    await f.channel.apply({ mode: "rest" });
    await f.chamber?.setSetpoint(60);
    const air: number[] = [];
    const cell: number[] = [];
    const t0 = f.clock.now();
    for (let s = 1; s <= 3 * 3600; s++) {
      await f.clock.advanceTo(t0 + s * 1000);
      air.push((await f.chamber?.read())?.temperatureC as number);
      cell.push((await f.channel.read()).temperatureC);
    }
    // The cell lags the air on the way up, and never overshoots it (no heat source at rest).
    for (let s = 0; s < cell.length; s++)
      expect(cell[s] as number).toBeLessThanOrEqual((air[s] as number) + 1e-9);
    expect((air[20 * 60] as number) - (cell[20 * 60] as number)).toBeGreaterThan(3);
    // Once the air has settled, the cell's excess decays exponentially: estimate τ from two points.
    const settled = air.findIndex((a) => Math.abs(a - 60) < 0.05);
    expect(settled).toBeGreaterThan(0);
    const gapA = 60 - (cell[settled] as number);
    const gapB = 60 - (cell[settled + 600] as number);
    const tauS = 600 / Math.log(gapA / gapB);
    console.info(`NMC 3 Ah cell thermal time constant in the chamber: ${(tauS / 60).toFixed(1)} min`);
    expect(tauS).toBeGreaterThan(5 * 60);
    expect(tauS).toBeLessThan(30 * 60);
    expect(Math.abs((cell[cell.length - 1] as number) - 60)).toBeLessThan(0.2);
  });

  it("keeps a cell in no chamber at 25 °C air", async () => {
    const f = await simFixture({ cell: NMC_3AH });
    const trace = await readEverySecond(f.clock, f.channel, 600);
    expect(trace.readings[trace.readings.length - 1]?.temperatureC).toBeCloseTo(25, 6);
  });

  it("heats a cell under load above its chamber air (Joule and polarisation heat)", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 1, chamberC: 25 });
    await f.channel.apply({ mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 });
    const trace = await readEverySecond(f.clock, f.channel, 3600, (r) => r.voltageV <= 2.5);
    const peak = Math.max(...trace.readings.map((r) => r.temperatureC));
    const air = await readChamberEverySecond(f.clock, f.chamber as NonNullable<typeof f.chamber>, 1);
    expect(peak).toBeGreaterThan(30);
    expect(peak).toBeLessThan(60);
    expect(air.temperatureC[0]).toBeCloseTo(25, 1);
  });
});
