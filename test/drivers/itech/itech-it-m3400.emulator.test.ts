import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  type ItechItM3400Emulator,
  startItechItM3400Emulator,
} from "../../../drivers/emulators/itech-it-m3400-emulator.js";
import { ItechItM3400 } from "../../../drivers/itech/itech-it-m3400.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually, rejection } from "../../support/wait.js";
import { context, deviceConfig, memoryLink, readUntil } from "../ea/emulator-fixtures.js";

describe("itech/it-m3400 against its emulator", () => {
  let pty: PtyPair | undefined;
  let pair: MemoryPair | undefined;
  let emulator: ItechItM3400Emulator | undefined;
  let it3400: ItechItM3400 | undefined;

  afterEach(async () => {
    await it3400?.close().catch(() => undefined);
    await emulator?.stop();
    await pty?.stop();
    await pair?.dispose();
    it3400 = undefined;
    emulator = undefined;
    pty = undefined;
    pair = undefined;
  });

  async function overPty(speed: number, initialSoc: number): Promise<void> {
    pty = await startPtyPair();
    const clock = new ScaledClock(speed);
    emulator = await startItechItM3400Emulator({
      listen: `serial://${pty.b}?baud=115200`,
      clock,
      options: { initialSoc },
    });
    // A generous reply timeout: beside other load the emulator and socat answer late, not wrongly.
    it3400 = new ItechItM3400(
      deviceConfig("itech/it-m3400", `serial://${pty.a}?baud=115200`, { timeoutMs: 2000, retryMs: 100 }),
      context(clock),
    );
    await it3400.connect();
  }

  it("over a pty: CC discharge to the low clamp, CV taper, a stepped profile, safe state", async () => {
    await overPty(1000, 0.3);
    const ch = it3400!.channels[0]!;
    expect(emulator!.remote).toBe(true);
    await ch.apply({ mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 });
    const discharge = await readUntil(ch, (r) => r.voltageV <= 2.501, "the 2.5 V clamp");
    expect(discharge[0]!.currentA).toBeCloseTo(-6, 3);
    expect(emulator!.settings).toMatchObject({ func: "CURR", currentA: -6, lowV: 2.5, highV: 4.2 });

    await ch.apply({ mode: "cccv", currentA: 3, voltageV: 3.8 });
    expect(emulator!.settings).toMatchObject({ func: "VOLT", voltageV: 3.8, positiveA: 3, negativeA: 0 });
    const taper = await readUntil(ch, (r) => r.voltageV >= 3.799 && r.currentA < 0.3, "the CV taper");
    expect(taper.some((r) => r.currentA > 2.99)).toBe(true);
    expect(Math.min(...taper.map((r) => r.currentA))).toBeGreaterThanOrEqual(0);

    await ch.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: 1 },
        { tS: 20, currentA: -1 },
        { tS: 40, currentA: 0.25 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    await eventually(() => !ch.steppingProfile, "the profile's last point");
    expect(emulator!.settings).toMatchObject({ func: "CURR", currentA: 0.25 });
    expect((await ch.read()).currentA).toBeCloseTo(0.25, 3);
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });

  it("over a memory pair: every SCPI fault knob gives a typed error and the channel ends in safe state", async () => {
    const link = memoryLink();
    pair = link.pair;
    const clock = new ScaledClock(20);
    emulator = await startItechItM3400Emulator({ listen: pair.device, clock });
    it3400 = new ItechItM3400(
      deviceConfig("itech/it-m3400", link.url, { timeoutMs: 200, retryMs: 50 }),
      context(clock),
    );
    await it3400.connect();
    const ch = it3400.channels[0]!;
    const cases: Array<[Record<string, unknown>, string, "read" | "apply"]> = [
      [{ timeout: { next: 1 } }, "SCPI_TIMEOUT", "read"],
      [{ garbage: { next: 1 } }, "SCPI_BAD_REPLY", "read"],
      [{ lateReply: { next: 1, delayMs: 300 } }, "SCPI_TIMEOUT", "read"],
      [{ error: { next: 1 } }, "SCPI_DEVICE_ERROR", "apply"],
      [{ disconnect: { next: 1, forMs: 300 } }, "SCPI_TIMEOUT", "read"],
    ];
    for (const [knob, code, call] of cases) {
      await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
      emulator.faults.set(knob);
      const err = await rejection(
        call === "read"
          ? ch.read()
          : ch.apply({ mode: "cv", voltageV: 3.9, chargeLimitA: 0.5, dischargeLimitA: 0.5 }),
      );
      expect(err.code, `${JSON.stringify(knob)}: ${err.message}`).toBe(code);
      if (knob.disconnect) await new Promise((resolve) => setTimeout(resolve, 350));
      const reading = await ch.read();
      expect(reading.currentA).toBeCloseTo(emulator.supply.measure().currentA, 2);
      await ch.toSafeState();
      expect(emulator.outputOn).toBe(false);
    }
  });

  it("unplug and replug the pty: output-unknown meanwhile, then remote and output off again", async () => {
    await overPty(50, 0.5);
    const ch = it3400!.channels[0]!;
    await ch.apply({ mode: "cv", voltageV: 3.9, chargeLimitA: 1, dischargeLimitA: 2 });
    expect(emulator!.outputOn).toBe(true);
    await pty!.unplug();
    await eventually(() => it3400!.linkState === "link-down", "the lost link");
    expect((await rejection(ch.read())).code).toBe("CYCLER_OUTPUT_UNKNOWN");
    await pty!.replug();
    await it3400!.session.whenReady(15_000);
    expect(emulator!.outputOn).toBe(false);
    // The function is written again: nothing cached survives a lost link.
    const before = emulator!.commands.length;
    await ch.apply({ mode: "cv", voltageV: 3.9, chargeLimitA: 1, dischargeLimitA: 2 });
    expect(emulator!.commands.slice(before).filter((c) => !c.startsWith("SYST:ERR"))).toEqual([
      "FUNC VOLT",
      "VOLT 3.9",
      "CURR:LIM:POS 1",
      "CURR:LIM:NEG -2",
      "OUTP ON",
    ]);
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });
});
