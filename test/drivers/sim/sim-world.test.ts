import { describe, expect, it } from "vitest";
import type { Device, DriverContext } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { createDevice } from "../../../drivers/registry.js";
import type { SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import { MAX_SUB_STEP_S, READ_STALENESS_MS, worldOf } from "../../../drivers/sim/sim-world.js";
import "../../../drivers/sim/register.js";
import { NMC_3AH } from "./sim-fixture.js";

/** A bench as the daemon builds it: one context object per device, one shared clock. */
async function bench(chamberIds: string[], channelChamber: string | undefined, chamberTemps: number[]) {
  const clock = new VirtualClock();
  const ctx = (): DriverContext => ({ clock, chamberOfChannel: () => channelChamber });
  const cycler = createDevice(
    { id: "cy", driver: "sim/cycler", channels: ["ch1"], options: { cell: NMC_3AH } },
    ctx(),
  );
  const chambers: Device[] = chamberIds.map((id, k) =>
    createDevice({ id, driver: "sim/chamber", options: { initialC: chamberTemps[k] } }, ctx()),
  );
  for (const d of [cycler, ...chambers]) await d.connect();
  return { clock, channel: cycler.channels[0] as SimCyclerChannel, chambers };
}

describe("sim world", () => {
  it("is shared by contexts with one clock and separate across clocks", () => {
    const clock = new VirtualClock();
    const a: DriverContext = { clock, chamberOfChannel: () => undefined };
    const b: DriverContext = { clock, chamberOfChannel: () => undefined };
    const c: DriverContext = { clock: new VirtualClock(), chamberOfChannel: () => undefined };
    expect(worldOf(a)).toBe(worldOf(b));
    expect(worldOf(a)).toBe(worldOf(a));
    expect(worldOf(c)).not.toBe(worldOf(a));
  });

  it("couples a cell to the chamber named by the context, across device contexts", async () => {
    const { clock, channel } = await bench(["tc1", "tc2"], "tc2", [0, 50]);
    await clock.advanceTo(3 * 3600 * 1000);
    expect((await channel.read()).temperatureC).toBeCloseTo(50, 3);
  });

  it("falls back to the only sim chamber when the bench chamber id differs from its device id", async () => {
    const { clock, channel } = await bench(["sim-chamber"], "chamber", [-10]);
    // The cell starts at the air temperature of its chamber.
    expect((await channel.read()).temperatureC).toBeCloseTo(-10, 9);
    await clock.advanceTo(3600 * 1000);
    expect((await channel.read()).temperatureC).toBeCloseTo(-10, 6);
  });

  it("puts a cell in no chamber (or an unknown one among several) in 25 °C air", async () => {
    const none = await bench(["tc1"], undefined, [60]);
    await none.clock.advanceTo(3 * 3600 * 1000);
    expect((await none.channel.read()).temperatureC).toBeCloseTo(25, 6);
    const unknown = await bench(["tc1", "tc2"], "tc9", [60, 70]);
    await unknown.clock.advanceTo(3 * 3600 * 1000);
    expect((await unknown.channel.read()).temperatureC).toBeCloseTo(25, 6);
  });

  it("lets reads less than READ_STALENESS_MS apart share one integration; commands always integrate", async () => {
    const { clock, channel } = await bench(["tc1"], "tc1", [25]);
    const world = worldOf({ clock, chamberOfChannel: () => "tc1" });
    await channel.read();
    const t0 = world.timeMs;
    await clock.advanceBy(READ_STALENESS_MS / 2);
    await channel.read();
    expect(world.timeMs).toBe(t0);
    await channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect(world.timeMs).toBe(clock.now());
    await clock.advanceBy(READ_STALENESS_MS);
    await channel.read();
    expect(world.timeMs).toBe(clock.now());
  });

  it("integrates in lockstep sub-steps of at most 1 s however rarely it is read", async () => {
    const run = async (readEveryS: number) => {
      const { clock, channel, chambers } = await bench(["tc1"], "tc1", [25]);
      await chambers[0]?.chamber?.setSetpoint(45);
      await channel.apply({ mode: "cccv", currentA: 3, voltageV: 4.2 });
      for (let t = readEveryS; t <= 4 * 3600; t += readEveryS) {
        await clock.advanceTo(t * 1000);
        await channel.read();
      }
      expect(channel.device.world.stepS).toBeLessThanOrEqual(MAX_SUB_STEP_S);
      return channel.cell;
    };
    const often = await run(1);
    const rarely = await run(1800);
    expect(rarely.soc).toBeCloseTo(often.soc, 9);
    expect(rarely.temperatureC).toBeCloseTo(often.temperatureC, 9);
    expect(rarely.voltageV).toBeCloseTo(often.voltageV, 9);
  });

  it("stops advancing a closed device and resumes it on connect", async () => {
    const { clock, channel } = await bench([], undefined, []);
    await channel.apply({ mode: "cc", currentA: 3, minV: 2.5, maxV: 4.2 });
    await clock.advanceTo(600_000);
    await channel.read();
    const soc = channel.cell.soc;
    await channel.device.close();
    await clock.advanceTo(1_200_000);
    expect(channel.cell.soc).toBe(soc);
    await channel.device.connect();
    await clock.advanceTo(1_800_000);
    await channel.read();
    expect(channel.cell.soc).toBeCloseTo(soc + (3 * 600) / (3 * 3600), 9);
  });

  it("advances cheaply: 100 simulated hours of a cell in a chamber at 1 s steps in well under 5 s", async () => {
    const { clock, channel } = await bench(["tc1"], "tc1", [25]);
    await channel.apply({ mode: "cccv", currentA: 1.5, voltageV: 4.2 });
    const world = channel.device.world;
    const start = performance.now();
    for (let s = 1; s <= 100 * 3600; s++) world.advanceTo(s * 1000);
    const elapsedMs = performance.now() - start;
    expect(world.timeMs).toBe(100 * 3600 * 1000);
    expect(clock.now()).toBe(0);
    expect(elapsedMs).toBeLessThan(5000);
  });
});
