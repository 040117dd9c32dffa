import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CyclerRanges } from "../../../drivers/capabilities.js";
import {
  formatSetValue,
  planSetValueWrites,
  SET_VALUE_NAMES,
  type SupplySetValues,
  supplySetValues,
} from "../../../drivers/common/supply-set-values.js";

const RANGES: CyclerRanges = {
  voltageV: [0, 60],
  currentA: [-60, 60],
  powerW: 1500,
  modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
};

const setValues = fc.record({
  voltageV: fc.double({ min: 0, max: 60, noNaN: true }),
  sourceCurrentA: fc.double({ min: 0, max: 60, noNaN: true }),
  sinkCurrentA: fc.double({ min: 0, max: 60, noNaN: true }),
  sourcePowerW: fc.double({ min: 0, max: 1500, noNaN: true }),
  sinkPowerW: fc.double({ min: 0, max: 1500, noNaN: true }),
});

describe("PSB set values", () => {
  it("maps each mode to the quadrant it needs", () => {
    expect(supplySetValues({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 }, RANGES)).toEqual({
      voltageV: 4.2,
      sourceCurrentA: 2,
      sinkCurrentA: 0,
      sourcePowerW: 1500,
      sinkPowerW: 1500,
    });
    expect(supplySetValues({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 }, RANGES)).toMatchObject({
      voltageV: 2.5,
      sourceCurrentA: 0,
      sinkCurrentA: 3,
    });
    // cv: the source current limits the charge, the sink current the discharge, each its own.
    expect(
      supplySetValues({ mode: "cv", voltageV: 4.1, chargeLimitA: 1.5, dischargeLimitA: 4 }, RANGES),
    ).toMatchObject({
      voltageV: 4.1,
      sourceCurrentA: 1.5,
      sinkCurrentA: 4,
    });
    expect(supplySetValues({ mode: "cccv", currentA: -1, voltageV: 3 }, RANGES)).toMatchObject({
      voltageV: 3,
      sourceCurrentA: 0,
      sinkCurrentA: 1,
    });
    expect(supplySetValues({ mode: "cp", powerW: 12, minV: 2.5, maxV: 4.2 }, RANGES)).toEqual({
      voltageV: 4.2,
      sourceCurrentA: 60,
      sinkCurrentA: 0,
      sourcePowerW: 12,
      sinkPowerW: 1500,
    });
  });

  it("while live, never lets a limit exceed both old and new, and changes U only with every limit at min(old, new)", () => {
    fc.assert(
      fc.property(setValues, setValues, (previous, next) => {
        const state: SupplySetValues = { ...previous };
        const writes = planSetValueWrites(previous, next, true);
        for (const [name, value] of writes) {
          if (name === "voltageV")
            for (const limit of SET_VALUE_NAMES.filter((n) => n !== "voltageV"))
              expect(state[limit]).toBe(Math.min(previous[limit], next[limit]));
          state[name] = value;
          for (const limit of SET_VALUE_NAMES)
            expect(state[limit]).toBeLessThanOrEqual(Math.max(previous[limit], next[limit]));
        }
        expect(state).toEqual(next);
        expect(new Set(writes.map(([name]) => name)).size).toBe(writes.length);
      }),
    );
  });

  it("writes only what changed, and everything when the previous values are unknown", () => {
    const before = supplySetValues({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 }, RANGES);
    const after = supplySetValues({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 }, RANGES);
    expect(planSetValueWrites(before, after, true)).toEqual([["sourceCurrentA", 1]]);
    expect(planSetValueWrites(undefined, after, false).map(([n]) => n)).toEqual(SET_VALUE_NAMES);
  });

  it("formats values without trailing zeros or negative zero", () => {
    expect(formatSetValue(4.2)).toBe("4.2");
    expect(formatSetValue(1500)).toBe("1500");
    expect(formatSetValue(-0)).toBe("0");
    expect(formatSetValue(0.123456)).toBe("0.1235");
  });
});
