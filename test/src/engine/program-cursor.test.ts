import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LoopExit, ProgramCursor } from "../../../src/engine/program-cursor.js";
import { parseProfile } from "../../../src/profile/document.js";
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

const doc = (yaml: string) => parseProfile(yaml, { sourceName: "t.yaml" });

/** Walks to the end recording each item's text, whether it is in a cycle, and cycle ends. */
function trace(
  cursor: ProgramCursor,
  exitLoop?: LoopExit,
): { texts: string[]; inCycle: boolean[]; cycles: number } {
  const texts: string[] = [];
  const inCycle: boolean[] = [];
  let cycles = 0;
  for (let i = 0; i < 1000 && !cursor.done; i++) {
    texts.push((cursor.current() as { text: string }).text);
    inCycle.push(cursor.inCycle());
    cycles += cursor.advance(exitLoop).cyclesEnded;
  }
  return { texts, inCycle, cycles };
}

describe("ProgramCursor with loop variables, cycle loops and until", () => {
  it("gives each iteration its instantiated step, with sweep values and 1-based counters", () => {
    const p = doc(`
name: rate
steps:
  - sweep: { c: [0.5C, 2C] }
    counter: i
    steps:
      - repeat: 2
        counter: n
        steps: ["Discharge at {c} for {n} minutes"]
      - Rest for {i} s
`);
    const cursor = new ProgramCursor(p.steps);
    const first = cursor.current();
    expect(first).toMatchObject({
      kind: "step",
      path: "steps[0].steps[0].steps[0]",
      node: {
        action: { kind: "constant", value: { kind: "c-rate", c: 0.5 } },
        termination: { durationS: 60 },
      },
    });
    expect(cursor.bindings()).toEqual(
      new Map([
        ["i", "1"],
        ["c", "0.5C"],
        ["n", "1"],
      ]),
    );
    expect(trace(cursor).texts).toEqual([
      "Discharge at 0.5C for 1 minutes",
      "Discharge at 0.5C for 2 minutes",
      "Rest for 1 s",
      "Discharge at 2C for 1 minutes",
      "Discharge at 2C for 2 minutes",
      "Rest for 2 s",
    ]);
  });

  it("restores a position inside a sweep of values to the same instance", () => {
    const p = doc(`
name: rate
steps:
  - Rest for 1 s
  - sweep: { c: [0.5C, 1C, 2C] }
    steps: ["Discharge at {c} until 2.5 V", Rest for 10 s]
`);
    const a = new ProgramCursor(p.steps);
    for (let i = 0; i < 3; i++) a.advance();
    expect(a.current()?.text).toBe("Discharge at 1C until 2.5 V");
    const b = new ProgramCursor(p.steps);
    b.restore(JSON.parse(JSON.stringify(a.positions())));
    expect(b.current()?.text).toBe("Discharge at 1C until 2.5 V");
    expect(trace(b).texts).toEqual(trace(a).texts);
  });

  it("counts innermost iterations as cycles when no loop is marked; steps outside them are in none", () => {
    const p = profile([rest(1), repeat(2, [rest(2), repeat(3, [rest(3)])]), rest(4)]);
    const { inCycle, cycles } = trace(new ProgramCursor(p.steps));
    expect(cycles).toBe(6);
    const inner = [true, true, true];
    expect(inCycle).toEqual([false, false, ...inner, false, ...inner, false]);
  });

  it("counts only marked loops' iterations when any loop is marked", () => {
    const inner = repeat(3, [rest(3)]);
    const outer = repeat(2, [rest(2), inner]);
    outer.cycle = true;
    const p = profile([rest(1), outer, repeat(4, [rest(5)])]);
    const { inCycle, cycles } = trace(new ProgramCursor(p.steps));
    expect(cycles).toBe(2);
    const body = [true, true, true, true];
    expect(inCycle).toEqual([false, ...body, ...body, false, false, false, false]);
  });

  it("counts cycle ends in any loop structure: one per iteration of each cycle loop", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        (outerCount, innerCount, mark) => {
          const inner = repeat(innerCount, [rest(2)]);
          const outer = repeat(outerCount, [rest(1), inner]);
          if (mark === 1) outer.cycle = true;
          if (mark === 2) inner.cycle = true;
          const p = profile([outer]);
          const expected = mark === 1 ? outerCount : outerCount * innerCount;
          expect(trace(new ProgramCursor(p.steps)).cycles).toBe(expected);
        },
      ),
    );
  });

  it("asks a loop with until at the end of each iteration, after its cycle, and leaves when told", () => {
    const loop = repeat(10, [rest(1), rest(2)]);
    loop.until = [{ kind: "retention", op: "<", fraction: 0.8, ofCycle: 1 }];
    const p = profile([loop, rest(3)]);
    const asked: number[] = [];
    let iterations = 0;
    const { texts, cycles } = trace(new ProgramCursor(p.steps), (l, cyclesEnded) => {
      expect(l).toBe(loop);
      asked.push(cyclesEnded);
      return ++iterations === 3;
    });
    expect(asked).toEqual([1, 1, 1]);
    expect(cycles).toBe(3);
    expect(texts).toEqual([
      ...Array.from({ length: 3 }, () => ["Rest for 1 s", "Rest for 2 s"]).flat(),
      "Rest for 3 s",
    ]);
  });

  it("counts the inner cycles ended before asking an outer loop with until", () => {
    const inner = repeat(2, [rest(1)]);
    const outer = repeat(5, [inner]);
    outer.until = [{ kind: "retention", op: "<", fraction: 0.8, ofCycle: 1 }];
    const p = profile([outer]);
    const asked: number[] = [];
    const cursor = new ProgramCursor(p.steps);
    const outcome = (() => {
      cursor.advance();
      return cursor.advance((_l, cyclesEnded) => {
        asked.push(cyclesEnded);
        return true;
      });
    })();
    expect(asked).toEqual([1]);
    expect(outcome).toEqual({ cyclesEnded: 1, done: true });
  });

  it("runs a loop with until to its count when the callback never says leave (or there is none)", () => {
    const loop = repeat(3, [rest(1)]);
    loop.until = [{ kind: "retention", op: "<", fraction: 0.8, ofCycle: 1 }];
    const p = profile([loop]);
    expect(trace(new ProgramCursor(p.steps), () => false).cycles).toBe(3);
    expect(trace(new ProgramCursor(p.steps)).cycles).toBe(3);
  });
});

describe("ProgramCursor checkpoints with loop variables", () => {
  it("continues from any restored position exactly as the original cursor does", () => {
    const p = doc(`
name: life
steps:
  - Rest for 1 s
  - repeat: 3
    counter: n
    cycle: true
    until: capacity < 80 % of cycle 1
    steps:
      - sweep: { c: [0.5C, 1C] }
        steps: ["Discharge at {c} for {n} s", Rest for 2 s]
      - Charge at 1C for {n} minutes
  - Rest for 3 s
`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 4 }), (k, leaveAfter) => {
        let ends = 0;
        const exit: LoopExit = () => ++ends >= leaveAfter;
        const a = new ProgramCursor(p.steps);
        for (let i = 0; i < k && !a.done; i++) a.advance(exit);
        const b = new ProgramCursor(p.steps);
        b.restore(JSON.parse(JSON.stringify(a.positions())));
        const endsAtRestore = ends;
        const remaining = trace(a, exit);
        ends = endsAtRestore;
        expect(trace(b, exit)).toEqual(remaining);
      }),
    );
  });
});

describe("positions for checkpoints", () => {
  it("are the cursor's current frames, shared while it stands still, frozen and never changed once handed out", () => {
    const p = profile([repeat(3, [rest(1), repeat(2, [rest(2), rest(3)])]), rest(4)]);
    const cursor = new ProgramCursor(p.steps);
    const handed: { positions: readonly object[]; json: string }[] = [];
    for (let moves = 0; moves < 40 && !cursor.done; moves++) {
      const positions = cursor.positions();
      // A cursor that never answered before, moved as far: the same frames.
      const fresh = new ProgramCursor(p.steps);
      for (let i = 0; i < moves; i++) fresh.advance();
      expect(positions).toEqual(fresh.positions());
      expect(cursor.positions()).toBe(positions);
      expect(Object.isFrozen(positions) && positions.every((f) => Object.isFrozen(f))).toBe(true);
      handed.push({ positions, json: JSON.stringify(positions) });
      cursor.advance();
    }
    expect(handed.length).toBeGreaterThan(10);
    for (const h of handed) expect(JSON.stringify(h.positions)).toBe(h.json);
  });
});
