// One suite over every registered driver (pymeasure's test_all_instruments): connect, read, set,
// safe state twice, close. Simulated drivers run directly; real drivers run against their wire-level
// emulator over an in-memory pair. A real driver registered without an emulator fails here, by name.
import { afterEach, describe, expect, it } from "vitest";
import "../../drivers/all.js";
import type { Device, DeviceConfig, DriverContext, DriverInfo } from "../../drivers/capabilities.js";
import { VirtualClock } from "../../drivers/clock.js";
import { emulatorInfo, hasEmulator, type RunningEmulator } from "../../drivers/emulators/registry.js";
import { registeredDrivers } from "../../drivers/registry.js";
import { createMemoryPair, type MemoryPair } from "../../protocols/index.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let pairs = 0;

/**
 * Creates the device for a driver: directly when simulated, else against its emulator on a memory
 * pair, started with `emulatorOptions` (another mode of the instrument) when given.
 */
async function deviceFor(
  name: string,
  simulated: boolean,
  emulatorOptions?: Record<string, unknown>,
): Promise<{ device: Device; emulator?: RunningEmulator }> {
  const info = registeredDrivers().find((d) => d.name === name)!;
  const context: DriverContext = { clock: new VirtualClock(), chamberOfChannel: () => undefined };
  if (simulated) return { device: info.create({ id: "dut", driver: name, channels: ["ch1"] }, context) };
  if (!hasEmulator(name))
    throw new Error(
      `real driver "${name}" has no emulator: add one to drivers/emulators/registry.ts so the conformance suite can run it`,
    );
  const emulator = emulatorInfo(name);
  const pairName = `conformance-${process.pid}-${++pairs}`;
  const pair: MemoryPair = createMemoryPair({ name: pairName });
  cleanups.push(() => pair.dispose());
  const start = await emulator.load();
  const running: RunningEmulator = await start({
    listen: pair.device,
    ...(emulatorOptions ? { options: emulatorOptions } : {}),
  });
  cleanups.push(() => running.stop());
  const hints = emulator.driverHints;
  const config: DeviceConfig = {
    id: "dut",
    driver: name,
    transport: `memory://${pairName}${hints.unit === undefined ? "" : `?unit=${hints.unit}`}`,
    ...(hints.channels ? { channels: hints.channels } : {}),
    ...(hints.options ? { options: hints.options } : {}),
  };
  return { device: info.create(config, context), emulator: running };
}

/** Connects `device` and closes it after the test. */
async function connected(device: Device): Promise<Device> {
  await device.connect();
  cleanups.push(() => device.close());
  return device;
}

const drivers = registeredDrivers();

/** Cyclers: sim/cycler, and each real driver whose emulator hints name channels (checked below). */
const isCycler = (info: DriverInfo) =>
  info.simulated
    ? info.name === "sim/cycler"
    : hasEmulator(info.name) && (emulatorInfo(info.name).driverHints.channels?.length ?? 0) > 0;

describe("driver conformance", () => {
  it("covers the simulated drivers and the real chamber drivers at least", () => {
    const names = drivers.map((d) => d.name);
    for (const expected of ["sim/chamber", "sim/cycler", "watlow/f4", "watlow/f4t", "espec/p300"])
      expect(names).toContain(expected);
  });

  for (const info of drivers) {
    it(`${info.name}: connect, read, set, safe state twice, close`, async () => {
      const { device } = await deviceFor(info.name, info.simulated);
      expect(device.driver).toBe(info.name);
      expect(
        device.chamber !== undefined || device.channels.length > 0 || device.temperatureInputs !== undefined,
      ).toBe(true);
      await device.connect();
      let closed = false;
      cleanups.push(async () => {
        if (!closed) await device.close();
      });

      const chamber = device.chamber;
      if (chamber) {
        const [lo, hi] = chamber.ranges.temperatureC;
        expect(lo).toBeLessThan(hi);
        const before = await chamber.read();
        expect(Number.isFinite(before.temperatureC)).toBe(true);
        const target = Math.round((lo + hi) / 2);
        await chamber.setSetpoint(target);
        expect((await chamber.read()).setpointC).toBeCloseTo(target, 1);
        await expect(chamber.setSetpoint(hi + 1)).rejects.toMatchObject({ code: "SETPOINT_OUT_OF_RANGE" });
        await chamber.toSafeState();
        await chamber.toSafeState();
        expect(Number.isFinite((await chamber.read()).temperatureC)).toBe(true);
      }

      const sensors = device.temperatureInputs;
      if (sensors) {
        expect(sensors.inputs.length).toBeGreaterThan(0);
        for (let scan = 0; scan < 2; scan++) {
          const readings = await sensors.scan();
          expect([...readings.keys()].sort()).toEqual([...sensors.inputs].sort());
          for (const reading of readings.values())
            expect(reading.ok && Number.isFinite(reading.temperatureC), JSON.stringify(reading)).toBe(true);
        }
      }

      for (const channel of device.channels) {
        const reading = await channel.read();
        expect(Number.isFinite(reading.voltageV)).toBe(true);
        expect(Number.isFinite(reading.currentA)).toBe(true);
        const { voltageV, currentA } = channel.ranges;
        await channel.apply({
          mode: "cc",
          currentA: currentA[1] * 0.01,
          minV: voltageV[0],
          maxV: voltageV[1],
        });
        expect(Number.isFinite((await channel.read()).currentA)).toBe(true);
        await channel.toSafeState();
        await channel.toSafeState();
      }

      await device.close();
      closed = true;
    });
  }

  describe("cross-cutting checks", () => {
    const real = drivers.filter((d) => !d.simulated);

    it("every real driver's emulator declares the instrument's other units (or why it has none), and each cycler an alarm", async () => {
      for (const info of real) {
        const conformance = emulatorInfo(info.name).conformance;
        expect(conformance, `${info.name}: conformance modes in drivers/emulators/registry.ts`).toBeDefined();
        const { device } = await deviceFor(info.name, false);
        expect(
          device.channels.length > 0,
          `${info.name}: a cycler exactly when its hints name channels`,
        ).toBe(isCycler(info));
        if (isCycler(info)) expect(conformance?.alarm, `${info.name}: an alarm to latch`).toBeDefined();
      }
    });

    for (const info of real) {
      const conformance = hasEmulator(info.name) ? emulatorInfo(info.name).conformance : undefined;
      const otherUnits = conformance && Array.isArray(conformance.otherUnits) ? conformance.otherUnits : [];
      for (const mode of otherUnits) {
        it(`${info.name} in ${mode.what}: ${"refusedWith" in mode ? `refused at connect (${mode.refusedWith})` : "read in SI units"}`, async () => {
          const { device } = await deviceFor(info.name, false, mode.options);
          if ("refusedWith" in mode) {
            cleanups.push(() => device.close());
            await expect(device.connect()).rejects.toMatchObject({ code: mode.refusedWith });
            return;
          }
          await connected(device);
          for (const channel of device.channels) {
            const reading = await channel.read();
            expect(reading.voltageV).toBeGreaterThan(channel.ranges.voltageV[0] - 1);
            expect(reading.voltageV).toBeLessThan(channel.ranges.voltageV[1] + 1);
          }
          // Emulated inputs read 25 °C unless told otherwise: 77 (°F) or 298 (K) would be another unit.
          for (const reading of (await device.temperatureInputs?.scan())?.values() ?? []) {
            expect(reading.ok).toBe(true);
            if (reading.ok) expect(Math.abs(reading.temperatureC - 25)).toBeLessThan(10);
          }
          if (device.chamber) {
            const [lo, hi] = device.chamber.ranges.temperatureC;
            const { temperatureC } = await device.chamber.read();
            expect(temperatureC).toBeGreaterThanOrEqual(lo - 5);
            expect(temperatureC).toBeLessThanOrEqual(hi + 5);
          }
        });
      }

      const alarm = conformance?.alarm;
      if (alarm)
        it(`${info.name}: a latched ${alarm.name} alarm is a device fault naming it, however often it is read`, async () => {
          const { device, emulator } = await deviceFor(info.name, false);
          const channel = (await connected(device)).channels[0];
          if (!channel || !emulator) throw new Error(`${info.name}: a cycler channel and its emulator`);
          await channel.read();
          alarm.trip(emulator);
          for (let i = 0; i < 3; i++)
            await expect(channel.read()).rejects.toMatchObject({
              code: "CYCLER_DEVICE_ALARM",
              message: expect.stringContaining(alarm.name),
            });
        });
    }

    for (const info of drivers.filter(isCycler)) {
      it(`${info.name}: the measured current's sign follows the set direction (+ charge, − discharge)`, async () => {
        const { device } = await deviceFor(info.name, info.simulated);
        await connected(device);
        for (const channel of device.channels) {
          const { voltageV, currentA } = channel.ranges;
          const amps = Math.min(currentA[1], -currentA[0]) * 0.05;
          for (const sign of [1, -1]) {
            await channel.apply({ mode: "cc", currentA: sign * amps, minV: voltageV[0], maxV: voltageV[1] });
            const measured = (await channel.read()).currentA;
            expect(Math.sign(measured), `${info.name}: set ${sign * amps} A, read ${measured} A`).toBe(sign);
          }
          await channel.toSafeState();
        }
      });
    }
  });
});
