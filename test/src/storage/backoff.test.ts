import { describe, expect, it } from "vitest";
import { Backoff } from "../../../src/storage/backoff.js";

describe("Backoff", () => {
  it("doubles the cap per failure up to maxMs, waiting between half the cap and the cap", () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    const lows = Array.from({ length: 7 }, () => low.next());
    const highs = Array.from({ length: 7 }, () => high.next());
    expect(lows).toEqual([50, 100, 200, 400, 500, 500, 500]);
    const caps = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const [i, h] of highs.entries()) expect(h).toBeCloseTo(caps[i] as number, 2);
  });

  it("spreads waits with jitter and starts over after a success", () => {
    const values = [0.1, 0.9, 0.5];
    const backoff = new Backoff({ initialMs: 1000, maxMs: 8000, random: () => values.shift() ?? 0 });
    expect(backoff.next()).toBeCloseTo(550);
    expect(backoff.next()).toBeCloseTo(1900);
    expect(backoff.attempts).toBe(2);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBeCloseTo(750);
  });

  it("never exceeds maxMs, even after very many failures", () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, random: () => 0.999999 });
    let worst = 0;
    for (let i = 0; i < 10_000; i++) worst = Math.max(worst, backoff.next());
    expect(worst).toBeLessThanOrEqual(30_000);
    expect(worst).toBeGreaterThan(29_990);
  });

  it("refuses inconsistent settings", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(RangeError);
  });
});
