// How long the emulated F4 takes to answer this driver, next to the driver's default reply timeout
// (issue 12, finding 7). The emulator models 11-bit characters, t3.5 and a 30 ms device turnaround.
// The test prints what it measures; it checks only what no machine load can change: no reply comes
// sooner than the model, the default timeout leaves a wide margin over the model, and a dead F4 holds
// its RS-485 line (timeout plus the quiet period after it) for less than the shortest default watchdog.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  charTimeMs,
  frameSilenceMs,
  idealReadTransactionMs,
} from "../../../drivers/emulators/link-timing.js";
import { startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { WATLOW_F4_DEFAULT_TIMEOUT_MS, WatlowF4 } from "../../../drivers/watlow/watlow-f4.js";
import { createMemoryPair } from "../../../protocols/index.js";
import { defaultWatchdogMs } from "../../../src/safety/watchdog.js";

const TURNAROUND_MS = 30;
const ROUNDS = 10;
/** The quiet period a Modbus line keeps after a timeout: min(timeout, 250 ms) (protocols/modbus/modbus-bus.ts). */
const DRAIN_CAP_MS = 250;

/** The emulator's model of one transaction: request, t3.5, turnaround, reply (modbus-line.ts). */
function modelledMs(baud: number, requestBytes: number, replyBytes: number): number {
  return (requestBytes + replyBytes) * charTimeMs(baud, 11) + frameSilenceMs(baud) + TURNAROUND_MS;
}

/** The slowest transaction the driver makes: the 3-register read of 606..608 at connect. */
function slowestModelMs(baud: number): number {
  // The spec's ideal FC03 transaction counts t3.5 after both frames; the emulator waits one before replying.
  return idealReadTransactionMs(baud, 3) - frameSilenceMs(baud) + TURNAROUND_MS;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe("watlow/f4 turnaround against the default reply timeout", () => {
  it.each([9600, 19200])(
    "at %i baud answers no sooner than the model, which the default timeout exceeds many times",
    async (baud) => {
      const name = `f4-turnaround-${process.pid}-${baud}`;
      const pair = createMemoryPair({ name });
      cleanups.push(() => pair.dispose());
      const emu = await startWatlowF4Emulator({
        listen: pair.device,
        options: { linkTiming: true, baud, turnaroundMs: TURNAROUND_MS },
        clock: new ScaledClock(1),
      });
      cleanups.push(() => emu.stop());
      // No pause between transactions: each set point write is timed alone.
      const dev = new WatlowF4({
        id: "tc1",
        driver: "watlow/f4",
        transport: `memory://${name}?unit=1`,
        options: { minGapMs: 0 },
      });
      await dev.connect();
      cleanups.push(() => dev.close());

      const writes: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        await dev.chamber.setSetpoint(20 + i);
        writes.push(performance.now() - start);
      }
      // FC06: an 8-byte request answered by its 8-byte echo.
      const writeModel = modelledMs(baud, 8, 8);
      const slowest = slowestModelMs(baud);
      console.info(
        `watlow/f4 at ${baud} baud: FC06 write measured median ${ms(median(writes))} (max ` +
          `${ms(Math.max(...writes))}, modelled ${ms(writeModel)}); slowest transaction (FC03 n=3) ` +
          `modelled ${ms(slowest)}; default timeout ${WATLOW_F4_DEFAULT_TIMEOUT_MS} ms = ` +
          `${(WATLOW_F4_DEFAULT_TIMEOUT_MS / slowest).toFixed(1)}× the slowest`,
      );
      for (const t of writes) expect(t).toBeGreaterThanOrEqual(writeModel);
      expect(WATLOW_F4_DEFAULT_TIMEOUT_MS / slowest).toBeGreaterThanOrEqual(8);
    },
  );

  it("takes a default inside the window: 8× the slowest modelled transaction at 9600 baud, and a dead F4 holding its line for less than the shortest default watchdog", () => {
    expect(WATLOW_F4_DEFAULT_TIMEOUT_MS).toBeGreaterThanOrEqual(8 * slowestModelMs(9600));
    const held = WATLOW_F4_DEFAULT_TIMEOUT_MS + Math.min(WATLOW_F4_DEFAULT_TIMEOUT_MS, DRAIN_CAP_MS);
    expect(held).toBeLessThan(defaultWatchdogMs(0));
  });
});
