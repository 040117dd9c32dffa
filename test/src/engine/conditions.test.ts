import { describe, expect, it } from "vitest";
import {
  type ConditionInputs,
  conditionMet,
  describeCondition,
  resolveCondition,
} from "../../../src/engine/conditions.js";
import type { Condition } from "../../../src/profile/ast.js";

const first: ConditionInputs = {
  voltageV: 4.2,
  currentA: 0,
  temperatureC: 25,
  stepAh: 0,
  stepWh: 0,
  dvdtMvPerS: undefined,
  soc: undefined,
};
const resolve = (c: Condition) => resolveCondition(c, { direction: undefined, capacityAh: 3, first });
const at = (dvdtMvPerS: number | undefined): ConditionInputs => ({ ...first, dvdtMvPerS });

describe("dV/dt conditions", () => {
  it("compare the magnitude of the slope when the threshold has no sign", () => {
    const below = resolve({ kind: "dvdt", op: "<", mvPerS: 0.0017 });
    // A cell relaxing downward after a charge: the slope is negative but not yet small.
    expect(conditionMet(below, at(-0.5))).toBe(false);
    expect(conditionMet(below, at(-0.0016))).toBe(true);
    expect(conditionMet(below, at(0.0016))).toBe(true);
    expect(conditionMet(below, at(0.5))).toBe(false);
    expect(conditionMet(below, at(undefined))).toBe(false);
    const above = resolve({ kind: "dvdt", op: ">", mvPerS: 0.1 });
    expect(conditionMet(above, at(-0.2))).toBe(true);
    expect(conditionMet(above, at(0.05))).toBe(false);
    expect(describeCondition(below)).toBe("|dV/dt| ≤ 0.0017 mV/s");
  });

  it("compare the signed slope when the profile wrote a sign", () => {
    const falling = resolve({ kind: "dvdt", op: "<", mvPerS: -0.5, signed: true });
    expect(conditionMet(falling, at(-0.6))).toBe(true);
    expect(conditionMet(falling, at(-0.4))).toBe(false);
    expect(conditionMet(falling, at(0.6))).toBe(false);
    expect(describeCondition(falling)).toBe("dV/dt ≤ -0.5 mV/s");
    const rising = resolve({ kind: "dvdt", op: ">", mvPerS: 0.1, signed: true });
    expect(conditionMet(rising, at(0.2))).toBe(true);
    expect(conditionMet(rising, at(-0.2))).toBe(false);
  });

  it("take a negative threshold as signed even without the flag (a run stored before it existed)", () => {
    const stored = resolve({ kind: "dvdt", op: "<", mvPerS: -0.5 });
    expect(conditionMet(stored, at(-0.6))).toBe(true);
    expect(conditionMet(stored, at(0.6))).toBe(false);
    expect(describeCondition(stored)).toBe("dV/dt ≤ -0.5 mV/s");
  });
});
