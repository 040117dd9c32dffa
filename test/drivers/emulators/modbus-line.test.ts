// The emulated Modbus line: register map of the F4 emulator, link timing, sharing one line, broadcasts,
// the per-unit pause, and frames it must ignore; block reads and attaching units (modbus-unit-wiring.ts).
import { afterEach, describe, expect, it } from "vitest";
import { FaultDeck } from "../../../drivers/emulators/emulator-faults.js";
import { charTimeMs, frameSilenceMs } from "../../../drivers/emulators/link-timing.js";
import {
  acquireModbusLine,
  type EmulatedModbusUnit,
  MODBUS_FAULT_KNOBS,
  type ModbusFaults,
} from "../../../drivers/emulators/modbus-line.js";
import { attachModbusUnits, readRegisterBlock } from "../../../drivers/emulators/modbus-unit-wiring.js";
import { startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { startWatlowF4tEmulator } from "../../../drivers/emulators/watlow-f4t-emulator.js";
import {
  createMemoryPair,
  encodeRtuRequest,
  fromFloat32,
  fromInt16,
  type MemoryPair,
  ModbusBus,
  toFloat32,
  toInt16,
} from "../../../protocols/index.js";
import { startPtyPair } from "../../support/pty-pair.js";

const cleanups: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function memoryPair(): Promise<MemoryPair> {
  const pair = createMemoryPair();
  cleanups.push(() => pair.dispose());
  await pair.host.open();
  return pair;
}

function bus(pair: MemoryPair, timeoutMs = 200): ModbusBus {
  const b = new ModbusBus(pair.host, { timeoutMs, frameGapMs: 0 });
  cleanups.push(() => {
    b.dispose();
    return undefined;
  });
  return b;
}

describe("emulated Watlow F4 register map", () => {
  it("answers exception 2 for unknown or read-only registers and 3 outside the set point limits", async () => {
    const pair = await memoryPair();
    const emu = await startWatlowF4Emulator({ listen: pair.device, options: { limitsC: [-20, 90] } });
    cleanups.push(() => emu.stop());
    const f4 = bus(pair).device({ unit: 1 });
    expect(await f4.readHoldingRegisters(602, 2)).toEqual([fromInt16(-200), 900]);
    await expect(f4.readHoldingRegisters(99, 2)).rejects.toMatchObject({ exceptionCode: 2 });
    await expect(f4.writeRegister(100, 5)).rejects.toMatchObject({ exceptionCode: 2 });
    await expect(f4.writeRegister(300, 901)).rejects.toMatchObject({ exceptionCode: 3 });
    await f4.writeRegister(300, fromInt16(-200));
    expect(emu.device().chamber.state().setpointC).toBe(-20);
  });

  it("shows temperatures in °F when register 901 says so", async () => {
    const pair = await memoryPair();
    const emu = await startWatlowF4Emulator({
      listen: pair.device,
      options: { temperatureUnit: "F", decimals: 0, initialC: 25 },
    });
    cleanups.push(() => emu.stop());
    const f4 = bus(pair).device({ unit: 1 });
    expect(await f4.readHoldingRegisters(901, 1)).toEqual([0]);
    expect(toInt16((await f4.readHoldingRegisters(100, 1))[0]!)).toBe(77);
  });

  it("carries out a broadcast write on every unit without replying", async () => {
    const pair = await memoryPair();
    const emu = await startWatlowF4Emulator({ listen: pair.device, options: { unit: [4, 5] } });
    cleanups.push(() => emu.stop());
    const received: Buffer[] = [];
    pair.host.on("data", (chunk) => received.push(chunk));
    await pair.host.write(encodeRtuRequest(0, { functionCode: 0x06, address: 300, value: 333 }));
    await new Promise((r) => setTimeout(r, 30));
    expect(emu.devices.get(4)!.chamber.state().setpointC).toBeCloseTo(33.3, 5);
    expect(emu.devices.get(5)!.chamber.state().setpointC).toBeCloseTo(33.3, 5);
    expect(received).toEqual([]);
    expect(emu.line.stats.broadcasts).toBe(1);
  });

  it("ignores frames with a bad CRC and misses requests that come sooner than the unit's pause", async () => {
    const pair = await memoryPair();
    const emu = await startWatlowF4Emulator({ listen: pair.device, options: { minRequestGapMs: 40 } });
    cleanups.push(() => emu.stop());
    const frame = encodeRtuRequest(1, { functionCode: 0x03, address: 0, quantity: 1 });
    frame[frame.length - 1]! ^= 0xff;
    await pair.host.write(frame);
    await new Promise((r) => setTimeout(r, 80));
    expect(emu.line.stats).toMatchObject({ badFrames: 1, replies: 0 });
    const f4 = bus(pair, 100).device({ unit: 1 });
    await f4.readHoldingRegisters(0, 1);
    await expect(f4.readHoldingRegisters(0, 1)).rejects.toMatchObject({ code: "MODBUS_TIMEOUT" });
    expect(emu.line.stats.tooSoon).toBe(1);
    const paced = bus(pair, 100).device({ unit: 1, minGapMs: 45 });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) expect(await paced.readHoldingRegisters(0, 1)).toEqual([5270]);
    expect(emu.line.stats.tooSoon).toBe(1);
  });
});

describe("emulated link timing", () => {
  it("takes the wire time of request and reply plus t3.5 and the turnaround at the line's baud rate", async () => {
    const pair = await memoryPair();
    const emu = await startWatlowF4Emulator({
      listen: pair.device,
      options: { linkTiming: true, baud: 9600, turnaroundMs: 10 },
    });
    cleanups.push(() => emu.stop());
    const f4 = bus(pair, 1000).device({ unit: 1 });
    await f4.readHoldingRegisters(0, 1);
    // FC03 of 2 registers: an 8-byte request, t3.5, 10 ms turnaround, a 9-byte reply (11-bit characters).
    const expected = (8 + 9) * charTimeMs(9600) + frameSilenceMs(9600) + 10;
    expect(expected).toBeCloseTo(33.49, 1);
    // The emulator's delay shows in the fastest transaction; on a loaded machine every one of a few
    // may run late, so sampling goes on (up to 50) until one comes within the bound.
    const times: number[] = [];
    while (times.length < 5 || (Math.min(...times) >= expected + 4 && times.length < 50)) {
      const t0 = performance.now();
      await f4.readHoldingRegisters(100, 2);
      times.push(performance.now() - t0);
    }
    expect(Math.min(...times)).toBeGreaterThanOrEqual(expected - 0.2);
    expect(Math.min(...times)).toBeLessThan(expected + 4);
  });
});

describe("sharing one emulated line", () => {
  it("puts an F4 (unit 1) and an F4T on RTU (unit 2) on one pty, each answering its own unit", async () => {
    const pty = await startPtyPair();
    cleanups.push(() => pty.stop());
    const f4 = await startWatlowF4Emulator({ listen: `serial://${pty.b}?baud=19200`, options: { unit: 1 } });
    cleanups.push(() => f4.stop());
    const f4t = await startWatlowF4tEmulator({
      listen: `serial://${pty.b}?baud=19200`,
      options: { unit: 2, framing: "rtu" },
    });
    cleanups.push(() => f4t.stop());
    expect(f4t.line).toBe(f4.line);
    await expect(
      startWatlowF4Emulator({ listen: `serial://${pty.b}?baud=19200`, options: { unit: 2 } }),
    ).rejects.toThrow(/unit 2 is already taken/);
    await expect(
      startWatlowF4tEmulator({
        listen: `serial://${pty.b}?baud=19200`,
        options: { unit: 3, framing: "tcp" },
      }),
    ).rejects.toMatchObject({ code: "EMULATOR_BAD_OPTIONS" });
    const { createTransport } = await import("../../../protocols/index.js");
    const host = createTransport(`serial://${pty.a}?baud=19200`);
    cleanups.push(() => host.close());
    await host.open();
    // A generous reply timeout: beside other load the emulator and socat answer late, not wrongly.
    const b = new ModbusBus(host, { timeoutMs: 2000 });
    cleanups.push(() => {
      b.dispose();
      return undefined;
    });
    expect(await b.device({ unit: 1 }).readHoldingRegisters(0, 1)).toEqual([5270]);
    await b.device({ unit: 2 }).writeRegisters(2782, fromFloat32(-5.5, "low-first"));
    expect(toFloat32(await b.device({ unit: 2 }).readHoldingRegisters(2810, 2), "low-first")).toBe(-5.5);
    await f4t.stop();
    await expect(b.device({ unit: 2, timeoutMs: 100 }).readHoldingRegisters(2820, 2)).rejects.toMatchObject({
      code: "MODBUS_TIMEOUT",
    });
    expect(await b.device({ unit: 1 }).readHoldingRegisters(0, 1)).toEqual([5270]);
  });
});

/** A unit whose holding registers 0–4 hold their own address. */
function unit(name: string): EmulatedModbusUnit {
  return {
    handle: (request) =>
      request.functionCode === 0x03
        ? readRegisterBlock(request, (address) => (address < 5 ? address : undefined))
        : { functionCode: request.functionCode, exceptionCode: 1 },
    faults: new FaultDeck<ModbusFaults>(name, MODBUS_FAULT_KNOBS),
    turnaroundMs: 0,
    minRequestGapMs: 0,
  };
}

describe("readRegisterBlock", () => {
  it("reads each address in turn and keeps the function code", () => {
    expect(readRegisterBlock({ functionCode: 0x04, address: 10, quantity: 3 }, (a) => a * 2)).toEqual({
      functionCode: 0x04,
      values: [20, 22, 24],
    });
  });

  it("answers exception 2 at the first address the map does not know, reading no further", () => {
    const asked: number[] = [];
    const read = (address: number) => {
      asked.push(address);
      return address === 11 ? undefined : 7;
    };
    expect(readRegisterBlock({ functionCode: 0x03, address: 10, quantity: 3 }, read)).toEqual({
      functionCode: 0x03,
      exceptionCode: 2,
    });
    expect(asked).toEqual([10, 11]);
  });
});

describe("attachModbusUnits", () => {
  it("puts every unit on the line", async () => {
    const pair = await memoryPair();
    const attached = await attachModbusUnits(pair.device, {}, [
      [1, unit("a")],
      [2, unit("b")],
    ]);
    cleanups.push(() => attached.stop());
    const line = bus(pair);
    expect(await line.device({ unit: 1 }).readHoldingRegisters(0, 3)).toEqual([0, 1, 2]);
    expect(await line.device({ unit: 2 }).readHoldingRegisters(2, 3)).toEqual([2, 3, 4]);
    await expect(line.device({ unit: 2 }).readHoldingRegisters(3, 3)).rejects.toMatchObject({
      exceptionCode: 2,
    });
  });

  it("detaches the units it attached when one cannot attach", async () => {
    const pair = await memoryPair();
    const held = await acquireModbusLine(pair.device);
    cleanups.push(() => held.release());
    held.line.attach(2, unit("held"));
    await expect(
      attachModbusUnits(pair.device, {}, [
        [1, unit("a")],
        [2, unit("b")],
      ]),
    ).rejects.toThrow(/unit 2 is already taken/);
    expect(() => held.line.attach(1, unit("again"))).not.toThrow();
  });

  it("stops once, freeing its unit ids", async () => {
    const pair = await memoryPair();
    const held = await acquireModbusLine(pair.device);
    cleanups.push(() => held.release());
    const attached = await attachModbusUnits(pair.device, {}, [[1, unit("a")]]);
    expect(attached.line).toBe(held.line);
    await attached.stop();
    await attached.stop();
    expect(() => held.line.attach(1, unit("again"))).not.toThrow();
  });
});
