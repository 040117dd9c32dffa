import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CellAgeing } from "../../../drivers/sim/cell-ageing.js";
import { CHEMISTRY } from "../../../drivers/sim/cell-parameters.js";

const NMC = CHEMISTRY["li-ion-nmc"].ageing;

/** A stretch of a cell's life: seconds at a current, a temperature and a state of charge. */
const stretch = fc.record({
  seconds: fc.double({ min: 1, max: 86_400, noNaN: true }),
  currentA: fc.double({ min: -15, max: 15, noNaN: true }),
  celsius: fc.double({ min: -30, max: 110, noNaN: true }),
  soc: fc.double({ min: -0.03, max: 1.03, noNaN: true }),
});
type Stretch = { seconds: number; currentA: number; celsius: number; soc: number };

const live = (history: Stretch[]): CellAgeing => {
  const ageing = new CellAgeing(NMC, 3);
  for (const h of history) ageing.advance(h.seconds, h.currentA, h.celsius, h.soc);
  return ageing;
};

describe("cell ageing", () => {
  it("never gives capacity back: capacity only falls and resistance only grows along any history", () => {
    fc.assert(
      fc.property(fc.array(stretch, { minLength: 1, maxLength: 30 }), (history) => {
        const ageing = new CellAgeing(NMC, 3);
        let capacity = ageing.capacityFactor;
        let resistance = ageing.resistanceFactor;
        for (const h of history) {
          ageing.advance(h.seconds, h.currentA, h.celsius, h.soc);
          expect(ageing.capacityFactor).toBeLessThanOrEqual(capacity);
          expect(ageing.resistanceFactor).toBeGreaterThanOrEqual(resistance);
          capacity = ageing.capacityFactor;
          resistance = ageing.resistanceFactor;
        }
      }),
    );
  });

  it("more throughput never gives more capacity", () => {
    fc.assert(
      fc.property(
        fc.array(stretch, { minLength: 1, maxLength: 30 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        (history, factor) => {
          const harder = history.map((h) => ({ ...h, currentA: h.currentA * factor }));
          expect(live(harder).capacityFactor).toBeLessThanOrEqual(live(history).capacityFactor);
        },
      ),
    );
  });

  it("more heat never gives more capacity", () => {
    fc.assert(
      fc.property(
        fc.array(stretch, { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 40, noNaN: true }),
        (history, warmerC) => {
          const hotter = history.map((h) => ({ ...h, celsius: h.celsius + warmerC }));
          expect(live(hotter).capacityFactor).toBeLessThanOrEqual(live(history).capacityFactor);
        },
      ),
    );
  });

  it("a fuller cell never keeps more capacity, and an empty one does not calendar-age", () => {
    fc.assert(
      fc.property(
        fc.array(stretch, { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (history, fuller) => {
          const full = history.map((h) => ({ ...h, soc: Math.min(1.03, h.soc + fuller) }));
          expect(live(full).capacityFactor).toBeLessThanOrEqual(live(history).capacityFactor);
        },
      ),
    );
    const empty = new CellAgeing(NMC, 3);
    empty.advance(30 * 86_400, 0, 105, 0);
    expect(empty.capacityFactor).toBe(1);
  });

  it("follows Arrhenius in throughput and √t in calendar time", () => {
    // 1000 equivalent full cycles (6000 Ah on a 3 Ah cell) at 25 °C: 1000 × the per-cycle fade.
    const cycled = new CellAgeing(NMC, 3);
    for (let k = 0; k < 1000; k++) cycled.advance(3600, 3, 25, 0.5);
    for (let k = 0; k < 1000; k++) cycled.advance(3600, -3, 25, 0.5);
    expect(cycled.cycleFade).toBeCloseTo(1000 * NMC.cycleFadePerEfc, 9);
    // Calendar: four times the time, twice the fade; twice the SOC, twice the rate.
    const year = 365.25 * 86_400;
    const stored = new CellAgeing(NMC, 3);
    stored.advance(year, 0, 25, 0.5);
    expect(stored.calendarFade).toBeCloseTo(NMC.calendarFadePerYear, 9);
    stored.advance(3 * year, 0, 25, 0.5);
    expect(stored.calendarFade).toBeCloseTo(2 * NMC.calendarFadePerYear, 9);
    const full = new CellAgeing(NMC, 3);
    full.advance(year, 0, 25, 1);
    expect(full.calendarFade).toBeCloseTo(2 * NMC.calendarFadePerYear, 9);
    // 60 °C ages cycling by exp(Ea/R·(1/298.15 − 1/333.15)).
    const hot = new CellAgeing(NMC, 3);
    hot.advance(3600, 6, 60, 0.5);
    const expected =
      NMC.cycleFadePerEfc * Math.exp((NMC.cycleActivationJPerMol / 8.314) * (1 / 298.15 - 1 / 333.15));
    expect(hot.cycleFade).toBeCloseTo(expected, 12);
    const fade = hot.cycleFade + hot.calendarFade;
    expect(hot.resistanceFactor).toBeCloseTo(1 + NMC.resistanceGrowthPerFade * fade, 12);
  });

  it("starts from a given state of health and stays finite for a dead cell", () => {
    const aged = new CellAgeing(NMC, 3, { cycleFade: 0.1, calendarFade: 0.05 });
    expect(aged.capacityFactor).toBeCloseTo(0.85, 12);
    aged.advance(1e9, 100, 500, 1);
    expect(aged.capacityFactor).toBeGreaterThan(0);
    expect(Number.isFinite(aged.resistanceFactor)).toBe(true);
  });
});
