import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { Poller } from "../../../src/sampling/poller.js";

describe("Poller", () => {
  it("ticks on absolute deadlines t0 + k·period, whatever each tick costs", async () => {
    const clock = new VirtualClock({ startMs: 1000 });
    const wakes: number[] = [];
    const poller = new Poller({
      name: "p",
      periodMs: 100,
      clock,
      tick: async (deadline) => {
        wakes.push(deadline);
        // Each tick takes 30 ms of (virtual) time; the next deadline must not drift by it.
        await clock.sleepUntil(clock.now() + 30);
      },
      onError: () => undefined,
    });
    poller.start();
    for (let t = 1000; t <= 2000; t += 10) await clock.advanceTo(t);
    const stopped = poller.stop();
    await clock.advanceBy(100); // lets the last tick finish its 30 ms
    await stopped;
    expect(wakes).toEqual([1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000]);
    expect(poller.stats.missed).toBe(0);
  });

  it("offsets its deadlines by its phase, and refuses a phase outside the period", async () => {
    const clock = new VirtualClock({ startMs: 1000 });
    const wakes: number[] = [];
    const poller = new Poller({
      name: "p",
      periodMs: 100,
      phaseMs: 25,
      clock,
      tick: async (deadline) => {
        wakes.push(deadline);
      },
      onError: () => undefined,
    });
    poller.start();
    for (let t = 1000; t <= 1300; t += 5) await clock.advanceTo(t);
    await poller.stop();
    expect(wakes).toEqual([1025, 1125, 1225]);
    for (const phaseMs of [-1, 100, Number.NaN])
      expect(
        () =>
          new Poller({ name: "q", periodMs: 100, phaseMs, clock, tick: async () => {}, onError: () => {} }),
      ).toThrow(/poller q: phase must be in \[0, 100\) ms/);
  });

  it("skips deadlines a slow tick overran instead of bunching up, and counts them", async () => {
    const clock = new VirtualClock();
    const wakes: number[] = [];
    const poller = new Poller({
      name: "p",
      periodMs: 100,
      clock,
      tick: async (deadline) => {
        wakes.push(deadline);
        if (deadline === 200) await clock.sleepUntil(clock.now() + 250); // overruns 300 and 400
      },
      onError: () => undefined,
    });
    poller.start();
    for (let t = 0; t <= 800; t += 10) await clock.advanceTo(t);
    await poller.stop();
    expect(wakes).toEqual([0, 100, 200, 500, 600, 700, 800]);
    expect(poller.stats.missed).toBe(2);
  });

  it("reports tick errors and keeps polling", async () => {
    const clock = new VirtualClock();
    const errors: unknown[] = [];
    let n = 0;
    const poller = new Poller({
      name: "p",
      periodMs: 50,
      clock,
      tick: async () => {
        n++;
        if (n === 2) throw new Error("instrument did not answer");
      },
      onError: (err) => errors.push(err),
    });
    poller.start();
    for (let t = 0; t <= 200; t += 10) await clock.advanceTo(t);
    await poller.stop();
    expect(n).toBe(5);
    expect(errors).toHaveLength(1);
    expect(
      () =>
        new Poller({
          name: "bad",
          periodMs: 0,
          clock,
          tick: async () => undefined,
          onError: () => undefined,
        }),
    ).toThrow("poller bad: period must be > 0 ms");
  });
});
