import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { EaPsbScpi } from "../../../drivers/ea/ea-psb-scpi.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../../drivers/emulators/ea-psb-scpi-emulator.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { context, deviceConfig, memoryLink } from "./emulator-fixtures.js";

/**
 * The PSB in its other modes (issue 12): with a latched alarm (finding 4) and answering in kW
 * (finding 6), against the real driver over a memory pair.
 */
describe("ea/psb-scpi against its emulator in the instrument's other modes", () => {
  let emulator: EaPsbScpiEmulator | undefined;
  let psb: EaPsbScpi | undefined;
  let pair: MemoryPair | undefined;

  async function setup(
    options: Record<string, unknown>,
  ): Promise<{ psb: EaPsbScpi; emulator: EaPsbScpiEmulator }> {
    const clock = new ScaledClock(20);
    const link = memoryLink();
    pair = link.pair;
    emulator = await startEaPsbScpiEmulator({ listen: pair.device, clock, options });
    psb = new EaPsbScpi(
      deviceConfig("ea/psb-scpi", link.url, { timeoutMs: 500, retryMs: 50 }),
      context(clock),
    );
    await psb.connect();
    return { psb, emulator };
  }

  afterEach(async () => {
    await psb?.close().catch(() => undefined);
    await emulator?.stop();
    await pair?.dispose();
    psb = undefined;
    emulator = undefined;
    pair = undefined;
  });

  it("an alarm latched before connect is a fault naming it on every read, and stays until acknowledged at the panel", async () => {
    const { psb, emulator } = await setup({ alarm: "OVP" });
    const ch = psb.channels[0]!;
    for (let i = 0; i < 3; i++)
      await expect(ch.read()).rejects.toMatchObject({
        code: "CYCLER_DEVICE_ALARM",
        message: expect.stringContaining("OVP"),
      });
    await expect(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
      code: "CYCLER_DEVICE_ALARM",
    });
    await ch.toSafeState();
    expect(emulator.alarms).toEqual(["OVP"]);
    expect(emulator.outputOn).toBe(false);
    emulator.acknowledgeAtPanel();
    expect((await ch.read()).voltageV).toBeGreaterThan(3);
  });

  it("a power fail during a charge is reported by name, and applying again does not acknowledge it", async () => {
    const { psb, emulator } = await setup({ initialSoc: 0.5 });
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect((await ch.read()).currentA).toBeCloseTo(1, 2);
    emulator.tripAlarm("PF");
    await expect(ch.read()).rejects.toMatchObject({
      code: "CYCLER_DEVICE_ALARM",
      message: expect.stringContaining("PF"),
    });
    await expect(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
      code: "CYCLER_DEVICE_ALARM",
    });
    await expect(ch.read()).rejects.toMatchObject({ message: expect.stringContaining("PF") });
    expect(emulator.alarms).toEqual(["PF"]);
    expect(emulator.outputOn).toBe(false);
  });

  it("a PSB answering in kW is read in W", async () => {
    const { psb } = await setup({
      powerUnit: "kW",
      model: "PSB 10060-360",
      nominal: { voltageV: 60, currentA: 360, powerW: 15_000 },
    });
    const ch = psb.channels[0]!;
    expect(ch.ranges.powerW).toBe(15_000);
    await ch.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
    const reading = await ch.read();
    expect(reading.currentA).toBeCloseTo(-3, 1);
    expect(reading.voltageV).toBeGreaterThan(3);
  });
});
