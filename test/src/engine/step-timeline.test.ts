import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectedElapsedS, StepTimelineBuilder, TIMELINE_POINTS } from "../../../src/engine/step-timeline.js";

/** Builds a timeline of steps 1..n whose durations are `durations` (cycled). */
function build(n: number, durations: number[]) {
  const b = new StepTimelineBuilder();
  const starts: number[] = [];
  let t = 0;
  for (let i = 1; i <= n; i++) {
    starts.push(t);
    b.add(i, t);
    t += durations[(i - 1) % durations.length] as number;
  }
  return { timeline: b.finish(n, t), starts, total: t };
}

describe("step timeline (issue 11, finding 5: a run's estimate in bounded memory)", () => {
  it("keeps every step of a short profile, exactly as the dry run placed it", () => {
    const { timeline, starts } = build(100, [10, 3600, 5]);
    expect(timeline.stepIndex).toHaveLength(101);
    for (const [i, start] of starts.entries()) expect(expectedElapsedS(timeline, i + 1, 0)).toBe(start);
    // 20 s into the 3600 s step 2 (which started at 10 s); capped at the step's length.
    expect(expectedElapsedS(timeline, 2, 20)).toBe(30);
    expect(expectedElapsedS(timeline, 2, 99_999)).toBe(3610);
  });

  it("holds a million-step profile in at most TIMELINE_POINTS points, within one step of the truth", () => {
    const { timeline, starts } = build(1_100_000, [1]);
    expect(timeline.stepIndex.length).toBeLessThanOrEqual(TIMELINE_POINTS + 1);
    for (const i of [1, 2, 777, 500_001, 1_099_999]) {
      expect(
        Math.abs((expectedElapsedS(timeline, i, 0) as number) - (starts[i - 1] as number)),
      ).toBeLessThanOrEqual(1);
    }
  });

  it("never exceeds its bound, and places later steps later (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40_000 }),
        fc.array(fc.double({ min: 0.5, max: 5000, noNaN: true }), { minLength: 1, maxLength: 7 }),
        (n, durations) => {
          const { timeline, total } = build(n, durations);
          expect(timeline.stepIndex.length).toBeLessThanOrEqual(TIMELINE_POINTS + 1);
          let previous = -1;
          for (let i = 1; i <= n; i += Math.max(1, Math.floor(n / 50))) {
            const at = expectedElapsedS(timeline, i, 0) as number;
            expect(at).toBeGreaterThanOrEqual(previous);
            expect(at).toBeLessThanOrEqual(total);
            previous = at;
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
