import { describe, expect, it } from "vitest";
import { estimateProfile } from "../../../src/engine/estimate.js";
import { profile, step } from "../../support/profile-builders.js";
import { NMC_18650 } from "../../support/sim-bench.js";

const rest = (durationS: number) => profile([step({ kind: "rest" }, { durationS })]);
const budget = { samples: 1000, initialSoc: 0.5 };

describe("estimateProfile", () => {
  it("places a profile that fits the budget at 1 s exactly (the fine pass)", async () => {
    const { estimate, complete } = await estimateProfile(rest(61), NMC_18650, budget);
    expect(complete).toBe(true);
    expect([estimate.state, estimate.durationS, estimate.samplePeriodS]).toEqual(["completed", 61, 1]);
  });

  it("keeps the coarse estimate, within one coarse sample, for a profile beyond the fine budget", async () => {
    const { estimate, complete } = await estimateProfile(rest(5003), NMC_18650, budget);
    expect(complete).toBe(true);
    expect([estimate.state, estimate.samplePeriodS]).toEqual(["completed", 30]);
    expect(estimate.durationS).toBeGreaterThanOrEqual(5003);
    expect(estimate.durationS).toBeLessThanOrEqual(5003 + 30);
  });

  it("says incomplete when even the coarse pass runs out of samples", async () => {
    const { estimate, complete } = await estimateProfile(rest(40_000), NMC_18650, budget);
    expect(complete).toBe(false);
    expect(estimate.state).toBe("stopped");
    expect(estimate.durationS).toBeGreaterThanOrEqual(30_000);
    expect(estimate.durationS).toBeLessThan(40_000);
  });

  it("uses a finer fine period when asked (profiles that log faster than 1 s)", async () => {
    const { estimate } = await estimateProfile(rest(2.5), NMC_18650, { ...budget, finePeriodS: 0.5 });
    expect([estimate.durationS, estimate.samplePeriodS]).toEqual([2.5, 0.5]);
  });
});
