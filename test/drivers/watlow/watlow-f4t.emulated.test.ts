// watlow/f4t against its emulator over loopback Modbus TCP: set point changes to completion on a
// fast clock, fault knobs, and a dropped connection.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  startWatlowF4tEmulator,
  type WatlowF4tEmulator,
} from "../../../drivers/emulators/watlow-f4t-emulator.js";
import { WatlowF4t } from "../../../drivers/watlow/watlow-f4t.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { eventually, rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function bench(
  options: Record<string, unknown> = {},
  loop = 1,
): Promise<{ emu: WatlowF4tEmulator; dev: WatlowF4t }> {
  const emu = await startWatlowF4tEmulator({
    listen: "tcp://127.0.0.1:0",
    options: { loops: 2, ...options },
    clock: new ScaledClock(1500),
  });
  cleanups.push(() => emu.stop());
  const dev = new WatlowF4t({
    id: "tc2",
    driver: "watlow/f4t",
    transport: emu.listen,
    options: { loop, timeoutMs: 200, retryMs: 100 },
  });
  await dev.connect();
  cleanups.push(() => dev.close());
  return { emu, dev };
}

describe("watlow/f4t against its emulator over loopback TCP", () => {
  it("drives loop 2 to its set points and leaves loop 1 alone", async () => {
    const { emu, dev } = await bench({}, 2);
    for (const target of [45, -5]) {
      await dev.chamber.setSetpoint(target);
      await eventually(
        async () => Math.abs((await dev.chamber.read()).temperatureC - target) <= 0.3,
        `loop 2 to reach ${target} °C`,
        30_000,
      );
    }
    expect(emu.device.loops[0]!.state().setpointC).toBe(22);
    expect(emu.device.writes.every((w) => w.loop === 2)).toBe(true);
  }, 60_000);

  it("answers fault knobs with typed errors and recovers", async () => {
    const { emu, dev } = await bench();
    await dev.chamber.setSetpoint(33.25);
    const cases: Array<[Record<string, unknown>, readonly string[]]> = [
      [{ timeout: { next: 1 } }, ["MODBUS_TIMEOUT"]],
      [{ badCrc: { next: 1 } }, ["MODBUS_TIMEOUT", "MODBUS_BAD_FRAME"]],
      [{ exception: { next: 1, code: 4 } }, ["MODBUS_EXCEPTION"]],
      [{ wrongUnit: { next: 1 } }, ["MODBUS_TIMEOUT", "MODBUS_BAD_FRAME"]],
      [{ lateReply: { next: 1, delayMs: 300 } }, ["MODBUS_TIMEOUT"]],
    ];
    for (const [knob, codes] of cases) {
      emu.device.faults.set(knob);
      const err = await rejection(dev.chamber.read());
      expect(err).toBeInstanceOf(CellbenchError);
      expect(codes, `${JSON.stringify(knob)} gave ${err.code}: ${err.message}`).toContain(err.code);
      await eventually(
        async () => (await dev.chamber.read().catch(() => undefined)) !== undefined,
        "recovery",
        10_000,
      );
      for (let i = 0; i < 5; i++) expect((await dev.chamber.read()).setpointC).toBeCloseTo(33.25, 5);
    }
  }, 60_000);

  it("refuses a controller in °F, naming Display Units, and connects once it is set to C", async () => {
    const emu = await startWatlowF4tEmulator({
      listen: "tcp://127.0.0.1:0",
      options: { displayUnits: "F" },
    });
    cleanups.push(() => emu.stop());
    const dev = new WatlowF4t({ id: "tc2", driver: "watlow/f4t", transport: emu.listen, options: {} });
    cleanups.push(() => dev.close());
    const err = await rejection(dev.connect());
    expect(err).toBeInstanceOf(CellbenchError);
    expect(err.code).toBe("WATLOW_WRONG_UNITS");
    expect(err.message).toMatch(/Display Units/);
    expect(err.message).toMatch(/register 1328 = 30/);
    expect(emu.device.writes).toEqual([]);
    emu.device.displayUnits = "C";
    await dev.connect();
    await dev.chamber.setSetpoint(25);
    expect(emu.device.loops[0]!.state().setpointC).toBe(25);
  }, 30_000);

  it("refuses a controller whose floats come high word first, naming the word order setting", async () => {
    const emu = await startWatlowF4tEmulator({
      listen: "tcp://127.0.0.1:0",
      options: { wordOrder: "high-first" },
    });
    cleanups.push(() => emu.stop());
    const dev = new WatlowF4t({ id: "tc2", driver: "watlow/f4t", transport: emu.listen, options: {} });
    cleanups.push(() => dev.close());
    const err = await rejection(dev.connect());
    expect(err.code).toBe("WATLOW_BAD_CONFIG");
    expect(err.message).toMatch(/word order/i);
    expect(err.message).toMatch(/low word first/i);
    expect(emu.device.writes).toEqual([]);
  }, 30_000);

  it("fails fast while the connection is down, then re-identifies and restores the set point", async () => {
    const { emu, dev } = await bench();
    await dev.chamber.setSetpoint(50);
    emu.device.loops[0]!.setSetpoint(22);
    emu.line.disconnectFor(500);
    await eventually(() => dev.linkState === "link-down", "the connection to drop");
    expect((await rejection(dev.chamber.read())).code).toBe("CHAMBER_LINK_DOWN");
    await eventually(() => dev.linkState === "ready", "reconnection", 15_000);
    expect(emu.device.loops[0]!.state().setpointC).toBe(50);
  }, 30_000);
});
