import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  type ItechItM3400Emulator,
  startItechItM3400Emulator,
} from "../../../drivers/emulators/itech-it-m3400-emulator.js";
import { ItechItM3400 } from "../../../drivers/itech/itech-it-m3400.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { context, deviceConfig, memoryLink } from "../ea/emulator-fixtures.js";

/**
 * The IT-M3400 in its other modes (issue 12, findings 4 and 5): a power limit left on it, a protection
 * tripped, remote sense by its documented header, the other current sign; against the real driver.
 */
describe("itech/it-m3400 against its emulator in the instrument's other modes", () => {
  let emulator: ItechItM3400Emulator | undefined;
  let it3400: ItechItM3400 | undefined;
  let pair: MemoryPair | undefined;

  async function setup(
    options: Record<string, unknown>,
    driverOptions: Record<string, unknown> = {},
  ): Promise<{ it3400: ItechItM3400; emulator: ItechItM3400Emulator }> {
    const clock = new ScaledClock(20);
    const link = memoryLink();
    pair = link.pair;
    emulator = await startItechItM3400Emulator({ listen: pair.device, clock, options });
    it3400 = new ItechItM3400(
      deviceConfig("itech/it-m3400", link.url, { timeoutMs: 500, retryMs: 50, ...driverOptions }),
      context(clock),
    );
    await it3400.connect();
    return { it3400, emulator };
  }

  afterEach(async () => {
    await it3400?.close().catch(() => undefined);
    await emulator?.stop();
    await pair?.dispose();
    it3400 = undefined;
    emulator = undefined;
    pair = undefined;
  });

  it("lifts a power limit left on the instrument, so a 6 A discharge is not capped", async () => {
    const { it3400, emulator } = await setup({ powerLimitW: 10, initialSoc: 0.6 });
    const ch = it3400.channels[0]!;
    await ch.apply({ mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 });
    expect((await ch.read()).currentA).toBeCloseTo(-6, 2);
    expect(emulator.settings).toMatchObject({ powerPositiveW: 800, powerNegativeW: -800 });
  });

  it("switches remote sense with SENS:REM, the documented header", async () => {
    const { emulator } = await setup({}, { remoteSense: "on" });
    expect(emulator.remoteSense).toBe(true);
  });

  it("a tripped protection is a fault naming it on every read, and is never cleared by the driver", async () => {
    const { it3400, emulator } = await setup({ protection: "OVP" });
    const ch = it3400.channels[0]!;
    for (let i = 0; i < 3; i++)
      await expect(ch.read()).rejects.toMatchObject({
        code: "CYCLER_DEVICE_ALARM",
        message: expect.stringContaining("OVP"),
      });
    await expect(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
      code: "SCPI_DEVICE_ERROR",
    });
    await expect(ch.read()).rejects.toMatchObject({ code: "CYCLER_DEVICE_ALARM" });
    expect(emulator.tripped).toEqual(["OVP"]);
    expect(emulator.outputOn).toBe(false);
  });

  it("an instrument reporting sink current as positive is refused at the first reading", async () => {
    const { it3400 } = await setup({ currentSign: "sink-positive", initialSoc: 0.6 });
    const ch = it3400.channels[0]!;
    await ch.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
    await expect(ch.read()).rejects.toMatchObject({ code: "CYCLER_CURRENT_SIGN" });
  });
});
