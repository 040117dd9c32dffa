import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import {
  type ConditionInputs,
  conditionMet,
  describeCondition,
  resolveCondition,
  restingSoc,
  socEstimate,
  socUnknown,
  stepUsingSoc,
  VoltageSlope,
} from "../../../src/engine/conditions.js";
import type { Condition } from "../../../src/profile/ast.js";
import { parseProfile } from "../../../src/profile/document.js";
import type { ChannelSample } from "../../../src/sampling/sample.js";

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

describe("SOC conditions", () => {
  const withSoc = (soc: number | undefined): ConditionInputs => ({ ...first, soc });
  const resolveIn = (
    c: Condition,
    direction: "charge" | "discharge" | undefined,
    start: number | undefined,
  ) => resolveCondition(c, { direction, capacityAh: 3, first: withSoc(start) });

  it("resolve their direction like voltage: up on charge, down on discharge, else from the start", () => {
    const eighty: Condition = { kind: "soc", fraction: 0.8 };
    expect(resolveIn(eighty, "charge", 0.5).op).toBe(">");
    expect(resolveIn(eighty, "discharge", 0.9).op).toBe("<");
    expect(resolveIn(eighty, undefined, 0.9).op).toBe("<");
    expect(resolveIn(eighty, undefined, 0.5).op).toBe(">");
    expect(resolveIn({ kind: "soc", op: "<", fraction: 0.8 }, "charge", 0.5).op).toBe("<");
    const up = resolveIn(eighty, "charge", 0.5);
    expect(conditionMet(up, withSoc(0.79))).toBe(false);
    expect(conditionMet(up, withSoc(0.8))).toBe(true);
    expect(conditionMet(up, withSoc(undefined))).toBe(false);
    expect(describeCondition(up)).toBe("SOC ≥ 80 %");
  });

  it("estimate SOC from the start SOC and the net charge over the nominal capacity", () => {
    expect(socEstimate(0.5, { chargeAh: 1.5, dischargeAh: 0.3 }, 3)).toBeCloseTo(0.9, 12);
    expect(socEstimate(undefined, { chargeAh: 1.5, dischargeAh: 0 }, 3)).toBeUndefined();
  });

  it("read the start SOC off the rest voltage only when the cell is at rest", () => {
    const cell = { chemistry: "li-ion-nmc", capacityAh: 3 } as CellSpec;
    const sample = (voltageV: number, currentA: number) => ({ voltageV, currentA }) as ChannelSample;
    const low = restingSoc(cell, sample(3.5, 0)) as number;
    const high = restingSoc(cell, sample(4.1, 0.02)) as number;
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThanOrEqual(1);
    expect(high).toBeGreaterThan(low);
    expect(restingSoc(cell, sample(4.1, 0.5))).toBeUndefined();
    expect(restingSoc(cell, sample(Number.NaN, 0))).toBeUndefined();
    expect(restingSoc(cell, undefined)).toBeUndefined();
  });

  it("name the first step that needs an SOC estimate", () => {
    const p = parseProfile(
      `
name: soc
steps:
  - Rest for 1 s
  - repeat: 2
    counter: n
    steps: [Charge at 1C until 4.2 V, "Discharge at 1C for {n} s or until 20% SOC"]
`,
      { sourceName: "t.yaml" },
    );
    expect(stepUsingSoc(p.steps)).toBe("steps[1].steps[1]");
    expect(stepUsingSoc(p.steps.slice(0, 1))).toBeUndefined();
    expect(socUnknown("steps[3]")).toMatch(
      /^steps\[3\] ends on the cell's SOC, but the run has no SOC estimate/,
    );
  });
});

/** VoltageSlope as it was with two arrays (push, shift): the ring must answer exactly the same. */
class ArraySlope {
  private readonly times: number[] = [];
  private readonly volts: number[] = [];
  constructor(private readonly windowS: number) {}
  reset(): void {
    this.times.length = 0;
    this.volts.length = 0;
  }
  push(tS: number, voltageV: number): number | undefined {
    this.times.push(tS);
    this.volts.push(voltageV);
    while (this.times.length > 2 && tS - (this.times[1] as number) >= this.windowS) {
      this.times.shift();
      this.volts.shift();
    }
    const span = tS - (this.times[0] as number);
    if (span < this.windowS / 2 || span <= 0) return undefined;
    return ((voltageV - (this.volts[0] as number)) / span) * 1000;
  }
}

describe("VoltageSlope", () => {
  it("answers as the array implementation for any sample times, voltages, windows and resets", () => {
    const op = fc.oneof(
      {
        weight: 30,
        // Steps in quarter seconds as well as arbitrary ones: samples exactly one window apart occur.
        arbitrary: fc.tuple(
          fc.oneof(
            fc.integer({ min: 0, max: 8 }).map((q) => q / 4),
            fc.double({ min: 0, max: 5, noNaN: true }),
          ),
          fc.double({ noNaN: false }),
        ),
      },
      { weight: 1, arbitrary: fc.constant("reset" as const) },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 1, max: 40 }).map((q) => q / 4),
          fc.double({ min: 0.01, max: 20, noNaN: true }),
        ),
        fc.array(op, { maxLength: 400 }),
        (w, ops) => {
          const ring = new VoltageSlope(w);
          const reference = new ArraySlope(w);
          let t = 0;
          for (const o of ops) {
            if (o === "reset") {
              ring.reset();
              reference.reset();
              continue;
            }
            t += o[0];
            expect(ring.push(t, o[1])).toBe(reference.push(t, o[1]));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
