import { describe, expect, it } from "vitest";
import { CATCH_UP_MS, PacedClock } from "../../drivers/paced-clock.js";

/** Blocks the event loop, as a GC pause or a busy host does. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** A sampling loop on absolute deadlines, as the bench's poller runs: records the time each tick saw. */
async function tickLoop(
  clock: PacedClock,
  periodMs: number,
  ticks: number,
  onTick: (k: number) => void = () => {},
): Promise<number[]> {
  const seen: number[] = [];
  for (let k = 0; k < ticks; k++) {
    await clock.sleepUntil(k * periodMs);
    seen.push(clock.now());
    onTick(k);
  }
  return seen;
}

describe("PacedClock", () => {
  it("never skips or jumps a tick when the host stalls: the simulation slows down and counts it", async () => {
    const clock = new PacedClock(1000);
    // A 300 ms stall is 300 s of simulated time at 1000×: a scaled clock would jump 3000 ticks.
    const seen = await tickLoop(clock, 100, 40, (k) => {
      if (k === 10) stall(300);
    });
    expect(seen).toEqual(Array.from({ length: 40 }, (_, k) => k * 100));
    const stats = clock.stats();
    expect(stats.slowdowns).toBeGreaterThanOrEqual(1);
    expect(stats.lostRealMs).toBeGreaterThan(300 - CATCH_UP_MS - 100 / 1000);
  });

  it("keeps the pace: N ticks take at least N periods / speed of real time", async () => {
    const clock = new PacedClock(50);
    const t0 = performance.now();
    await tickLoop(clock, 100, 101);
    // 100 periods of 100 ms at 50× = 200 ms; a busy host can only make it longer.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200 - 1);
    expect(clock.now()).toBe(10_000);
  });

  it("reports the speed achieved when every tick costs more real time than the pace allows", async () => {
    const clock = new PacedClock(100);
    // Each 100 ms tick is due 1 ms apart but takes 5 ms of real work: at best 20×.
    await tickLoop(clock, 100, 150, () => stall(5));
    const { achievedSpeed, targetSpeed } = clock.stats();
    expect(targetSpeed).toBe(100);
    expect(achievedSpeed).toBeGreaterThan(0);
    expect(achievedSpeed).toBeLessThanOrEqual(21);
  });

  it("wakes sleepers due at the same time in the order they slept, and drops aborted ones", async () => {
    const clock = new PacedClock(1000);
    const order: string[] = [];
    const aborted = new AbortController();
    const a = clock.sleepUntil(50).then(() => order.push("a"));
    const b = clock.sleepUntil(50, aborted.signal).then(() => order.push(`b@${clock.now()}`));
    const c = clock.sleepUntil(20).then(() => order.push(`c@${clock.now()}`));
    const d = clock.sleepUntil(50).then(() => order.push("d"));
    aborted.abort();
    await Promise.all([a, b, c, d]);
    expect(order).toEqual(["b@0", "c@20", "a", "d"]);
    expect(clock.now()).toBe(50);
  });

  it("stamps simulated wall time, which a restart continues rather than sending back", async () => {
    const clock = new PacedClock(1000, { wallOriginMs: 1_000_000 });
    await clock.sleepUntil(2500);
    expect(clock.wallNow()).toBe(1_002_500);
    clock.continueWallAfter(5_000_000);
    expect(clock.wallNow()).toBe(5_000_001);
    await clock.sleepUntil(2600);
    expect(clock.wallNow()).toBe(5_000_101);
    clock.continueWallAfter(10);
    expect(clock.wallNow()).toBe(5_000_101);
  });

  it("refuses a speed that is not a positive finite number", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new PacedClock(bad)).toThrow(/positive finite/);
  });
});
