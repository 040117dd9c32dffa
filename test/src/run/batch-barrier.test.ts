import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchBarrier } from "../../../src/run/batch-barrier.js";

describe("BatchBarrier", () => {
  it("lets nobody pass a meeting before every run taking part has arrived", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        (n, picks) => {
          const runs = Array.from({ length: n }, (_, i) => `R${i}`);
          const barrier = new BatchBarrier(runs, () => true);
          const arrived = new Set<string>();
          for (const pick of picks) {
            const run = runs[pick % n] as string;
            arrived.add(run);
            const passed = barrier.arrive(run, "steps[0].sweep[0]@0", "set");
            expect(passed).toBe(arrived.size === n);
          }
        },
      ),
    );
  });

  it("does not wait for runs that ended, and lets a late run through a meeting already passed", () => {
    const ended = new Set<string>();
    const passed: string[] = [];
    const barrier = new BatchBarrier(
      ["A", "B", "C"],
      (run) => !ended.has(run),
      [],
      (m) => passed.push(m),
    );
    expect(barrier.arrive("A", "s@0", "set")).toBe(false);
    expect(barrier.waitOf("A")).toEqual({ step: "s@0", phase: "set" });
    expect(barrier.arrive("B", "s@0", "set")).toBe(false);
    ended.add("C");
    // A asks again at its next sample: C no longer takes part.
    expect(barrier.arrive("A", "s@0", "set")).toBe(true);
    expect(barrier.waitOf("B")).toBeUndefined();
    expect(barrier.arrive("B", "s@0", "set")).toBe(true);
    expect(passed).toEqual(["set:s@0"]);
    // The soak meeting is another one.
    expect(barrier.arrive("A", "s@0", "soaked")).toBe(false);
    // A restored barrier remembers what was passed.
    const restored = new BatchBarrier(["A", "B"], () => true, barrier.passedMeetings());
    expect(restored.arrive("B", "s@0", "set")).toBe(true);
    expect(restored.arrive("B", "s@1", "set")).toBe(false);
  });
});
