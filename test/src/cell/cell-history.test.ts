import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyHistory, noteCycle, noteRunState, summarize } from "../../../src/cell/cell-history.js";
import type { CycleRecord } from "../../../src/run/records.js";

function cycle(run: string, cycleIndex: number, dischargeAh: number, chargeAh = dischargeAh): CycleRecord {
  return {
    channel: run === "R2" ? "ch2" : "ch1",
    run,
    cell: "C1",
    tWallMs: 1000 * cycleIndex,
    cycleIndex,
    chargeAh,
    dischargeAh,
    chargeWh: 0,
    dischargeWh: 0,
    coulombicEfficiency: dischargeAh / chargeAh,
    energyEfficiency: 0.95,
    capacityRetention: 1,
    minTemperatureC: 25,
    maxTemperatureC: 26,
  };
}

describe("cell history", () => {
  it("sums runs across channels, keeps first and last capacity, and takes live totals of runs under way", () => {
    const h = emptyHistory();
    noteRunState(h, { id: "R1", channel: "ch1" }, "running", 0, undefined);
    noteCycle(h, cycle("R1", 1, 2.9), { chargeAh: 3, dischargeAh: 2.9 });
    noteCycle(h, cycle("R1", 2, 2.8), { chargeAh: 6, dischargeAh: 5.7 });
    noteRunState(h, { id: "R1", channel: "ch1" }, "completed", 5000, { chargeAh: 6.1, dischargeAh: 5.7 });
    noteRunState(h, { id: "R2", channel: "ch2" }, "running", 9000, { chargeAh: 0, dischargeAh: 0 });
    // A charge-only cycle says nothing about capacity.
    noteCycle(h, cycle("R2", 1, 0, 1), { chargeAh: 1, dischargeAh: 0 });
    const s = summarize(h, (run) =>
      run === "R2" ? { chargeAh: 1.5, dischargeAh: 0.2 } : { chargeAh: 99, dischargeAh: 99 },
    );
    expect(s).toEqual({
      runCount: 2,
      cycleCount: 3,
      chargeAh: 6.1 + 1.5,
      dischargeAh: 5.7 + 0.2,
      firstDischargeAh: 2.9,
      lastDischargeAh: 2.8,
      capacityRetention: 2.8 / 2.9,
      lastCycleMs: 1000,
      lastChannel: "ch2",
    });
  });

  it("adds up the same whatever cycle events and older totals are delivered again (fast-check)", () => {
    const run = fc.constantFrom("R1", "R2");
    const event = fc.record({ run, cycles: fc.integer({ min: 1, max: 6 }), repeat: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), (events) => {
        const once = emptyHistory();
        const again = emptyHistory();
        const next = new Map<string, number>();
        for (const e of events) {
          for (let i = 0; i < e.cycles; i++) {
            const index = (next.get(e.run) ?? 0) + 1;
            next.set(e.run, index);
            const totals = { chargeAh: index * 0.5, dischargeAh: index * 0.4 };
            const record = cycle(e.run, index, 0.4, 0.5);
            noteCycle(once, record, totals);
            noteCycle(again, record, totals);
            // A crash repeats the cycle (and its older totals may come with it).
            if (e.repeat) noteCycle(again, record, { chargeAh: totals.chargeAh - 0.1, dischargeAh: 0 });
          }
        }
        const a = summarize(once);
        expect(summarize(again)).toEqual(a);
        const total = [...next.values()].reduce((sum, n) => sum + n, 0);
        expect(a.cycleCount).toBe(total);
        expect(a.dischargeAh).toBeCloseTo(total * 0.4, 9);
      }),
    );
  });
});
