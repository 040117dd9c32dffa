// The Watlow F4T emulator's register map, spoken to directly: display units (register 1328) and the
// word order of its floats, as the F4T user's guide describes them (see watlow-f4t-emulator.ts).
import { afterEach, describe, expect, it } from "vitest";
import {
  startWatlowF4tEmulator,
  type WatlowF4tEmulator,
} from "../../../drivers/emulators/watlow-f4t-emulator.js";
import type { ModbusRequest, ModbusResponse } from "../../../protocols/modbus/modbus-pdu.js";
import { fromFloat32, toFloat32, type WordOrder } from "../../../protocols/modbus/modbus-values.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Record<string, unknown> = {}): Promise<WatlowF4tEmulator> {
  const emu = await startWatlowF4tEmulator({
    listen: "tcp://127.0.0.1:0",
    options: { initialC: 25, ambientC: 25, rangeC: [-40, 180], ...options },
  });
  cleanups.push(() => emu.stop());
  return emu;
}

const send = (emu: WatlowF4tEmulator, request: ModbusRequest): ModbusResponse => emu.device.handle(request);
function readFloat(emu: WatlowF4tEmulator, address: number, order: WordOrder): number {
  const r = send(emu, { functionCode: 0x03, address, quantity: 2 }) as { values: number[] };
  return toFloat32(r.values, order);
}
const readUnits = (emu: WatlowF4tEmulator) =>
  (send(emu, { functionCode: 0x03, address: 1328, quantity: 1 }) as { values: number[] }).values[0];

describe("emulated Watlow F4T", () => {
  it("answers in °C by default, with register 1328 = C (15) and floats low word first", async () => {
    const emu = await start();
    expect(readUnits(emu)).toBe(15);
    expect(readFloat(emu, 2820, "low-first")).toBeCloseTo(25, 5);
    expect(readFloat(emu, 2774, "low-first")).toBe(-40);
    expect(readFloat(emu, 2776, "low-first")).toBe(180);
  });

  it("in °F answers every temperature in °F and takes set points in °F", async () => {
    const emu = await start({ displayUnits: "F" });
    expect(readUnits(emu)).toBe(30);
    expect(readFloat(emu, 2820, "low-first")).toBeCloseTo(77, 4);
    expect(readFloat(emu, 2774, "low-first")).toBeCloseTo(-40, 4);
    expect(readFloat(emu, 2776, "low-first")).toBeCloseTo(356, 4);
    const ok = send(emu, { functionCode: 0x10, address: 2782, values: fromFloat32(212, "low-first") });
    expect(ok).toMatchObject({ functionCode: 0x10, quantity: 2 });
    expect(emu.device.loops[0]!.state().setpointC).toBeCloseTo(100, 4);
    expect(readFloat(emu, 2810, "low-first")).toBeCloseTo(212, 4);
  });

  it("lets the operator change Display Units with FC06 and refuses other values", async () => {
    const emu = await start();
    expect(send(emu, { functionCode: 0x06, address: 1328, value: 30 })).toMatchObject({ value: 30 });
    expect(readUnits(emu)).toBe(30);
    expect(send(emu, { functionCode: 0x06, address: 1328, value: 7 })).toMatchObject({ exceptionCode: 3 });
    expect(readUnits(emu)).toBe(30);
  });

  it("with wordOrder high-first puts the high word at the lower address, both ways", async () => {
    const emu = await start({ wordOrder: "high-first" });
    expect(readFloat(emu, 2776, "high-first")).toBe(180);
    expect(readFloat(emu, 2776, "low-first")).not.toBeCloseTo(180, 0);
    send(emu, { functionCode: 0x10, address: 2782, values: fromFloat32(42.5, "high-first") });
    expect(emu.device.loops[0]!.state().setpointC).toBe(42.5);
  });

  it("refuses unknown display units and word orders", async () => {
    await expect(start({ displayUnits: "K" })).rejects.toThrow(/displayUnits/);
    await expect(start({ wordOrder: "middle" })).rejects.toThrow(/wordOrder/);
  });
});
