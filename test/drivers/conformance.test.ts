// One suite over every registered driver (pymeasure's test_all_instruments): connect, read, set,
// safe state twice, close. Simulated drivers run directly; real drivers run against their wire-level
// emulator over an in-memory pair. A real driver registered without an emulator fails here, by name.
import { afterEach, describe, expect, it } from "vitest";
import "../../drivers/all.js";
import type { Device, DeviceConfig, DriverContext } from "../../drivers/capabilities.js";
import { VirtualClock } from "../../drivers/clock.js";
import { emulatorInfo, hasEmulator, type RunningEmulator } from "../../drivers/emulators/registry.js";
import { registeredDrivers } from "../../drivers/registry.js";
import { createMemoryPair, type MemoryPair } from "../../protocols/index.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let pairs = 0;

/** Creates the device for a driver: directly when simulated, else against its emulator on a memory pair. */
async function deviceFor(name: string, simulated: boolean): Promise<Device> {
  const info = registeredDrivers().find((d) => d.name === name)!;
  const context: DriverContext = { clock: new VirtualClock(), chamberOfChannel: () => undefined };
  if (simulated) return info.create({ id: "dut", driver: name, channels: ["ch1"] }, context);
  if (!hasEmulator(name))
    throw new Error(
      `real driver "${name}" has no emulator: add one to drivers/emulators/registry.ts so the conformance suite can run it`,
    );
  const emulator = emulatorInfo(name);
  const pairName = `conformance-${process.pid}-${++pairs}`;
  const pair: MemoryPair = createMemoryPair({ name: pairName });
  cleanups.push(() => pair.dispose());
  const start = await emulator.load();
  const running: RunningEmulator = await start({ listen: pair.device });
  cleanups.push(() => running.stop());
  const hints = emulator.driverHints;
  const config: DeviceConfig = {
    id: "dut",
    driver: name,
    transport: `memory://${pairName}${hints.unit === undefined ? "" : `?unit=${hints.unit}`}`,
    ...(hints.channels ? { channels: hints.channels } : {}),
    ...(hints.options ? { options: hints.options } : {}),
  };
  return info.create(config, context);
}

const drivers = registeredDrivers();

describe("driver conformance", () => {
  it("covers the simulated drivers and the real chamber drivers at least", () => {
    const names = drivers.map((d) => d.name);
    for (const expected of ["sim/chamber", "sim/cycler", "watlow/f4", "watlow/f4t", "espec/p300"])
      expect(names).toContain(expected);
  });

  for (const info of drivers) {
    it(`${info.name}: connect, read, set, safe state twice, close`, async () => {
      const device = await deviceFor(info.name, info.simulated);
      expect(device.driver).toBe(info.name);
      expect(device.chamber !== undefined || device.channels.length > 0).toBe(true);
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
});
