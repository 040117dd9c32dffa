import { describe, expect, it } from "vitest";
import type { ProfilePoint } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { ProfileStepper, type StepPoint } from "../../../drivers/common/profile-stepper.js";
import { deferred } from "./session-fixtures.js";

const points = (...p: Array<[number, number]>): ProfilePoint[] =>
  p.map(([tS, currentA]) => ({ tS, currentA }));

/** A step that records `index:currentA@now` and the signal it was given. */
function recorder(clock: VirtualClock): { step: StepPoint; steps: string[]; signals: AbortSignal[] } {
  const steps: string[] = [];
  const signals: AbortSignal[] = [];
  return {
    steps,
    signals,
    step: async (index, currentA, signal) => {
      steps.push(`${index}:${currentA}@${clock.now()}`);
      signals.push(signal);
    },
  };
}

const noFailure = (index: number, err: unknown) => {
  throw new Error(`unexpected failure at point ${index}: ${String(err)}`);
};

describe("ProfileStepper", () => {
  it("applies points[1..] at t0 + tS·1000 on the clock, not before, and is running until the last one", async () => {
    const clock = new VirtualClock({ startMs: 2000 });
    const stepper = new ProfileStepper(clock);
    const { step, steps } = recorder(clock);
    expect(stepper.running).toBe(false);
    stepper.start(points([0, 1], [1.5, 2], [4, -1]), 2000, step, noFailure);
    expect(stepper.running).toBe(true);
    await clock.advanceTo(3499);
    expect(steps).toEqual([]);
    await clock.advanceTo(3500);
    expect(steps).toEqual(["1:2@3500"]);
    expect(stepper.running).toBe(true);
    await clock.advanceTo(5999);
    expect(steps).toEqual(["1:2@3500"]);
    await clock.advanceTo(6000);
    expect(steps).toEqual(["1:2@3500", "2:-1@6000"]);
    await stepper.settled();
    expect(stepper.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it("never applies point 0 (the caller's) and does nothing for a one-point profile", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const { step, steps } = recorder(clock);
    stepper.start(points([0, 5]), 0, step, noFailure);
    await stepper.settled();
    await clock.advanceBy(60_000);
    expect(steps).toEqual([]);
    expect(stepper.running).toBe(false);
  });

  it("applies points already due at once, in order, when t0 lies in the past", async () => {
    const clock = new VirtualClock({ startMs: 10_000 });
    const stepper = new ProfileStepper(clock);
    const { step, steps } = recorder(clock);
    stepper.start(points([0, 1], [2, 2], [5, 3], [20, 4]), 0, step, noFailure);
    await clock.advanceBy(0);
    expect(steps).toEqual(["1:2@10000", "2:3@10000"]);
    expect(stepper.running).toBe(true);
    await clock.advanceTo(20_000);
    expect(steps).toEqual(["1:2@10000", "2:3@10000", "3:4@20000"]);
    expect(stepper.running).toBe(false);
  });

  it("skips a point that lasts no time (overtaken by the next one at the same tS)", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const { step, steps } = recorder(clock);
    stepper.start(points([0, 1], [5, 2], [5, 3], [5, 4], [10, 5]), 0, step, noFailure);
    await clock.advanceTo(10_000);
    expect(steps).toEqual(["3:4@5000", "4:5@10000"]);
  });

  it("cancel() stops stepping: no later point is applied, the sleeping loop ends, running is false", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const { step, steps } = recorder(clock);
    stepper.start(points([0, 1], [1, 2], [2, 3]), 0, step, noFailure);
    await clock.advanceTo(1000);
    expect(steps).toEqual(["1:2@1000"]);
    stepper.cancel();
    expect(stepper.running).toBe(false);
    await stepper.settled();
    expect(clock.pending).toBe(0);
    await clock.advanceTo(5000);
    expect(steps).toEqual(["1:2@1000"]);
  });

  it("aborts the signal of a step in flight on cancel(), and reports no failure when that step then rejects", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const reply = deferred();
    const signals: AbortSignal[] = [];
    const failures: number[] = [];
    stepper.start(
      points([0, 1], [1, 2], [2, 3]),
      0,
      async (_index, _currentA, signal) => {
        signals.push(signal);
        await reply.promise;
      },
      (index) => failures.push(index),
    );
    await clock.advanceTo(1000);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    stepper.cancel();
    expect(signals[0]?.aborted).toBe(true);
    reply.reject(new Error("link lost"));
    await stepper.settled();
    await clock.advanceTo(5000);
    expect(failures).toEqual([]);
    expect(signals).toHaveLength(1);
  });

  it("reports a failing step once through onFailure with its index and error, and stops", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const failures: Array<[number, unknown]> = [];
    const applied: number[] = [];
    const broke = new Error("no reply");
    stepper.start(
      points([0, 1], [1, 2], [2, 3], [3, 4]),
      0,
      async (index) => {
        applied.push(index);
        if (index === 2) throw broke;
      },
      (index, err) => failures.push([index, err]),
    );
    await clock.advanceTo(10_000);
    await stepper.settled();
    expect(applied).toEqual([1, 2]);
    expect(failures).toEqual([[2, broke]]);
    expect(stepper.running).toBe(false);
  });

  it("start() cancels the stepping under way; the old loop ending later does not stop the new one", async () => {
    const clock = new VirtualClock();
    const stepper = new ProfileStepper(clock);
    const slow = deferred();
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    stepper.start(
      points([0, 1], [1, 2], [2, 3]),
      0,
      async (index, currentA, signal) => {
        log.push(`old ${index}:${currentA}`);
        signals.push(signal);
        await slow.promise;
      },
      noFailure,
    );
    await clock.advanceTo(1000);
    const oldDone = stepper.settled();
    stepper.start(
      points([0, 7], [5, 8], [10, 9]),
      1000,
      async (index, currentA) => {
        log.push(`new ${index}:${currentA}@${clock.now()}`);
      },
      noFailure,
    );
    expect(signals[0]?.aborted).toBe(true);
    slow.resolve();
    await oldDone;
    expect(stepper.running).toBe(true);
    await clock.advanceTo(6000);
    expect(stepper.running).toBe(true);
    await clock.advanceTo(11_000);
    expect(log).toEqual(["old 1:2", "new 1:8@6000", "new 2:9@11000"]);
    expect(stepper.running).toBe(false);
  });
});
