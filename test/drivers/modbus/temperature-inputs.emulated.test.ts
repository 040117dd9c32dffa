// modbus/temperature-inputs against its wire-level emulator: each preset over a memory pair, a socat pty
// and TCP loopback; every fault knob; a wrong function code or register caught; a module and a Watlow
// F4 on one RS-485 line; unplug and replug.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  type ModbusTemperatureInputsEmulator,
  startModbusTemperatureInputsEmulator,
} from "../../../drivers/emulators/modbus-temperature-inputs-emulator.js";
import { startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { ModbusTemperatureInputs } from "../../../drivers/modbus/temperature-inputs.js";
import { WatlowF4 } from "../../../drivers/watlow/watlow-f4.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { createMemoryPair, type Transport } from "../../../protocols/index.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually, rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function pty(): Promise<PtyPair> {
  const pair = await startPtyPair();
  cleanups.push(() => pair.stop());
  return pair;
}

async function emulator(listen: string | Transport, options: Record<string, unknown> = {}) {
  const emu = await startModbusTemperatureInputsEmulator({ listen, options });
  cleanups.push(() => emu.stop());
  return emu;
}

async function connected(
  transport: string,
  options: Record<string, unknown>,
  links: string[] = [],
): Promise<ModbusTemperatureInputs> {
  const dev = new ModbusTemperatureInputs(
    { id: "ti1", driver: "modbus/temperature-inputs", transport, options: { retryMs: 100, ...options } },
    { reportLink: (device, event) => links.push(`${device} ${event.kind}`) },
  );
  await dev.connect();
  cleanups.push(() => dev.close());
  return dev;
}

let pairs = 0;
async function memoryBench(emulatorOptions: Record<string, unknown>, driverOptions: Record<string, unknown>) {
  const name = `ti-emulated-${process.pid}-${++pairs}`;
  const pair = createMemoryPair({ name });
  cleanups.push(() => pair.dispose());
  const emu = await emulator(pair.device, emulatorOptions);
  const unit = (emulatorOptions.unit as number | undefined) ?? 1;
  // A reply timeout plain reads keep to on a loaded machine.
  const dev = await connected(`memory://${name}?unit=${unit}`, { timeoutMs: 1000, ...driverOptions });
  return { pair, emu, dev, url: `memory://${name}?unit=${unit}` };
}

async function temperatures(dev: ModbusTemperatureInputs): Promise<Record<string, number | string>> {
  const scan = await dev.temperatureInputs.scan();
  return Object.fromEntries([...scan].map(([id, r]) => [id, r.ok ? r.temperatureC : r.fault]));
}

describe("modbus/temperature-inputs against its emulator", () => {
  it("R4DCB08: temperatures from the cells, set at run time, open and overloaded sensors", async () => {
    const { emu, dev } = await memoryBench(
      { preset: "eletechsup-r4dcb08", temperatureOf: (input: number) => 20 + input / 10, open: [8] },
      { preset: "eletechsup-r4dcb08" },
    );
    expect(await temperatures(dev)).toEqual({
      1: 20.1,
      2: 20.2,
      3: 20.3,
      4: 20.4,
      5: 20.5,
      6: 20.6,
      7: 20.7,
      8: "open",
    });
    emu.setTemperature(2, -12.3);
    emu.module.setOpen(8, false);
    // The R4DCB08 has one marker for "no sensor or error" (0x8000): an overload reads the same.
    emu.module.setOverload(3);
    const scan = await temperatures(dev);
    expect(scan).toMatchObject({ 2: -12.3, 3: "open", 8: 20.8 });
    // One FC03 request per scan, for all eight inputs.
    const reads = emu.module.requests.filter((r) => r.functionCode === 3 && r.address === 0);
    expect(reads.every((r) => "quantity" in r && r.quantity === 8)).toBe(true);
  });

  it("DAM-PT100 over TCP loopback: floats, an open PT100 reads out of range", async () => {
    const emu = await emulator("tcp://127.0.0.1:0", { preset: "juying-dam-pt100", unit: 3, open: [2] });
    const dev = await connected(`${emu.listen}?unit=3`, { preset: "juying-dam-pt100", inputs: [1, 2, 16] });
    emu.setTemperature(16, 85.25);
    expect(await temperatures(dev)).toEqual({ 1: 25, 2: "out-of-range", 16: 85.25 });
    const r2 = (await dev.temperatureInputs.scan()).get("2");
    expect(r2?.ok === false && r2.detail).toMatch(/outside the module's range \[-200, 650\]/);
  });

  it("catches a wrong function code or register: the module answers the exception its map gives", async () => {
    const name = `ti-wrong-${process.pid}`;
    const pair = createMemoryPair({ name });
    cleanups.push(() => pair.dispose());
    await emulator(pair.device, { preset: "eletechsup-r4dcb08" });
    const asFc04 = new ModbusTemperatureInputs({
      id: "ti1",
      driver: "modbus/temperature-inputs",
      transport: `memory://${name}?unit=1`,
      options: {
        functionCode: 4,
        registerBase: 0,
        dataType: "int16",
        scale: 0.1,
        inputs: [1],
        timeoutMs: 1000,
      },
    });
    const err = await rejection(asFc04.connect());
    expect(err.code).toBe("MODBUS_EXCEPTION");
    expect(err.message).toMatch(/exception 1 \(ILLEGAL FUNCTION\)/);

    const tcp = await emulator("tcp://127.0.0.1:0", { preset: "juying-dam-pt100" });
    const offByOne = new ModbusTemperatureInputs({
      id: "ti2",
      driver: "modbus/temperature-inputs",
      // 3x0051 read as protocol address 51 instead of 50: the last float runs past the map.
      transport: `${tcp.listen}?unit=1`,
      options: { preset: "juying-dam-pt100", registerBase: 0x33, timeoutMs: 1000 },
    });
    expect((await rejection(offByOne.connect())).message).toMatch(/exception 2 \(ILLEGAL DATA ADDRESS\)/);
  });

  it("refuses an R4DCB08 that reports unasked (register 0x00FD)", async () => {
    const name = `ti-auto-${process.pid}`;
    const pair = createMemoryPair({ name });
    cleanups.push(() => pair.dispose());
    await emulator(pair.device, { autoReportS: 5 });
    const dev = new ModbusTemperatureInputs({
      id: "ti1",
      driver: "modbus/temperature-inputs",
      transport: `memory://${name}?unit=1`,
      options: { preset: "eletechsup-r4dcb08", timeoutMs: 1000 },
    });
    expect((await rejection(dev.connect())).code).toBe("TEMPERATURE_INPUTS_BAD_CONFIG");
  });

  it("answers every fault knob with a typed error, never a crash, and recovers", async () => {
    const { emu, dev } = await memoryBench({}, { preset: "eletechsup-r4dcb08", inputs: [1, 2] });
    const expectations: Array<[Record<string, unknown>, readonly string[]]> = [
      [{ timeout: { next: 1 } }, ["MODBUS_TIMEOUT"]],
      [{ badCrc: { next: 1 } }, ["MODBUS_CRC_ERROR"]],
      [{ garbage: { next: 1, bytes: 9 } }, ["MODBUS_TIMEOUT", "MODBUS_CRC_ERROR", "MODBUS_BAD_FRAME"]],
      [{ wrongUnit: { next: 1 } }, ["MODBUS_TIMEOUT"]],
      [{ exception: { next: 1, code: 4 } }, ["MODBUS_EXCEPTION"]],
      [{ lateReply: { next: 1, delayMs: 1100 } }, ["MODBUS_TIMEOUT"]],
      [{ disconnect: { next: 1, forMs: 1500 } }, ["MODBUS_TIMEOUT"]],
    ];
    for (const [knob, codes] of expectations) {
      emu.module.faults.set(knob);
      const err = await rejection(dev.temperatureInputs.scan());
      expect(err, JSON.stringify(knob)).toBeInstanceOf(CellbenchError);
      expect(codes, `${JSON.stringify(knob)} gave ${err.code}: ${err.message}`).toContain(err.code);
      await eventually(
        async () => {
          try {
            await dev.temperatureInputs.scan();
            return true;
          } catch {
            return false;
          }
        },
        `recovery after ${JSON.stringify(knob)}`,
        10_000,
      );
      expect(await temperatures(dev)).toEqual({ 1: 25, 2: 25 });
    }
    expect(Object.keys(emu.module.faults.fired).sort()).toEqual(
      ["badCrc", "disconnect", "exception", "garbage", "lateReply", "timeout", "wrongUnit"].sort(),
    );
  }, 60_000);

  it("shares one RS-485 line (socat pty) with a Watlow F4: unit 1 the chamber, unit 2 the module", async () => {
    const p = await pty();
    const f4emu = await startWatlowF4Emulator({
      listen: `serial://${p.b}?baud=19200`,
      options: { unit: 1 },
      clock: new ScaledClock(1),
    });
    cleanups.push(() => f4emu.stop());
    const emu: ModbusTemperatureInputsEmulator = await emulator(`serial://${p.b}?baud=19200`, { unit: 2 });
    expect(emu.line).toBe(f4emu.line);
    const f4 = new WatlowF4({
      id: "tc1",
      driver: "watlow/f4",
      transport: `serial://${p.a}?baud=19200&unit=1`,
      options: { timeoutMs: 2000, retryMs: 100 },
    });
    await f4.connect();
    cleanups.push(() => f4.close());
    const dev = await connected(`serial://${p.a}?baud=19200&unit=2`, {
      preset: "eletechsup-r4dcb08",
      timeoutMs: 2000,
    });
    emu.setTemperature(5, 31.4);
    await f4.chamber.setSetpoint(40);
    // Both at once: the shared bus queue interleaves them, one request at a time.
    const [scans, reads] = await Promise.all([
      Promise.all([1, 2, 3, 4, 5].map(() => dev.temperatureInputs.scan())),
      Promise.all([1, 2, 3, 4, 5].map(() => f4.chamber.read())),
    ]);
    for (const scan of scans) expect(scan.get("5")).toEqual({ ok: true, temperatureC: 31.4 });
    for (const r of reads) expect(r.setpointC).toBe(40);
    expect(emu.line.stats).toMatchObject({ badFrames: 0, tooSoon: 0 });
  }, 30_000);

  it("fails fast on unplug, then checks the module again and scans after replug", async () => {
    const p = await pty();
    const emu = await emulator(`serial://${p.b}?baud=9600`, {});
    const links: string[] = [];
    const dev = await connected(`serial://${p.a}?baud=9600&unit=1`, { preset: "eletechsup-r4dcb08" }, links);
    expect((await dev.temperatureInputs.scan()).get("1")).toEqual({ ok: true, temperatureC: 25 });
    await p.unplug();
    await eventually(() => dev.linkState === "link-down", "the driver to see the unplug");
    const started = performance.now();
    expect((await rejection(dev.temperatureInputs.scan())).code).toBe("TEMPERATURE_INPUTS_LINK_DOWN");
    expect(performance.now() - started).toBeLessThan(50);
    emu.setTemperature(1, 30.5);
    await p.replug();
    await eventually(() => dev.linkState === "ready", "re-identification after replug", 15_000);
    expect((await dev.temperatureInputs.scan()).get("1")).toEqual({ ok: true, temperatureC: 30.5 });
    expect(links).toEqual(["ti1 lost", "ti1 restored"]);
  }, 30_000);
});
