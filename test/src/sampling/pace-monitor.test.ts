import { describe, expect, it } from "vitest";
import { PaceMonitor, paceMessage } from "../../../src/sampling/pace-monitor.js";

const stats = (achievedSpeed: number) => ({ targetSpeed: 100, achievedSpeed, slowdowns: 3, lostRealMs: 900 });

describe("PaceMonitor", () => {
  it("says once that the simulation fell behind its speed, and once that it is back", () => {
    const monitor = new PaceMonitor();
    expect(monitor.observe(stats(99))).toBeUndefined();
    const behind = monitor.observe(stats(37.2));
    expect(behind?.kind).toBe("behind");
    expect(paceMessage(behind!)).toBe(
      "simulation behind: running at 37.2× of --speed 100 (the host is too busy); no tick is skipped, simulated time slows down",
    );
    expect(monitor.observe(stats(40))).toBeUndefined();
    // Between the two thresholds: still behind, nothing new to say.
    expect(monitor.observe(stats(92))).toBeUndefined();
    const back = monitor.observe(stats(98.5));
    expect(back?.kind).toBe("recovered");
    expect(paceMessage(back!)).toBe("simulation back at --speed 100 (98.5×)");
    expect(monitor.observe(stats(100))).toBeUndefined();
  });
});
