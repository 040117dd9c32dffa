import { describe, expect, it } from "vitest";
import type { RepeatNode } from "../../../src/profile/ast.js";
import { cycleLoops, holdsCycles } from "../../../src/profile/cycles.js";
import { profile, repeat, rest, sweep } from "../../support/profile-builders.js";

describe("cycleLoops", () => {
  it("takes the innermost loops when no loop is marked", () => {
    const inner = repeat(3, [rest(1)]);
    const chamberSweep = sweep([0, 25], [rest(2)]);
    const outer = repeat(2, [inner]);
    const p = profile([outer, chamberSweep, rest(3)]);
    expect(cycleLoops(p.steps)).toEqual(new Set([inner, chamberSweep]));
    expect(holdsCycles(outer, cycleLoops(p.steps))).toBe(true);
  });

  it("takes only the marked loops when any is marked", () => {
    const inner = repeat(3, [rest(1)]);
    const outer: RepeatNode = { ...repeat(2, [inner]), cycle: true };
    const other = repeat(4, [rest(2)]);
    const p = profile([outer, other]);
    const cycles = cycleLoops(p.steps);
    expect(cycles).toEqual(new Set([outer]));
    expect(holdsCycles(other, cycles)).toBe(false);
    expect(holdsCycles(inner, cycles)).toBe(false);
  });

  it("has none for a profile without loops", () => {
    expect(cycleLoops(profile([rest(1)]).steps).size).toBe(0);
  });
});
