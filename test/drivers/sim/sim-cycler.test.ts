import { describe, expect, it } from "vitest";
import type { CyclerSetpoint } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { createDevice } from "../../../drivers/registry.js";
import { cellParameters } from "../../../drivers/sim/cell-parameters.js";
import { DEFAULT_SIM_CELL, type SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import { ASSLB_1AH, NMC_3AH, readEverySecond, simFixture } from "./sim-fixture.js";

describe("sim/cycler modes", () => {
  it("rests at zero current and relaxes toward the OCV", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
    const loaded = await readEverySecond(f.clock, f.channel, 600);
    await f.channel.apply({ mode: "rest" });
    const rest = await readEverySecond(f.clock, f.channel, 3 * 3600);
    for (const r of rest.readings) expect(r.currentA).toBe(0);
    const first = rest.readings[0]?.voltageV as number;
    const last = rest.readings[rest.readings.length - 1]?.voltageV as number;
    expect(first).toBeGreaterThan(loaded.readings[loaded.readings.length - 1]?.voltageV as number);
    expect(last).toBeGreaterThan(first);
    expect(last).toBeCloseTo(f.channel.cell.ocvV, 3);
  });

  it("applies CC and holds the max clamp as CV when charging would pass it", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cc", currentA: 3, minV: 2.5, maxV: 3.9 });
    const t = await readEverySecond(f.clock, f.channel, 3 * 3600);
    expect(t.readings[0]?.currentA).toBeCloseTo(3, 9);
    for (const r of t.readings) {
      expect(r.voltageV).toBeLessThanOrEqual(3.9 + 1e-9);
      expect(r.currentA).toBeGreaterThanOrEqual(0);
      expect(r.currentA).toBeLessThanOrEqual(3 + 1e-9);
    }
    const last = t.readings[t.readings.length - 1];
    expect(last?.voltageV).toBeCloseTo(3.9, 9);
    expect(last?.currentA).toBeLessThan(0.2);
  });

  it("holds the min clamp as CV when discharging would pass it", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cc", currentA: -3, minV: 3.6, maxV: 4.2 });
    const t = await readEverySecond(f.clock, f.channel, 3 * 3600);
    for (const r of t.readings) {
      expect(r.voltageV).toBeGreaterThanOrEqual(3.6 - 1e-9);
      expect(r.currentA).toBeLessThanOrEqual(0);
      expect(r.currentA).toBeGreaterThanOrEqual(-3 - 1e-9);
    }
    const last = t.readings[t.readings.length - 1];
    expect(last?.voltageV).toBeCloseTo(3.6, 9);
    expect(last?.currentA).toBeGreaterThan(-0.2);
  });

  it("holds CV within its charge limit while charging and its discharge limit while discharging", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cv", voltageV: 3.95, chargeLimitA: 1, dischargeLimitA: 2 });
    const up = await readEverySecond(f.clock, f.channel, 4 * 3600);
    expect(up.readings[0]?.currentA).toBeCloseTo(1, 9);
    expect(up.readings[0]?.voltageV).toBeLessThan(3.95);
    for (const r of up.readings) expect(r.currentA).toBeLessThanOrEqual(1 + 1e-9);
    expect(up.readings[up.readings.length - 1]?.voltageV).toBeCloseTo(3.95, 9);
    await f.channel.apply({ mode: "cv", voltageV: 3.7, chargeLimitA: 1, dischargeLimitA: 2 });
    const down = await readEverySecond(f.clock, f.channel, 4 * 3600);
    expect(down.readings[0]?.currentA).toBeCloseTo(-2, 9);
    for (const r of down.readings) expect(r.currentA).toBeGreaterThanOrEqual(-2 - 1e-9);
    const end = down.readings[down.readings.length - 1];
    expect(end?.voltageV).toBeCloseTo(3.7, 9);
    expect(Math.abs(end?.currentA as number)).toBeLessThan(0.1);
  });

  it("runs CC-CV downward too: CC discharge, then holds the voltage with the current tapering to zero", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.8 });
    await f.channel.apply({ mode: "cccv", currentA: -1.5, voltageV: 3.7 });
    const t = await readEverySecond(f.clock, f.channel, 5 * 3600);
    expect(t.readings[0]?.currentA).toBeCloseTo(-1.5, 9);
    for (const r of t.readings) {
      expect(r.currentA).toBeLessThanOrEqual(0);
      // Within 0.1 mV: once the current has tapered to zero, calendar fade (lithium lost to the SEI)
      // lowers the resting cell's OCV by microvolts per hour, and a discharge-only hold cannot push it back.
      expect(r.voltageV).toBeGreaterThanOrEqual(3.7 - 1e-4);
    }
    expect(t.readings[t.readings.length - 1]?.currentA).toBeGreaterThan(-0.1);
  });

  it("draws constant power (V·I = P) and hands over to the clamp when the cell cannot hold it", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.channel.apply({ mode: "cp", powerW: 6, minV: 2.5, maxV: 4.2 });
    const charge = await readEverySecond(f.clock, f.channel, 600);
    for (const r of charge.readings) expect((r.voltageV * r.currentA) / 6).toBeCloseTo(1, 6);
    await f.channel.apply({ mode: "cp", powerW: -6, minV: 2.5, maxV: 4.2 });
    const discharge = await readEverySecond(f.clock, f.channel, 6 * 3600, (r) => r.voltageV <= 2.5);
    expect(discharge.stopped).toBe(true);
    const steady = discharge.readings.slice(0, -30);
    for (const r of steady) expect((r.voltageV * r.currentA) / -6).toBeCloseTo(1, 6);
    // Current rises as the voltage falls.
    expect(Math.abs(steady[steady.length - 1]?.currentA as number)).toBeGreaterThan(
      Math.abs(steady[0]?.currentA as number),
    );
    const last = discharge.readings[discharge.readings.length - 1];
    expect(last?.voltageV).toBeCloseTo(2.5, 9);
  });

  it("follows a current profile from the moment it is applied, holding the last point, within its clamps", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    await f.clock.advanceTo(5_500);
    await f.channel.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: -1 },
        { tS: 10, currentA: 2.5 },
        { tS: 20.5, currentA: 0.5 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    const t = await readEverySecond(f.clock, f.channel, 40);
    const at = (s: number) => t.readings[s - 1]?.currentA as number;
    // A reading at s reports the current that flowed during (s − 1, s].
    expect(at(5)).toBeCloseTo(-1, 9);
    expect(at(10)).toBeCloseTo(-1, 9);
    expect(at(11)).toBeCloseTo(2.5, 9);
    expect(at(20)).toBeCloseTo(2.5, 9);
    expect(at(21)).toBeCloseTo(0.5, 9);
    expect(at(40)).toBeCloseTo(0.5, 9);
    // Charge moved: -1 A·10 s + 2.5 A·10.5 s + 0.5 A·19.5 s, split exactly at the breakpoints.
    const socAh = (f.channel.cell.soc - 0.5) * 3;
    expect(socAh * 3600).toBeCloseTo(-10 + 26.25 + 9.75, 6);

    await f.channel.apply({ mode: "profile", points: [{ tS: 0, currentA: 6 }], minV: 2.5, maxV: 3.85 });
    const clamped = await readEverySecond(f.clock, f.channel, 1800);
    for (const r of clamped.readings) expect(r.voltageV).toBeLessThanOrEqual(3.85 + 1e-9);
    expect(clamped.readings[clamped.readings.length - 1]?.currentA).toBeLessThan(6);
  });

  it("reports the new operating point at once after apply (no time has to pass)", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.5 });
    const before = await f.channel.read();
    await f.channel.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    const after = await f.channel.read();
    expect(after.currentA).toBe(2);
    // The ohmic step: 2 A · (contacts + R0) (4 + 9 mΩ at 25 °C for a 3 Ah NMC cell).
    const { floorOhm, r0Ohm } = f.channel.cell.params;
    expect(floorOhm + r0Ohm).toBeCloseTo(0.013, 6);
    expect(after.voltageV - before.voltageV).toBeCloseTo(2 * (floorOhm + r0Ohm), 4);
  });
});

describe("sim/cycler safe state, ranges and life cycle", () => {
  it("puts the channel at rest, idempotently", async () => {
    const f = await simFixture({ cell: NMC_3AH });
    await f.channel.apply({ mode: "cc", currentA: -2, minV: 2.5, maxV: 4.2 });
    await f.clock.advanceTo(10_000);
    expect((await f.channel.read()).currentA).toBe(-2);
    await f.channel.toSafeState();
    const socAfterFirst = f.channel.cell.soc;
    await f.channel.toSafeState();
    await f.channel.toSafeState();
    expect(f.channel.cell.setpoint).toEqual({ mode: "rest" });
    expect(f.channel.cell.soc).toBe(socAfterFirst);
    await f.clock.advanceTo(20_000);
    expect((await f.channel.read()).currentA).toBe(0);
    expect(f.channel.cell.soc).toBe(socAfterFirst);
  });

  it("rejects set points outside the channel's ranges with SETPOINT_OUT_OF_RANGE and keeps the old one", async () => {
    const f = await simFixture({
      cell: NMC_3AH,
      ranges: { currentA: [-10, 10], modes: ["rest", "cc", "cv", "cp", "profile"] },
    });
    await f.channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    const bad: CyclerSetpoint[] = [
      { mode: "cc", currentA: 11, minV: 2.5, maxV: 4.2 },
      { mode: "cc", currentA: 1, minV: 2.5, maxV: 5.5 },
      { mode: "cc", currentA: 1, minV: 4.2, maxV: 2.5 },
      { mode: "cc", currentA: Number.NaN, minV: 2.5, maxV: 4.2 },
      { mode: "cv", voltageV: 6, chargeLimitA: 1, dischargeLimitA: 1 },
      { mode: "cv", voltageV: 4, chargeLimitA: 12, dischargeLimitA: 1 },
      { mode: "cv", voltageV: 4, chargeLimitA: 1, dischargeLimitA: 12 },
      { mode: "cv", voltageV: 4, chargeLimitA: -1, dischargeLimitA: 1 },
      { mode: "cv", voltageV: 4, chargeLimitA: 1, dischargeLimitA: -1 },
      { mode: "cv", voltageV: 4, chargeLimitA: 1, dischargeLimitA: Number.NaN },
      { mode: "cp", powerW: -61, minV: 2.5, maxV: 4.2 },
      { mode: "profile", points: [], minV: 2.5, maxV: 4.2 },
      { mode: "profile", points: [{ tS: 0, currentA: -10.5 }], minV: 2.5, maxV: 4.2 },
      {
        mode: "profile",
        points: [
          { tS: 5, currentA: 1 },
          { tS: 2, currentA: 1 },
        ],
        minV: 2.5,
        maxV: 4.2,
      },
      { mode: "cccv", currentA: 1, voltageV: 4.2 },
    ];
    for (const sp of bad) {
      await expect(f.channel.apply(sp), JSON.stringify(sp)).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
    }
    await expect(f.channel.apply({ mode: "cccv", currentA: 1, voltageV: 4.2 })).rejects.toThrow(
      'mode "cccv" is not supported',
    );
    expect(f.channel.cell.setpoint).toEqual({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
  });

  it("refuses to work before connect() and after close() with SIM_NOT_CONNECTED", async () => {
    const f = await simFixture({ cell: NMC_3AH, connect: false });
    await expect(f.channel.read()).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
    await expect(f.channel.apply({ mode: "rest" })).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
    await f.cycler.connect();
    await expect(f.channel.read()).resolves.toBeDefined();
    await f.cycler.close();
    await expect(f.channel.read()).rejects.toMatchObject({ code: "SIM_NOT_CONNECTED" });
    await expect(f.channel.toSafeState()).rejects.toThrow("call connect() before toSafeState()");
    await f.cycler.close();
  });

  it("mounts a fresh cell of the given spec at initialSoc and the air temperature", async () => {
    const f = await simFixture({ cell: NMC_3AH, initialSoc: 0.4, chamberC: 40 });
    await f.channel.apply({ mode: "cc", currentA: 3, minV: 2.5, maxV: 4.2 });
    await f.clock.advanceTo(600_000);
    f.channel.mountCell?.(ASSLB_1AH);
    expect(f.channel.cell.params.chemistry).toBe("asslb-sulfide");
    expect(f.channel.cell.soc).toBe(0.4);
    expect(f.channel.cell.temperatureC).toBeCloseTo(40, 6);
    expect(f.channel.cell.setpoint).toEqual({ mode: "rest" });
    expect((await f.channel.read()).currentA).toBe(0);
    expect(() => f.channel.mountCell?.({ ...ASSLB_1AH, capacityAh: 0 })).toThrow(/capacityAh/);
  });

  it("derives the cell from options: default 18650 NMC, any chemistry and capacity (R ∝ 1/capacity)", () => {
    const clock = new VirtualClock();
    const context = { clock, chamberOfChannel: () => undefined };
    const device = createDevice({ id: "d", driver: "sim/cycler", channels: ["a", "b"] }, context);
    expect(device.channels.map((c) => c.id)).toEqual(["a", "b"]);
    const a = device.channels[0] as SimCyclerChannel;
    expect(a.cell.params.chemistry).toBe(DEFAULT_SIM_CELL.chemistry);
    expect(a.cell.params.capacityAh).toBe(3);
    expect(a.cell.soc).toBe(0.5);
    expect(a.ranges.voltageV).toEqual([0, 5]);
    expect(a.ranges.currentA).toEqual([-10, 10]);
    const big = createDevice(
      {
        id: "e",
        driver: "sim/cycler",
        channels: ["c"],
        options: { cell: { chemistry: "li-ion-lfp", capacityAh: 30 }, initialSoc: 0.9 },
      },
      context,
    ).channels[0] as SimCyclerChannel;
    const oneAh = cellParameters({ chemistry: "li-ion-lfp", capacityAh: 1 });
    expect(big.cell.params.r0Ohm).toBeCloseTo(oneAh.r0Ohm / 30, 12);
    expect(big.cell.params.floorOhm).toBeCloseTo(oneAh.floorOhm / 30, 12);
    expect(big.cell.soc).toBe(0.9);
    expect(() =>
      createDevice({ id: "x", driver: "sim/cycler", channels: ["c"], options: { initialSoc: 2 } }, context),
    ).toThrow(expect.objectContaining({ code: "SIM_BAD_OPTIONS" }));
    expect(() =>
      createDevice(
        { id: "x", driver: "sim/cycler", channels: ["c"], options: { cell: { chemistry: "lead-acid" } } },
        context,
      ),
    ).toThrow(/chemistry must be one of/);
    expect(() => createDevice({ id: "x", driver: "sim/cycler", options: { colour: 1 } }, context)).toThrow(
      expect.objectContaining({ code: "SIM_BAD_OPTIONS" }),
    );
  });
});
