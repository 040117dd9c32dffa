/**
 * Measures how fast the simulated world advances: µs of CPU per simulated second, for one cell and
 * for an 8-channel cycler in one chamber, stepping 100 simulated hours in 1 s steps (as a dry run does).
 * Run: npx tsx test/drivers/sim/measure-advance.ts
 */
import type { CyclerChannel, DriverContext } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { createDevice } from "../../../drivers/registry.js";
import "../../../drivers/sim/register.js";
import type { SimCycler } from "../../../drivers/sim/sim-cycler.js";

const HOURS = 100;
const STEPS = HOURS * 3600;

async function measure(channels: number, viaReads: boolean): Promise<number> {
  const clock = new VirtualClock();
  const context: DriverContext = { clock, chamberOfChannel: () => "tc1" };
  const ids = Array.from({ length: channels }, (_, k) => `ch${k + 1}`);
  const cycler = createDevice({ id: "cy", driver: "sim/cycler", channels: ids }, context) as SimCycler;
  const chamber = createDevice({ id: "tc1", driver: "sim/chamber", options: { initialC: 25 } }, context);
  await cycler.connect();
  await chamber.connect();
  // Alternate CC-CV charges and CC discharges so every mode path and the clamps are exercised.
  const cycle = async (ch: CyclerChannel, k: number) =>
    ch.apply(
      k % 2 === 0
        ? { mode: "cccv", currentA: 1.5, voltageV: 4.2 }
        : { mode: "cc", currentA: -1.5, minV: 2.5, maxV: 4.2 },
    );
  const start = performance.now();
  for (let s = 1; s <= STEPS; s++) {
    if (s % 14_400 === 1) for (const ch of cycler.channels) await cycle(ch, Math.floor(s / 14_400));
    if (viaReads) {
      await clock.advanceTo(s * 1000);
      for (const ch of cycler.channels) await ch.read();
    } else {
      cycler.world.advanceTo(s * 1000);
    }
  }
  const elapsedMs = performance.now() - start;
  return (elapsedMs * 1000) / STEPS;
}

for (const [channels, viaReads] of [
  [1, false],
  [8, false],
  [1, true],
  [8, true],
] as const) {
  const us = await measure(channels, viaReads);
  console.log(
    `${channels} cell(s) + chamber, ${viaReads ? "clock.advanceTo + read() each channel" : "world.advanceTo only"}: ` +
      `${us.toFixed(3)} µs per simulated second (${HOURS} h in ${((us * STEPS) / 1e6).toFixed(2)} s)`,
  );
}
