// How long the emulated P300 takes to answer this driver, next to the driver's default reply timeout
// (issue 12, finding 7). The emulator models the wire at 9600 8N1 and no device latency. The test
// prints what it measures; it checks only what no machine load can change: no reply comes sooner than
// the model, and the default timeout leaves a wide margin over the model.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { startEspecP300Emulator } from "../../../drivers/emulators/espec-p300-emulator.js";
import { charTimeMs } from "../../../drivers/emulators/link-timing.js";
import { ESPEC_P300_DEFAULT_TIMEOUT_MS, EspecP300 } from "../../../drivers/espec/espec-p300.js";
import { createMemoryPair } from "../../../protocols/index.js";

const BAUD = 9600;
const ADDRESS = 99;
const ROUNDS = 10;

/** The emulator's model of one exchange: both lines with their CR LF, 10 bits a character, no latency. */
function modelledMs(sent: string, reply: string): number {
  return (sent.length + 2 + reply.length + 2) * charTimeMs(BAUD, 10);
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe("espec/p300 turnaround against the default reply timeout", () => {
  it("answers no sooner than the modelled wire time, which the default timeout exceeds many times", async () => {
    const name = `p300-turnaround-${process.pid}`;
    const pair = createMemoryPair({ name });
    cleanups.push(() => pair.dispose());
    const emu = await startEspecP300Emulator({
      listen: pair.device,
      options: { linkTiming: true, baud: BAUD, address: ADDRESS, initialC: 25, alarmLimitsC: [-40, 100] },
      clock: new ScaledClock(1),
    });
    cleanups.push(() => emu.stop());
    const dev = new EspecP300({
      id: "tc3",
      driver: "espec/p300",
      transport: `memory://${name}`,
      options: { address: ADDRESS },
    });
    await dev.connect();
    cleanups.push(() => dev.close());

    const temp: number[] = [];
    const tempModels: number[] = [];
    const standby: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let reading = { temperatureC: 0, setpointC: 0 };
      temp.push(
        await timed(async () => {
          reading = await dev.chamber.read();
        }),
      );
      // The reply as the emulator printed it (one decimal place), so its length is the one on the wire.
      const reply = `${reading.temperatureC.toFixed(1)},${reading.setpointC.toFixed(1)},100.0,-40.0`;
      tempModels.push(modelledMs(`${ADDRESS},TEMP?`, reply));
      standby.push(await timed(() => dev.chamber.toSafeState()));
    }
    const tempModel = median(tempModels);
    const standbyModel = modelledMs(`${ADDRESS},MODE, STANDBY`, "OK:MODE, STANDBY");
    const longestModel = modelledMs(`${ADDRESS},MODE, CONSTANT`, "OK:MODE, CONSTANT");
    console.info(
      `espec/p300 at ${BAUD} baud, RS-485 address ${ADDRESS}: TEMP? measured median ${ms(median(temp))} ` +
        `(max ${ms(Math.max(...temp))}, modelled ${ms(tempModel)}); MODE, STANDBY measured median ` +
        `${ms(median(standby))} (max ${ms(Math.max(...standby))}, modelled ${ms(standbyModel)}); longest ` +
        `exchange modelled ${ms(longestModel)}; default timeout ${ESPEC_P300_DEFAULT_TIMEOUT_MS} ms = ` +
        `${(ESPEC_P300_DEFAULT_TIMEOUT_MS / longestModel).toFixed(0)}× the longest`,
    );
    for (const [i, t] of temp.entries()) expect(t).toBeGreaterThanOrEqual(tempModels[i]!);
    for (const t of standby) expect(t).toBeGreaterThanOrEqual(standbyModel);
    expect(ESPEC_P300_DEFAULT_TIMEOUT_MS / longestModel).toBeGreaterThanOrEqual(50);
  });
});
