// A Modbus driver with one wrong entry in its register table fails against its emulator. The emulators
// keep their own maps, written from the instruments' documents (see each emulator's header), so a wrong
// address, coil, state bit or function code in a driver meets the refusal or the wrong value a real
// instrument would give. Each case first runs the driver unchanged (the control), then with one table
// entry changed at run time, restored after the test.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { EA_MODBUS, EA_STATE, EaPsbModbus } from "../../../drivers/ea/ea-psb-modbus.js";
import { startEaPsbModbusEmulator } from "../../../drivers/emulators/ea-psb-modbus-emulator.js";
import { startModbusTemperatureInputsEmulator } from "../../../drivers/emulators/modbus-temperature-inputs-emulator.js";
import { startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { startWatlowF4tEmulator } from "../../../drivers/emulators/watlow-f4t-emulator.js";
import { TEMPERATURE_INPUT_PRESETS } from "../../../drivers/modbus/temperature-input-presets.js";
import { ModbusTemperatureInputs } from "../../../drivers/modbus/temperature-inputs.js";
import { F4, WatlowF4 } from "../../../drivers/watlow/watlow-f4.js";
import { F4T, WatlowF4t } from "../../../drivers/watlow/watlow-f4t.js";
import { createMemoryPair } from "../../../protocols/index.js";
import { rejection } from "../../support/wait.js";
import { context, deviceConfig } from "../ea/emulator-fixtures.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Changes entries of a driver's table (a plain object at run time) until the end of the test. */
function patch(table: object, changes: Record<string, number>): void {
  const target = table as Record<string, number>;
  const saved = Object.fromEntries(Object.keys(changes).map((key) => [key, target[key]]));
  expect(
    Object.keys(saved).every((key) => key in target),
    "every patched entry exists",
  ).toBe(true);
  Object.assign(target, changes);
  cleanups.push(() => Object.assign(target, saved));
}

/** The code of the CellbenchError `promise` rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return (await rejection(promise)).code;
}

describe("ea/psb-modbus with a wrong register or state bit", () => {
  async function bench() {
    const clock = new ScaledClock(1);
    const emu = await startEaPsbModbusEmulator({
      listen: "tcp://127.0.0.1:0",
      clock,
      options: { initialSoc: 0.5 },
    });
    cleanups.push(() => emu.stop());
    const psb = new EaPsbModbus(
      deviceConfig("ea/psb-modbus", `${emu.listen}?unit=1`, {
        nominal: { voltageV: 60, currentA: 60, powerW: 1500 },
        timeoutMs: 1000,
        retryMs: 50,
      }),
      context(clock),
    );
    cleanups.push(() => psb.close().catch(() => undefined));
    return { emu, psb };
  }

  /** Discharges at 2 A and returns the current the driver reads (negative when right). */
  async function dischargeCurrent(psb: EaPsbModbus): Promise<number> {
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: -2, minV: 2.5, maxV: 4.2 });
    return (await ch.read()).currentA;
  }

  it("control: the driver as it is connects and reads a discharge as negative current", async () => {
    const { psb } = await bench();
    await psb.connect();
    expect(await dischargeCurrent(psb)).toBeCloseTo(-2, 1);
  });

  it("the sink flag taken from bit 12 (third-party reading) instead of bit 31 reads a discharge as a charge", async () => {
    patch(EA_STATE, { sinkMode: 1 << 12 });
    const { psb } = await bench();
    await psb.connect();
    expect(await dischargeCurrent(psb)).toBeCloseTo(2, 1);
  });

  it("a wrong remote coil fails connect with the instrument's exception", async () => {
    patch(EA_MODBUS, { remoteCoil: 403 });
    const { psb } = await bench();
    expect(await codeOf(psb.connect())).toBe("MODBUS_EXCEPTION");
  });

  it("a wrong device-type address fails connect", async () => {
    patch(EA_MODBUS, { deviceType: 0 });
    const { psb } = await bench();
    expect(await codeOf(psb.connect())).toBe("MODBUS_EXCEPTION");
  });

  it("a state block read from the wrong address fails the read", async () => {
    const { psb } = await bench();
    await psb.connect();
    patch(EA_MODBUS, { state: 504 });
    expect(await codeOf(psb.channels[0]!.read())).toBe("MODBUS_EXCEPTION");
  });
});

describe("watlow/f4 with a wrong register", () => {
  let pairs = 0;
  async function bench() {
    // An F4 speaks RTU: a memory pair carries RTU frames as a serial line would.
    const name = `f4-mistakes-${process.pid}-${++pairs}`;
    const pair = createMemoryPair({ name });
    cleanups.push(() => pair.dispose());
    const emu = await startWatlowF4Emulator({
      listen: pair.device,
      options: { initialC: 22, ambientC: 22 },
    });
    cleanups.push(() => emu.stop());
    const dev = new WatlowF4({
      id: "tc1",
      driver: "watlow/f4",
      transport: `memory://${name}?unit=1`,
      options: { timeoutMs: 1000, retryMs: 100, minGapMs: 0 },
    });
    cleanups.push(() => dev.close().catch(() => undefined));
    return { emu, dev };
  }

  it("control: the driver as it is reads the air and writes set point 1", async () => {
    const { emu, dev } = await bench();
    await dev.connect();
    expect((await dev.chamber.read()).temperatureC).toBeCloseTo(22, 0);
    await dev.chamber.setSetpoint(30);
    expect(emu.device().chamber.state().setpointC).toBe(30);
  });

  it("set point 2 (319) written for set point 1 leaves the controlling set point where it was", async () => {
    const { emu, dev } = await bench();
    await dev.connect();
    patch(F4, { setpoint1: 319 });
    await dev.chamber.setSetpoint(30).catch(() => undefined);
    expect(emu.device().chamber.state().setpointC).not.toBe(30);
  });

  it("a process value read from an address the F4 does not define fails the read", async () => {
    const { dev } = await bench();
    await dev.connect();
    patch(F4, { input1Value: 110 });
    expect(await codeOf(dev.chamber.read())).toBe("MODBUS_EXCEPTION");
  });

  it("the model read from register 1 (part of the serial number) fails connect as the wrong model", async () => {
    patch(F4, { model: 1 });
    const { dev } = await bench();
    expect(await codeOf(dev.connect())).toBe("WATLOW_WRONG_MODEL");
  });
});

describe("watlow/f4t with a wrong register", () => {
  async function bench() {
    const emu = await startWatlowF4tEmulator({
      listen: "tcp://127.0.0.1:0",
      options: { initialC: 22, ambientC: 22 },
    });
    cleanups.push(() => emu.stop());
    const dev = new WatlowF4t({
      id: "tc2",
      driver: "watlow/f4t",
      transport: emu.listen,
      options: { timeoutMs: 1000, retryMs: 100 },
    });
    cleanups.push(() => dev.close().catch(() => undefined));
    return { emu, dev };
  }

  it("control: the driver as it is reads the air and writes the constant set point", async () => {
    const { emu, dev } = await bench();
    await dev.connect();
    expect((await dev.chamber.read()).temperatureC).toBeCloseTo(22, 0);
    await dev.chamber.setSetpoint(31);
    expect(emu.device.loops[0]!.state().setpointC).toBeCloseTo(31, 4);
  });

  it("the constant set point written to the read-only current set point (2810) is refused", async () => {
    const { emu, dev } = await bench();
    await dev.connect();
    patch(F4T, { constantSetpoint: 2810 });
    expect(await codeOf(dev.chamber.setSetpoint(31))).toBe("MODBUS_EXCEPTION");
    expect(emu.device.loops[0]!.state().setpointC).not.toBeCloseTo(31, 4);
  });

  it("a process value read two registers off fails the read", async () => {
    const { dev } = await bench();
    await dev.connect();
    patch(F4T, { processValue: 2822 });
    expect(await codeOf(dev.chamber.read())).toBe("MODBUS_EXCEPTION");
  });

  it("a wrong part-number address fails connect", async () => {
    patch(F4T, { partNumber: 15 });
    const { dev } = await bench();
    expect(await codeOf(dev.connect())).toBe("MODBUS_EXCEPTION");
  });
});

describe("modbus/temperature-inputs with a wrong preset", () => {
  async function bench() {
    const emu = await startModbusTemperatureInputsEmulator({
      listen: "tcp://127.0.0.1:0",
      options: { preset: "eletechsup-r4dcb08" },
    });
    cleanups.push(() => emu.stop());
    emu.setTemperature(1, 31.5);
    const dev = new ModbusTemperatureInputs(
      {
        id: "ti1",
        driver: "modbus/temperature-inputs",
        transport: `${emu.listen}?unit=1`,
        options: { preset: "eletechsup-r4dcb08", inputs: [1], timeoutMs: 1000, retryMs: 100 },
      },
      { reportLink: () => undefined },
    );
    cleanups.push(() => dev.close().catch(() => undefined));
    return { emu, dev };
  }

  it("control: the preset as it is reads input 1", async () => {
    const { dev } = await bench();
    await dev.connect();
    expect((await dev.temperatureInputs.scan()).get("1")).toMatchObject({ temperatureC: 31.5 });
  });

  it("the R4DCB08 read with FC04 (the sheet documents FC03) fails connect", async () => {
    patch(TEMPERATURE_INPUT_PRESETS["eletechsup-r4dcb08"], { functionCode: 4 });
    const { dev } = await bench();
    expect(await codeOf(dev.connect())).toBe("MODBUS_EXCEPTION");
  });

  it("the R4DCB08 read from the correction registers (0x0008) reads the correction, not the input", async () => {
    patch(TEMPERATURE_INPUT_PRESETS["eletechsup-r4dcb08"], { registerBase: 0x0008 });
    const { dev } = await bench();
    await dev.connect();
    expect((await dev.temperatureInputs.scan()).get("1")).not.toMatchObject({ temperatureC: 31.5 });
  });
});
