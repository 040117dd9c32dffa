// espec/p300 against its emulator over a real socat pty (9600 baud with link timing) and loopback TCP.
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import {
  type EspecP300Emulator,
  startEspecP300Emulator,
} from "../../../drivers/emulators/espec-p300-emulator.js";
import { EspecP300 } from "../../../drivers/espec/espec-p300.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
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

async function emulator(listen: string, options: Record<string, unknown> = {}): Promise<EspecP300Emulator> {
  const emu = await startEspecP300Emulator({ listen, options, clock: new ScaledClock(1500) });
  cleanups.push(() => emu.stop());
  return emu;
}

async function connected(transport: string, options: Record<string, unknown> = {}): Promise<EspecP300> {
  const dev = new EspecP300({
    id: "tc3",
    driver: "espec/p300",
    transport,
    options: { timeoutMs: 200, retryMs: 100, ...options },
  });
  await dev.connect();
  cleanups.push(() => dev.close());
  return dev;
}

async function reachSetpoint(dev: EspecP300, target: number): Promise<void> {
  await dev.chamber.setSetpoint(target);
  await eventually(
    async () => {
      const r = await dev.chamber.read();
      expect(r.setpointC).toBe(target);
      return Math.abs(r.temperatureC - target) <= 0.3;
    },
    `the chamber to reach ${target} °C`,
    30_000,
  );
}

describe("espec/p300 against its emulator", () => {
  it("drives set point changes to completion over a socat pty at 9600 baud with link timing", async () => {
    const p = await pty();
    const emu = await emulator(`serial://${p.b}?baud=9600`, { linkTiming: true, address: 2 });
    // A generous reply timeout: beside other load the emulator and socat answer late, not wrongly.
    const dev = await connected(`serial://${p.a}?baud=9600`, { address: 2, timeoutMs: 2000 });
    expect(emu.mode).toBe("STANDBY");
    await reachSetpoint(dev, 60);
    expect(emu.mode).toBe("CONSTANT");
    await reachSetpoint(dev, -20);
    await dev.chamber.toSafeState();
    await dev.chamber.toSafeState();
    expect(emu.mode).toBe("STANDBY");
    expect(emu.chamber.state().regulating).toBe(false);
  }, 60_000);

  it("drives a set point change to completion over loopback TCP", async () => {
    const emu = await emulator("tcp://127.0.0.1:0");
    const dev = await connected(emu.listen);
    await reachSetpoint(dev, 45);
  }, 60_000);

  it.each([{ echoSpacing: "compact" }, { echoCase: "lower" }, { echoSpacing: "compact", echoCase: "lower" }])(
    "reaches CONSTANT at the set point with a controller echoing %j (issue 9)",
    async (echo) => {
      const emu = await emulator("tcp://127.0.0.1:0", echo);
      const dev = await connected(emu.listen);
      expect(emu.mode).toBe("STANDBY");
      await reachSetpoint(dev, 28);
      expect(emu.commands).toEqual(expect.arrayContaining(["TEMP, S28.0", "MODE, CONSTANT"]));
      expect(emu.mode).toBe("CONSTANT");
      expect(emu.chamber.state()).toMatchObject({ setpointC: 28, regulating: true });
      await dev.chamber.toSafeState();
      expect(emu.mode).toBe("STANDBY");
    },
    60_000,
  );

  it("works with a controller that spaces its TYPE? reply and echoes compactly, resynchronising after a late reply (issue 12)", async () => {
    const emu = await emulator("tcp://127.0.0.1:0", { typeReply: "T, S2, 90.0", echoSpacing: "compact" });
    const dev = await connected(emu.listen);
    expect(dev.chamber.ranges.temperatureC[1]).toBe(90);
    await dev.chamber.setSetpoint(30);
    emu.faults.set({ lateReply: { next: 1, delayMs: 350 } });
    expect((await rejection(dev.chamber.read())).code).toBe("SCPI_TIMEOUT");
    // The next read resynchronises on the spaced TYPE? reply, then reads; a refused resync would fail every read.
    await eventually(
      async () => (await dev.chamber.read().catch(() => undefined))?.setpointC === 30,
      "a read after resynchronising",
      10_000,
    );
    expect(emu.commands.filter((c) => c === "TYPE?").length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("does not connect to a chamber on another RS-485 address", async () => {
    const p = await pty();
    await emulator(`serial://${p.b}?baud=9600`, { address: 2 });
    const dev = new EspecP300({
      id: "tc3",
      driver: "espec/p300",
      transport: `serial://${p.a}?baud=9600`,
      options: { address: 3, timeoutMs: 100 },
    });
    expect((await rejection(dev.connect())).code).toBe("SCPI_TIMEOUT");
  });

  it("answers every fault knob with a typed error and recovers without a mismatched reply", async () => {
    const emu = await emulator("tcp://127.0.0.1:0");
    const dev = await connected(emu.listen);
    await dev.chamber.setSetpoint(41.5);
    const cases: Array<[Record<string, unknown>, readonly string[]]> = [
      [{ timeout: { next: 1 } }, ["SCPI_TIMEOUT"]],
      [{ garbage: { next: 1 } }, ["ESPEC_BAD_REPLY"]],
      [{ na: { next: 1, text: "CHB NOT READY" } }, ["ESPEC_COMMAND_REFUSED"]],
      [{ lateReply: { next: 1, delayMs: 350 } }, ["SCPI_TIMEOUT"]],
      [
        { disconnect: { next: 1, forMs: 300 } },
        ["SCPI_TIMEOUT", "TRANSPORT_DISCONNECTED", "CHAMBER_LINK_DOWN"],
      ],
    ];
    for (const [knob, codes] of cases) {
      emu.faults.set(knob);
      const err = await rejection(dev.chamber.read());
      expect(err).toBeInstanceOf(CellbenchError);
      expect(codes, `${JSON.stringify(knob)} gave ${err.code}: ${err.message}`).toContain(err.code);
      await eventually(
        async () => (await dev.chamber.read().catch(() => undefined)) !== undefined,
        "recovery",
        10_000,
      );
      for (let i = 0; i < 5; i++) expect((await dev.chamber.read()).setpointC).toBe(41.5);
    }
    emu.faults.set({ na: { next: 1, text: "PROTECT ON" } });
    const refused = await rejection(dev.chamber.setSetpoint(42));
    expect(refused).toMatchObject({ code: "ESPEC_COMMAND_REFUSED", deviceText: "PROTECT ON" });
  }, 60_000);

  it("fails fast on unplug, then re-identifies and restores set point and CONSTANT after replug", async () => {
    const p = await pty();
    const emu = await emulator(`serial://${p.b}?baud=9600`);
    const dev = await connected(`serial://${p.a}?baud=9600`);
    await dev.chamber.setSetpoint(70);
    await p.unplug();
    await eventually(() => dev.linkState === "link-down", "the driver to see the unplug");
    expect((await rejection(dev.chamber.read())).code).toBe("CHAMBER_LINK_DOWN");
    // Power failure at the chamber: it comes back in STANDBY.
    emu.mode = "STANDBY";
    await p.replug();
    await eventually(() => dev.linkState === "ready", "re-identification after replug", 15_000);
    expect(emu.mode).toBe("CONSTANT");
    expect((await dev.chamber.read()).setpointC).toBe(70);
  }, 30_000);
});
