import { describe, expect, it } from "vitest";
import { ProgramCursor } from "../../../src/engine/program-cursor.js";
import { profile, repeat, rest, sweep } from "../../support/profile-builders.js";

/** Walks a cursor to the end, recording item paths and the cycle count at each item. */
function walk(cursor: ProgramCursor, limit = 1000): { paths: string[]; cycles: number } {
  const paths: string[] = [];
  let cycles = 0;
  for (let i = 0; i < limit && !cursor.done; i++) {
    paths.push((cursor.current() as { path: string }).path);
    cycles += cursor.advance().cyclesEnded;
  }
  return { paths, cycles };
}

describe("ProgramCursor", () => {
  it("visits nested loops in order and counts a cycle per innermost iteration", () => {
    const p = profile([rest(1), repeat(2, [rest(2), repeat(3, [rest(3), rest(4)])]), rest(5)]);
    const { paths, cycles } = walk(new ProgramCursor(p.steps));
    const inner = ["steps[1].steps[1].steps[0]", "steps[1].steps[1].steps[1]"];
    const outer = ["steps[1].steps[0]", ...inner, ...inner, ...inner];
    expect(paths).toEqual(["steps[0]", ...outer, ...outer, "steps[2]"]);
    expect(cycles).toBe(6);
  });

  it("gives each sweep iteration a chamber phase before its steps", () => {
    const p = profile([sweep([-20, 25, 60], [rest(1)], 3600, 0.5)]);
    const cursor = new ProgramCursor(p.steps);
    const seen: string[] = [];
    while (!cursor.done) {
      const item = cursor.current();
      if (item?.kind === "chamber")
        seen.push(`set ${item.setpointC} soak ${item.soakS} tol ${item.toleranceC}`);
      else seen.push(`step ${item?.path}`);
      cursor.advance();
    }
    expect(seen).toEqual([
      "set -20 soak 3600 tol 0.5",
      "step steps[0].steps[0]",
      "set 25 soak 3600 tol 0.5",
      "step steps[0].steps[0]",
      "set 60 soak 3600 tol 0.5",
      "step steps[0].steps[0]",
    ]);
  });

  it("skips empty loops and ends on an empty profile", () => {
    expect(new ProgramCursor(profile([repeat(0, [rest(1)]), rest(2)]).steps).current()?.path).toBe(
      "steps[1]",
    );
    expect(new ProgramCursor([]).done).toBe(true);
  });

  it("restores a saved position with its loop counters", () => {
    const p = profile([repeat(3, [rest(1), rest(2)])]);
    const a = new ProgramCursor(p.steps);
    for (let i = 0; i < 3; i++) a.advance();
    const b = new ProgramCursor(p.steps);
    b.restore(a.positions());
    expect(b.current()?.path).toBe(a.current()?.path);
    expect(b.loopCounters()).toEqual([{ path: "steps[0]", iteration: 1 }]);
    expect(walk(b).paths).toEqual(walk(a).paths);
  });

  it("jumps to a label, keeping the counters of loops that enclose both ends", () => {
    const p = profile([repeat(2, [rest(1, "top"), rest(2), rest(3)]), rest(4, "tail")]);
    const cursor = new ProgramCursor(p.steps);
    cursor.advance(); // iteration 0, steps[0].steps[1]
    cursor.advance();
    cursor.advance(); // iteration 1, steps[0].steps[0]
    cursor.advance(); // iteration 1, steps[0].steps[1]
    cursor.goto("top");
    expect(cursor.current()?.path).toBe("steps[0].steps[0]");
    expect(cursor.loopCounters()).toEqual([{ path: "steps[0]", iteration: 1 }]);
    cursor.goto("tail");
    expect(cursor.current()?.path).toBe("steps[1]");
    expect(cursor.loopCounters()).toEqual([]);
    expect(() => cursor.goto("nowhere")).toThrow(/no step labelled "nowhere"/);
  });
});
