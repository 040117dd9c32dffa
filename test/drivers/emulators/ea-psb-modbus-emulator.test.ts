// The EA PSB Modbus emulator spoken to by raw requests at the addresses of its own map (see the
// emulator's header for the sources), with no driver in between: what a real PSB 10000 is documented to
// answer, so a driver reading another address or bit has something independent to disagree with.
import { afterEach, describe, expect, it } from "vitest";
import {
  type EaPsbModbusEmulator,
  startEaPsbModbusEmulator,
} from "../../../drivers/emulators/ea-psb-modbus-emulator.js";
import type { ModbusDevice } from "../../../protocols/modbus/modbus-bus.js";
import { ModbusBusPool } from "../../../protocols/modbus/modbus-bus-pool.js";
import { rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 100 % of a rating. */
const FULL = 0xcccc;

async function start(): Promise<{ emu: EaPsbModbusEmulator; unit: ModbusDevice }> {
  const emu = await startEaPsbModbusEmulator({
    listen: "tcp://127.0.0.1:0",
    options: { initialSoc: 0.5, nominal: { voltageV: 60, currentA: 60, powerW: 1500 } },
  });
  cleanups.push(() => emu.stop());
  const lease = new ModbusBusPool().acquire(emu.listen, { timeoutMs: 1000 });
  cleanups.push(() => lease.release());
  await lease.transport.open();
  return { emu, unit: lease.bus.device({ unit: 1 }) };
}

const ascii = (words: number[]) =>
  String.fromCharCode(...words.flatMap((w) => [w >> 8, w & 0xff])).replace(/\0+$/, "");
const stateWord = async (unit: ModbusDevice) => {
  const [high = 0, low = 0] = await unit.readHoldingRegisters(505, 2);
  return ((high << 16) | low) >>> 0;
};

describe("emulated EA PSB 10000 on Modbus, by raw requests", () => {
  it("answers the device type (1–20) and serial number (151–170) in ASCII", async () => {
    const { unit } = await start();
    expect(ascii(await unit.readHoldingRegisters(1, 20))).toBe("PSB 10060-60");
    expect(ascii(await unit.readHoldingRegisters(151, 20))).toBe("2411230001");
  });

  it("takes set values only in remote (coil 402), scaled to 0xCCCC, and refuses above 102 %", async () => {
    const { emu, unit } = await start();
    const denied = await rejection(unit.writeRegister(500, FULL / 2));
    expect(denied.message).toMatch(/exception 4|SLAVE DEVICE FAILURE|code 4/i);
    await unit.writeCoil(402, true);
    await unit.writeRegister(500, Math.round((4.2 / 60) * FULL));
    await unit.writeRegister(499, Math.round((3 / 60) * FULL));
    expect(emu.setValues.voltageV).toBeCloseTo(4.2, 3);
    expect(emu.setValues.sinkCurrentA).toBeCloseTo(3, 3);
    expect((await rejection(unit.writeRegister(500, 53_478))).message).toMatch(
      /exception 3|ILLEGAL DATA VALUE|code 3/i,
    );
  });

  it("reports remote (bit 11), output (bit 7) and sink mode (bit 31) in 505–506, the current unsigned in 508", async () => {
    const { unit } = await start();
    expect((await stateWord(unit)) & (1 << 11)).toBe(0);
    await unit.writeCoil(402, true);
    await unit.writeRegister(500, 0);
    await unit.writeRegister(499, Math.round((2 / 60) * FULL));
    await unit.writeCoil(405, true);
    const state = await stateWord(unit);
    expect(state & (1 << 11)).not.toBe(0);
    expect(state & (1 << 7)).not.toBe(0);
    expect(state >>> 31).toBe(1);
    const [current = 0] = await unit.readHoldingRegisters(508, 1);
    expect((current / FULL) * 60).toBeCloseTo(2, 1);
  });

  it("answers exception 2 at addresses outside its map", async () => {
    const { unit } = await start();
    for (const address of [0, 503, 510, 9000])
      expect((await rejection(unit.readHoldingRegisters(address, 1))).message, `${address}`).toMatch(
        /exception 2|ILLEGAL DATA ADDRESS|code 2/i,
      );
    expect((await rejection(unit.writeCoil(403, true))).message).toMatch(
      /exception 2|ILLEGAL DATA ADDRESS|code 2/i,
    );
  });
});
