// watlow/f4 against its wire-level emulator: over a real socat pty (set point changes to completion,
// unplug/replug, two controllers on one RS-485 line) and over a memory pair (every fault knob).
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { WatlowF4 } from "../../../drivers/watlow/watlow-f4.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { createMemoryPair } from "../../../protocols/index.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually, rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function pty(): Promise<PtyPair> {
  const pair = await startPtyPair();
  cleanups.push(() => pair.stop());
  return pair;
}

async function emulator(
  listen: Parameters<typeof startWatlowF4Emulator>[0]["listen"],
  options = {},
  speed = 1,
) {
  const emu = await startWatlowF4Emulator({ listen, options, clock: new ScaledClock(speed) });
  cleanups.push(() => emu.stop());
  return emu;
}

async function connected(
  transport: string,
  options: Record<string, unknown> = {},
  id = "tc1",
  links: string[] = [],
): Promise<WatlowF4> {
  const dev = new WatlowF4(
    { id, driver: "watlow/f4", transport, options: { retryMs: 100, ...options } },
    { reportLink: (device, event) => links.push(`${device} ${event.kind}`) },
  );
  await dev.connect();
  cleanups.push(() => dev.close());
  return dev;
}

let pairs = 0;
async function memoryBench(
  emulatorOptions: Record<string, unknown> = {},
  driverOptions: Record<string, unknown> = {},
) {
  const name = `f4-emulated-${process.pid}-${++pairs}`;
  const pair = createMemoryPair({ name });
  cleanups.push(() => pair.dispose());
  const emu = await emulator(pair.device, emulatorOptions, 60);
  const dev = await connected(`memory://${name}?unit=1`, { minGapMs: 0, timeoutMs: 100, ...driverOptions });
  return { pair, emu, dev };
}

describe("watlow/f4 against its emulator", () => {
  it("drives set point changes to completion over a socat pty, with link timing and the 30 ms pause honoured", async () => {
    const p = await pty();
    const emu = await emulator(
      `serial://${p.b}?baud=19200`,
      { linkTiming: true, turnaroundMs: 30, minRequestGapMs: 30, initialC: 22 },
      1500,
    );
    // A generous reply timeout: beside other load the emulator and socat answer late, not wrongly.
    const dev = await connected(`serial://${p.a}?baud=19200&unit=1`, { timeoutMs: 2000 });
    for (const target of [40, -10]) {
      await dev.chamber.setSetpoint(target);
      let last = Number.NaN;
      await eventually(
        async () => {
          const r = await dev.chamber.read();
          expect(r.setpointC).toBe(target);
          last = r.temperatureC;
          return Math.abs(r.temperatureC - target) <= 0.3;
        },
        `the chamber to reach ${target} °C (last ${last} °C)`,
        30_000,
      );
    }
    expect(emu.line.stats).toMatchObject({ tooSoon: 0, badFrames: 0 });
    expect(emu.device().eepromWrites).toBe(0);
  }, 60_000);

  it("answers every fault knob with a typed error, never a crash, and recovers without a mismatched reply", async () => {
    // A reply timeout plain reads keep to on a loaded machine (100 ms was exceeded); the late reply and
    // the cut outlast it, and the late reply comes within the 250 ms drain that follows a timeout.
    const { emu, dev } = await memoryBench({}, { timeoutMs: 1000 });
    await dev.chamber.setSetpoint(37.5);
    const device = emu.device();
    const expectations: Array<[Record<string, unknown>, readonly string[]]> = [
      [{ timeout: { next: 1 } }, ["MODBUS_TIMEOUT"]],
      [{ badCrc: { next: 1 } }, ["MODBUS_CRC_ERROR"]],
      [{ garbage: { next: 1, bytes: 9 } }, ["MODBUS_TIMEOUT", "MODBUS_CRC_ERROR", "MODBUS_BAD_FRAME"]],
      [{ wrongUnit: { next: 1 } }, ["MODBUS_TIMEOUT"]],
      [{ exception: { next: 1, code: 6 } }, ["MODBUS_EXCEPTION"]],
      [{ lateReply: { next: 1, delayMs: 1100 } }, ["MODBUS_TIMEOUT"]],
      [{ disconnect: { next: 1, forMs: 1500 } }, ["MODBUS_TIMEOUT"]],
    ];
    for (const [knob, codes] of expectations) {
      device.faults.set(knob);
      const err = await rejection(dev.chamber.read());
      expect(err, JSON.stringify(knob)).toBeInstanceOf(CellbenchError);
      expect(codes, `${JSON.stringify(knob)} gave ${err.code}: ${err.message}`).toContain(err.code);
      await eventually(
        async () => {
          try {
            await dev.chamber.read();
            return true;
          } catch {
            return false;
          }
        },
        `recovery after ${JSON.stringify(knob)}`,
      );
      for (let i = 0; i < 5; i++) {
        const r = await dev.chamber.read();
        expect(r.setpointC).toBe(37.5);
        expect(r.temperatureC).toBeGreaterThanOrEqual(21.9);
        expect(r.temperatureC).toBeLessThanOrEqual(37.6);
        expect(r.outputPct).toBeGreaterThanOrEqual(0);
      }
    }
    expect(Object.keys(device.faults.fired).sort()).toEqual(
      ["badCrc", "disconnect", "exception", "garbage", "lateReply", "timeout", "wrongUnit"].sort(),
    );
  }, 30_000);

  it("keeps every reading consistent under random faults (probability 0.05 per knob)", async () => {
    const { emu, dev } = await memoryBench();
    await dev.chamber.setSetpoint(-12.3);
    emu.device().faults.set({
      seed: 7,
      timeout: { probability: 0.05 },
      badCrc: { probability: 0.05 },
      wrongUnit: { probability: 0.05 },
      lateReply: { probability: 0.05, delayMs: 150 },
    });
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 100; i++) {
      try {
        const r = await dev.chamber.read();
        expect(r.setpointC).toBe(-12.3);
        expect(r.outputPct).toBe(0);
        ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(CellbenchError);
        failed++;
      }
    }
    expect(ok).toBeGreaterThan(40);
    expect(failed).toBeGreaterThan(3);
  }, 60_000);

  it("fails fast on unplug, then re-reads the decimals and re-applies the set point after replug", async () => {
    const p = await pty();
    const emu = await emulator(`serial://${p.b}?baud=19200`, { decimals: 1 });
    const links: string[] = [];
    const dev = await connected(`serial://${p.a}?baud=19200&unit=1`, { minGapMs: 0 }, "tc1", links);
    await dev.chamber.setSetpoint(35);
    expect(links).toEqual([]);
    await p.unplug();
    await eventually(() => dev.linkState === "link-down", "the driver to see the unplug");
    const started = performance.now();
    expect((await rejection(dev.chamber.read())).code).toBe("CHAMBER_LINK_DOWN");
    expect((await rejection(dev.chamber.setSetpoint(36))).code).toBe("CHAMBER_LINK_DOWN");
    expect(performance.now() - started).toBeLessThan(50);
    // Meanwhile the controller was power-cycled and reconfigured: volatile set point lost, two decimals.
    emu.device().decimals = 2;
    emu.device().chamber.setSetpoint(22);
    await p.replug();
    await eventually(() => dev.linkState === "ready", "re-identification after replug", 15_000);
    expect(dev.chamber.decimals).toBe(2);
    expect(emu.device().chamber.state().setpointC).toBeCloseTo(35, 5);
    expect((await dev.chamber.read()).setpointC).toBe(35);
    expect(emu.device().eepromWrites).toBe(0);
    expect(links).toEqual(["tc1 lost", "tc1 restored"]);
  }, 30_000);

  it("never writes register 25 (save to EEPROM), whatever the driver is asked to do", async () => {
    // No fault knob here: a generous reply timeout, so a loaded machine cannot fail a read.
    const { pair, emu, dev } = await memoryBench({}, { timeoutMs: 2000 });
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        celsius: fc.double({ min: -40, max: 110, noNaN: true }),
      }),
      fc.record({ kind: fc.constant("safe" as const) }),
      fc.record({ kind: fc.constant("read" as const) }),
      fc.record({ kind: fc.constant("replug" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        for (const o of ops) {
          if (o.kind === "set") await dev.chamber.setSetpoint(o.celsius);
          else if (o.kind === "safe") await dev.chamber.toSafeState();
          else if (o.kind === "read") await dev.chamber.read();
          else {
            pair.unplug();
            await eventually(() => dev.linkState === "link-down", "unplug");
            pair.plug();
            await eventually(() => dev.linkState === "ready", "replug");
          }
        }
        expect(emu.device().writes.filter((w) => w.address === 25)).toEqual([]);
      }),
      { numRuns: 25 },
    );
    expect(emu.device().writes.length).toBeGreaterThan(10);
    expect(emu.device().writes.every((w) => w.address === 300)).toBe(true);
  }, 60_000);

  it("polls two F4 controllers on one emulated RS-485 line concurrently: 10,000 transactions, no mix-ups", async () => {
    const p = await pty();
    const emu = await emulator(`serial://${p.b}?baud=115200`, { unit: [1, 2] }, 20);
    // The 30 ms pause per controller is left out here (minGapMs 0) so 10,000 transactions take seconds.
    // A generous reply timeout: beside other load one transaction in 10,000 can take over 500 ms.
    const options = { minGapMs: 0, timeoutMs: 2000 };
    const f4a = await connected(`serial://${p.a}?baud=115200&unit=1`, options, "tc-a");
    const f4b = await connected(`serial://${p.a}?baud=115200&unit=2`, options, "tc-b");
    await f4a.chamber.setSetpoint(30);
    await f4b.chamber.setSetpoint(-10);
    const requestsBefore = emu.line.stats.requests;
    let reads = 0;
    const target = 10_000;
    const poll = async (dev: WatlowF4, setpoint: number, band: [number, number], heating: boolean) => {
      while ((reads + 1) * 3 <= target - 3) {
        reads++;
        const r = await dev.chamber.read();
        expect(r.setpointC).toBe(setpoint);
        expect(r.temperatureC).toBeGreaterThanOrEqual(band[0]);
        expect(r.temperatureC).toBeLessThanOrEqual(band[1]);
        if (!heating) expect(r.outputPct).toBe(0);
      }
    };
    await Promise.all([
      poll(f4a, 30, [21.9, 30.1], true),
      poll(f4b, -10, [-10.1, 22.1], false),
      poll(f4a, 30, [21.9, 30.1], true),
      poll(f4b, -10, [-10.1, 22.1], false),
    ]);
    const transactions = emu.line.stats.requests - requestsBefore;
    expect(transactions).toBeGreaterThanOrEqual(9_990);
    expect(emu.line.stats).toMatchObject({ badFrames: 0, otherUnits: 0, tooSoon: 0 });
    expect(emu.line.stats.replies).toBe(emu.line.stats.requests);
    expect(emu.devices.get(1)!.chamber.state().setpointC).toBe(30);
    expect(emu.devices.get(2)!.chamber.state().setpointC).toBe(-10);
    // About 25 s on an idle 2-CPU machine. Every transaction crosses socat twice and waits for a CPU
    // each time: beside two CPU burners and the other test files it took from 45 s to over 120 s.
  }, 300_000);
});
