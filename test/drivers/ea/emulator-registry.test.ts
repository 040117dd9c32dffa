import { afterEach, describe, expect, it } from "vitest";
import "../../../drivers/all.js";
import { ScaledClock } from "../../../drivers/clock.js";
import { emulatorInfo, type RunningEmulator, startEmulator } from "../../../drivers/emulators/registry.js";
import { createDevice } from "../../../drivers/registry.js";
import { context } from "./emulator-fixtures.js";

const running: RunningEmulator[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
});

describe("cycler emulators in the registry", () => {
  for (const name of ["ea/psb-scpi", "ea/psb-modbus", "itech/it-m3400"]) {
    it(`${name}: starts by name on a loopback port and answers the driver configured from its hints`, async () => {
      const clock = new ScaledClock(20);
      const emulator = await startEmulator(name, { listen: "tcp://127.0.0.1:0", clock });
      running.push(emulator);
      expect(emulator.listen).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const hints = emulatorInfo(name).driverHints;
      const device = createDevice(
        {
          id: "dut",
          driver: name,
          transport: hints.unit === undefined ? emulator.listen : `${emulator.listen}?unit=${hints.unit}`,
          channels: hints.channels,
          options: { ...hints.options, timeoutMs: 500 },
        },
        context(clock),
      );
      await device.connect();
      try {
        const ch = device.channels[0]!;
        await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
        expect((await ch.read()).currentA).toBeCloseTo(1, 1);
        await ch.apply({ mode: "cc", currentA: -1, minV: 2.5, maxV: 4.2 });
        expect((await ch.read()).currentA).toBeCloseTo(-1, 1);
        await ch.toSafeState();
        expect((await ch.read()).currentA).toBeCloseTo(0, 2);
      } finally {
        await device.close();
      }
    });
  }
});
