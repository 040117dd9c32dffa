import { describe, expect, it } from "vitest";
import {
  attributeStalls,
  type HostStall,
  HostStallWatch,
  monotonicMs,
  stalledWithin,
  type WakeUp,
} from "./host-stalls.js";

const PERIOD = 20;
/** Wake-ups of one loop "a" at 20 ms deadlines from t = 0, each `late` ms late, with the misses given. */
function loop(late: number[], missed: number[]): WakeUp[] {
  let skipped = 0;
  return late.map((ms, i) => {
    skipped += missed[i] ?? 0;
    const deadline = (i + skipped) * PERIOD;
    return { atMs: deadline + ms, latenessMs: ms, missedByLoop: { a: skipped } };
  });
}

describe("attributeStalls", () => {
  it("sums the stalled time within a span", () => {
    const stalls: HostStall[] = [
      { fromMs: 10, ms: 5 },
      { fromMs: 30, ms: 10 },
    ];
    expect(stalledWithin(stalls, 0, 100)).toBe(15);
    expect(stalledWithin(stalls, 12, 35)).toBe(8);
    expect(stalledWithin(stalls, 50, 60)).toBe(0);
  });

  it("a loop stall the host did not share stays the loop's: lateness and skipped deadlines", () => {
    // A 28 ms stall at t = 40 (the third wake-up): one deadline skipped.
    const wakeUps = loop([0.1, 0.2, 28, 0.1], [0, 0, 0, 1]);
    const end = { atMs: 200, missedByLoop: { a: 1 } };
    const alone = attributeStalls(wakeUps, end, [], PERIOD, { a: 0 });
    expect(alone).toEqual({ latenessMs: [0.1, 0.2, 28, 0.1], hostMissed: 0, missed: 1 });
    // A short host stall elsewhere changes nothing.
    const elsewhere = attributeStalls(wakeUps, end, [{ fromMs: 150, ms: 30 }], PERIOD, { a: 0 });
    expect(elsewhere.missed).toBe(1);
    expect(elsewhere.latenessMs[2]).toBe(28);
  });

  it("a stall the host shared at that moment is the host's", () => {
    const wakeUps = loop([0.1, 0.2, 28, 0.1], [0, 0, 0, 1]);
    const end = { atMs: 200, missedByLoop: { a: 1 } };
    const split = attributeStalls(wakeUps, end, [{ fromMs: 40.5, ms: 27 }], PERIOD, { a: 0 });
    expect(split.hostMissed).toBe(1);
    expect(split.missed).toBe(0);
    expect(split.latenessMs[2]).toBeCloseTo(1, 6);
  });

  it("a loop stall far longer than the host's stays the loop's", () => {
    // 70 ms late, three deadlines skipped, while the host stalled 10 ms of it.
    const wakeUps = loop([0.1, 70, 0.1], [0, 0, 3]);
    const end = { atMs: 300, missedByLoop: { a: 3 } };
    const split = attributeStalls(wakeUps, end, [{ fromMs: 25, ms: 10 }], PERIOD, { a: 0 });
    expect(split.missed).toBe(3);
    expect(split.hostMissed).toBe(0);
    expect(split.latenessMs[1]).toBe(60);
  });

  it("counts deadlines skipped after the last wake-up, and only those since the window began", () => {
    const wakeUps = loop([0.1, 0.1], [0, 0]).map((w) => ({ ...w, missedByLoop: { a: 5 } }));
    const split = attributeStalls(wakeUps, { atMs: 60, missedByLoop: { a: 7 } }, [], PERIOD, { a: 5 });
    expect(split.missed).toBe(2);
  });
});

describe("HostStallWatch", () => {
  it("reports the moments its sentinel could not run (stopped here for 120 ms), and only those", async () => {
    const watch = await HostStallWatch.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await watch.flush();
      const quiet = watch.stalls.filter((s) => s.ms >= 50).length;
      const stoppedAt = monotonicMs();
      process.kill(watch.pid, "SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 120));
      process.kill(watch.pid, "SIGCONT");
      await watch.flush();
      const long = watch.stalls.filter((s) => s.ms >= 50);
      expect(long.length - quiet).toBeGreaterThanOrEqual(1);
      const stall = long.at(-1) as HostStall;
      expect(stall.ms).toBeGreaterThanOrEqual(100);
      // On the shared monotonic clock: it began when this process stopped it, give or take its 1 ms timer.
      expect(Math.abs(stall.fromMs - stoppedAt)).toBeLessThan(50);
    } finally {
      await watch.close();
    }
  });
});
