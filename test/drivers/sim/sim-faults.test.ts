import { describe, expect, it } from "vitest";
import type { Chamber } from "../../../drivers/capabilities.js";
import { SeededRandom } from "../../../drivers/sim/sim-faults.js";
import { NMC_3AH, readChamberEverySecond, readEverySecond, simFixture } from "./sim-fixture.js";

/** Reads `n` times, one second apart; records which reads got no reply. */
async function dropPattern(seed: number, probability: number, n: number): Promise<boolean[]> {
  const f = await simFixture({ cell: NMC_3AH, cyclerFaults: { dropReplies: { probability }, seed } });
  const dropped: boolean[] = [];
  for (let s = 1; s <= n; s++) {
    await f.clock.advanceTo(s * 1000);
    try {
      await f.channel.read();
      dropped.push(false);
    } catch (err) {
      expect(err).toMatchObject({ code: "SIM_NO_REPLY" });
      dropped.push(true);
    }
  }
  return dropped;
}

describe("sim fault knobs", () => {
  it("stuck: reads return the frozen last values until the knob is cleared", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
    await f.clock.advanceTo(5_000);
    const frozen = await f.channel.read();
    f.channel.faults.set({ stuck: true });
    const during = await readEverySecond(f.clock, f.channel, 600);
    for (const r of during.readings) expect(r).toEqual(frozen);
    // The cell kept discharging underneath.
    expect(f.channel.cell.voltageV).toBeLessThan(frozen.voltageV - 0.01);
    f.channel.faults.set({ stuck: false });
    const live = await f.channel.read();
    expect(live.voltageV).toBeCloseTo(f.channel.cell.voltageV, 12);
    expect(live.voltageV).not.toBe(frozen.voltageV);
  });

  it("dropReplies.next: the next N commands get SIM_NO_REPLY and are not carried out", async () => {
    const f = await simFixture({ cell: NMC_3AH });
    f.channel.faults.set({ dropReplies: { next: 2 } });
    await expect(f.channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
      code: "SIM_NO_REPLY",
    });
    await expect(f.channel.read()).rejects.toThrow(/no reply from cy1\/ch1 to read\(\)/);
    const r = await f.channel.read();
    expect(r.currentA).toBe(0);
    expect(f.channel.cell.setpoint.mode).toBe("rest");
    await f.channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect((await f.channel.read()).currentA).toBe(1);
  });

  it("dropReplies.probability: drops about that share of commands, the same ones for the same seed", async () => {
    const a = await dropPattern(42, 0.3, 400);
    const b = await dropPattern(42, 0.3, 400);
    const c = await dropPattern(43, 0.3, 400);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const share = a.filter(Boolean).length / a.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.38);
  });

  it("noise: seeded gaussian noise on V, I and T with the given sigmas, repeatable", async () => {
    const sample = async (seed: number) => {
      const f = await simFixture({
        cell: NMC_3AH,
        cyclerFaults: { noise: { voltageV: 0.002, currentA: 0.01, temperatureC: 0.1 }, seed },
      });
      await f.channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
      const errors = { v: [] as number[], i: [] as number[], t: [] as number[] };
      for (let s = 1; s <= 2000; s++) {
        await f.clock.advanceTo(s * 1000);
        const r = await f.channel.read();
        errors.v.push(r.voltageV - f.channel.cell.voltageV);
        errors.i.push(r.currentA - f.channel.cell.currentA);
        errors.t.push(r.temperatureC - f.channel.cell.temperatureC);
      }
      return errors;
    };
    const sd = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { mean: m, sd: Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) };
    };
    const a = await sample(7);
    const b = await sample(7);
    expect(b).toEqual(a);
    const other = await sample(8);
    expect(other.v).not.toEqual(a.v);
    for (const [xs, sigma] of [
      [a.v, 0.002],
      [a.i, 0.01],
      [a.t, 0.1],
    ] as const) {
      const s = sd(xs);
      expect(s.sd / sigma).toBeGreaterThan(0.93);
      expect(s.sd / sigma).toBeLessThan(1.07);
      expect(Math.abs(s.mean)).toBeLessThan((4 * sigma) / Math.sqrt(xs.length));
    }
  });

  it("runaway: above the trigger the cell heats itself ever faster, even at rest", async () => {
    const f = await simFixture({ cell: NMC_3AH, chamberC: 45 });
    await f.channel.apply({ mode: "rest" });
    const calm = await readEverySecond(f.clock, f.channel, 1800);
    expect(Math.max(...calm.readings.map((r) => r.temperatureC))).toBeLessThanOrEqual(45 + 1e-9);
    f.channel.faults.set({ runaway: { triggerC: 40, powerW: 0.5, doublingC: 5 } });
    const hot = await readEverySecond(f.clock, f.channel, 4 * 3600, (r) => r.temperatureC > 150);
    expect(hot.stopped).toBe(true);
    const temps = hot.readings.map((r) => r.temperatureC);
    for (const tC of temps) expect(Number.isFinite(tC)).toBe(true);
    // Accelerating: each further 20 °C takes less time than the one before.
    const crossing = (c: number) => temps.findIndex((x) => x >= c);
    const [t60, t80, t100, t120] = [60, 80, 100, 120].map(crossing) as [number, number, number, number];
    expect(t80 - t60).toBeGreaterThan(t100 - t80);
    expect(t100 - t80).toBeGreaterThan(t120 - t100);
    // Cleared, the cell cools back toward the air.
    f.channel.faults.set({ runaway: undefined });
    const cooling = await readEverySecond(f.clock, f.channel, 3 * 3600);
    expect(cooling.readings[cooling.readings.length - 1]?.temperatureC).toBeLessThan(50);
  });

  it("runaway from options stays finite: a burning cell saturates, the model never yields NaN", async () => {
    const f = await simFixture({ cell: NMC_3AH, chamberC: 45, cyclerFaults: { runaway: { triggerC: 30 } } });
    const t = await readEverySecond(f.clock, f.channel, 24 * 3600);
    const last = t.readings[t.readings.length - 1];
    expect(last?.temperatureC).toBeLessThanOrEqual(800);
    expect(last?.temperatureC).toBeGreaterThan(500);
    expect(Number.isFinite(last?.voltageV)).toBe(true);
  });

  it("chamber unregulated: set points are accepted and ignored, the air drifts to the room", async () => {
    const f = await simFixture({ chamberC: 40 });
    const chamber = f.chamber as Chamber;
    f.chamber?.faults.set({ unregulated: true });
    await chamber.setSetpoint(80);
    const drift = await readChamberEverySecond(f.clock, chamber, 3600);
    for (const o of drift.outputPct) expect(o).toBe(0);
    expect(drift.temperatureC[drift.temperatureC.length - 1]).toBeLessThan(32);
    expect((await chamber.read()).setpointC).toBe(80);
    f.chamber?.faults.set({ unregulated: false });
    const back = await readChamberEverySecond(f.clock, chamber, 3600);
    expect(back.temperatureC[back.temperatureC.length - 1]).toBeCloseTo(80, 2);
  });

  it("chamber stuck, dropped replies and noise work like the cycler's", async () => {
    const f = await simFixture({ chamberC: 25, chamberFaults: { dropReplies: { next: 1 } } });
    const chamber = f.chamber as Chamber;
    await expect(chamber.setSetpoint(50)).rejects.toMatchObject({ code: "SIM_NO_REPLY" });
    expect((await chamber.read()).setpointC).toBe(25);
    await chamber.setSetpoint(50);
    const frozen = await chamber.read();
    f.chamber?.faults.set({ stuck: true });
    await f.clock.advanceTo(600_000);
    expect(await chamber.read()).toEqual(frozen);
    f.chamber?.faults.set({ stuck: undefined, noise: { temperatureC: 0.2 }, seed: 3 });
    const noisy = await readChamberEverySecond(f.clock, chamber, 50);
    const jumps = noisy.temperatureC.slice(1).map((t, k) => Math.abs(t - (noisy.temperatureC[k] as number)));
    expect(Math.max(...jumps)).toBeGreaterThan(0.1);
    expect(() => f.chamber?.faults.set({ noise: { voltageV: 1 } } as never)).toThrow(/noise.voltageV/);
    f.chamber?.faults.clear();
    expect(f.chamber?.faults.current).toEqual({});
  });

  it("validates knobs set at run time and names the bad one", async () => {
    const f = await simFixture({ cell: NMC_3AH });
    expect(() => f.channel.faults.set({ dropReplies: { probability: 1.5 } })).toThrow(
      /dropReplies.probability/,
    );
    expect(() => f.channel.faults.set({ noise: { voltageV: -1 } })).toThrow(/noise.voltageV/);
    expect(() => f.channel.faults.set({ runaway: { triggerC: Number.NaN } })).toThrow(/runaway.triggerC/);
    expect(() => f.channel.faults.set({ unregulated: true } as never)).toThrow(/unknown knob "unregulated"/);
    f.channel.faults.set({ stuck: true, noise: { currentA: 0.1 } });
    f.channel.faults.set({ noise: undefined });
    expect(f.channel.faults.current).toEqual({ stuck: true });
  });

  it("SeededRandom is deterministic and roughly uniform", () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});
