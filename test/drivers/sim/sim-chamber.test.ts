import { describe, expect, it } from "vitest";
import type { Chamber } from "../../../drivers/capabilities.js";
import { createDevice } from "../../../drivers/registry.js";
import { readChamberEverySecond, simFixture } from "./sim-fixture.js";

/** Largest change over any 60 s window, °C/min (positive = warming). */
function steepest(temps: number[], sign: 1 | -1): number {
  let best = 0;
  for (let s = 60; s < temps.length; s++)
    best = Math.max(best, sign * ((temps[s] as number) - (temps[s - 60] as number)));
  return best;
}

describe("sim/chamber", () => {
  it("heats no faster than 3 °C/min and cools no faster than 1.5 °C/min, then settles on the set point", async () => {
    const f = await simFixture({ chamberC: 25 });
    const chamber = f.chamber as Chamber;
    await chamber.setSetpoint(105);
    const up = await readChamberEverySecond(f.clock, chamber, 60 * 60);
    const heating = steepest(up.temperatureC, 1);
    expect(heating).toBeLessThanOrEqual(3 + 1e-9);
    expect(heating).toBeGreaterThan(2.9);
    expect(up.temperatureC[up.temperatureC.length - 1]).toBeCloseTo(105, 2);
    expect(Math.max(...up.temperatureC)).toBeLessThanOrEqual(105 + 1e-9);
    expect(up.outputPct[60]).toBeGreaterThan(50);
    expect(Math.max(...up.outputPct)).toBeLessThanOrEqual(100);

    await chamber.setSetpoint(-40);
    const down = await readChamberEverySecond(f.clock, chamber, 3 * 60 * 60);
    const cooling = steepest(down.temperatureC, -1);
    expect(cooling).toBeLessThanOrEqual(1.5 + 1e-9);
    expect(cooling).toBeGreaterThan(1.45);
    // Cooling all the way down; hardest near the cold end, where the room leaks heat in.
    const ramp = down.outputPct.slice(
      0,
      down.temperatureC.findIndex((t) => t < -30),
    );
    for (const o of ramp) expect(o).toBeLessThan(0);
    expect(down.outputPct[down.temperatureC.findIndex((t) => t < 0)]).toBeLessThan(-50);
    expect(Math.min(...down.outputPct)).toBeGreaterThanOrEqual(-100);
    expect(down.temperatureC[down.temperatureC.length - 1]).toBeCloseTo(-40, 2);
    const reading = await chamber.read();
    expect(reading.setpointC).toBe(-40);
    // Holding -40 °C against the room's leak takes cooling power.
    expect(reading.outputPct).toBeLessThan(0);
  });

  it("follows a small step as a first-order lag with a time constant of a few minutes", async () => {
    const f = await simFixture({ chamberC: 25 });
    const chamber = f.chamber as Chamber;
    await chamber.setSetpoint(27);
    const trace = await readChamberEverySecond(f.clock, chamber, 1200);
    // 63 % of the 2 °C step.
    const tauS = trace.temperatureC.findIndex((t) => t >= 25 + 2 * (1 - Math.exp(-1))) + 1;
    expect(tauS).toBeGreaterThanOrEqual(2 * 60);
    expect(tauS).toBeLessThanOrEqual(5 * 60);
  });

  it("rejects set points outside -40..+110 °C with SETPOINT_OUT_OF_RANGE", async () => {
    const f = await simFixture({ chamberC: 25 });
    const chamber = f.chamber as Chamber;
    expect(chamber.ranges.temperatureC).toEqual([-40, 110]);
    for (const bad of [110.5, -41, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(chamber.setSetpoint(bad)).rejects.toMatchObject({ code: "SETPOINT_OUT_OF_RANGE" });
    }
    expect((await chamber.read()).setpointC).toBe(25);
    await expect(chamber.setSetpoint(110)).resolves.toBeUndefined();
    await expect(chamber.setSetpoint(-40)).resolves.toBeUndefined();
  });

  it("starts at initialC (default 22 °C) holding it as its set point", async () => {
    const f = await simFixture({ chamberC: 60 });
    const r = await (f.chamber as Chamber).read();
    expect(r).toMatchObject({ temperatureC: 60, setpointC: 60 });
    await f.clock.advanceTo(3_600_000);
    expect((await (f.chamber as Chamber).read()).temperatureC).toBeCloseTo(60, 9);
    const plain = createDevice({ id: "tc9", driver: "sim/chamber" }, f.context);
    await plain.connect();
    expect(await plain.chamber?.read()).toMatchObject({ temperatureC: 22, setpointC: 22 });
    await plain.close();
  });

  it("goes to standby in safe state: output 0, drifting to the room, idempotently; a set point resumes", async () => {
    const f = await simFixture({ chamberC: 60 });
    const chamber = f.chamber as Chamber;
    await chamber.toSafeState();
    await chamber.toSafeState();
    const standby = await readChamberEverySecond(f.clock, chamber, 45 * 60);
    for (const o of standby.outputPct) expect(o).toBe(0);
    const after = standby.temperatureC[standby.temperatureC.length - 1] as number;
    // Passive drift toward 22 °C with τ = 90 min: 22 + 38·e^-0.5 ≈ 45 °C after 45 min.
    expect(after).toBeCloseTo(22 + 38 * Math.exp(-0.5), 1);
    expect((await chamber.read()).setpointC).toBe(22);
    await chamber.setSetpoint(60);
    const resumed = await readChamberEverySecond(f.clock, chamber, 60 * 60);
    expect(resumed.temperatureC[resumed.temperatureC.length - 1]).toBeCloseTo(60, 2);
  });

  it("refuses to work before connect() and after close() with SIM_NOT_CONNECTED", async () => {
    const f = await simFixture({ chamberC: 25, connect: false });
    const chamber = f.chamber as Chamber;
    await expect(chamber.read()).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
    await f.chamberDevice?.connect();
    await expect(chamber.setSetpoint(30)).resolves.toBeUndefined();
    await f.chamberDevice?.close();
    await expect(chamber.setSetpoint(30)).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
    await expect(chamber.toSafeState()).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
  });

  it("rejects bad options with SIM_BAD_OPTIONS", async () => {
    await expect(simFixture({ chamberC: 200 })).rejects.toMatchObject({ code: "SIM_BAD_OPTIONS" });
    await expect(simFixture({ chamberC: 25, chamberFaults: { melt: true } })).rejects.toThrow(
      /unknown knob "melt"/,
    );
  });
});
