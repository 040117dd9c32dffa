import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { EaPsbScpi } from "../../../drivers/ea/ea-psb-scpi.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../../drivers/emulators/ea-psb-scpi-emulator.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";
import { context, deviceConfig, memoryLink } from "./emulator-fixtures.js";

/**
 * Every fault knob of the SCPI emulator against the real driver over a memory pair: the driver
 * reports a typed error, nothing crashes, the channel can be put in safe state afterwards, and no
 * late or stray reply is ever taken as the answer to a later command.
 */
describe("ea/psb-scpi against its emulator: fault knobs", () => {
  let emulator: EaPsbScpiEmulator;
  let psb: EaPsbScpi;
  let pair: MemoryPair;
  let links: string[];

  async function setup(driverOptions: Record<string, unknown> = {}): Promise<void> {
    const clock = new ScaledClock(50);
    const link = memoryLink();
    pair = link.pair;
    links = [];
    emulator = await startEaPsbScpiEmulator({ listen: pair.device, clock, options: { initialSoc: 0.5 } });
    psb = new EaPsbScpi(
      deviceConfig("ea/psb-scpi", link.url, { timeoutMs: 200, retryMs: 50, ...driverOptions }),
      context(clock, links),
    );
    await psb.connect();
  }

  afterEach(async () => {
    await psb?.close().catch(() => undefined);
    await emulator?.stop();
    await pair?.dispose();
  });

  /** Checks that a read now answers with the emulator's own measurement (not a stale or stray line). */
  async function readMatchesEmulator(): Promise<void> {
    const reading = await psb.channels[0]!.read();
    const truth = emulator.supply.measure();
    expect(reading.voltageV).toBeCloseTo(truth.voltageV, 1);
    expect(reading.currentA).toBeCloseTo(truth.currentA, 1);
  }

  async function endsSafe(): Promise<void> {
    await psb.channels[0]!.toSafeState();
    expect(emulator.outputOn).toBe(false);
    expect(psb.channels[0]!.isOutputOn).toBe(false);
  }

  it("timeout: a query without reply raises SCPI_TIMEOUT, then the link is usable again", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1.5, minV: 2.5, maxV: 4.2 });
    emulator.faults.set({ timeout: { next: 1 } });
    expect((await rejection(ch.read())).code).toBe("SCPI_TIMEOUT");
    await readMatchesEmulator();
    expect(emulator.outputOn).toBe(true);
    await endsSafe();
  });

  it("timeout during apply: the output is switched off and the error is typed", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1.5, minV: 2.5, maxV: 4.2 });
    // The next query is the error check after the first write of the new set point.
    emulator.faults.set({ timeout: { next: 1 } });
    expect((await rejection(ch.apply({ mode: "cc", currentA: -2, minV: 2.5, maxV: 4.2 }))).code).toBe(
      "SCPI_TIMEOUT",
    );
    expect(emulator.outputOn).toBe(false);
    expect(ch.isOutputOn).toBe(false);
    await ch.apply({ mode: "cc", currentA: -2, minV: 2.5, maxV: 4.2 });
    expect(emulator.setValues).toMatchObject({ voltageV: 2.5, sourceCurrentA: 0, sinkCurrentA: 2 });
    await readMatchesEmulator();
    await endsSafe();
  });

  it("lateReply: the late line is drained, never taken as the next answer", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    emulator.faults.set({ lateReply: { next: 1, delayMs: 350 } });
    expect((await rejection(ch.read())).code).toBe("SCPI_TIMEOUT");
    // The late MEAS:ARR? reply arrives while these run; none of them may take it.
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    await readMatchesEmulator();
    expect(psb.scpi.discardedLines).toBeGreaterThanOrEqual(1);
    expect(emulator.setValues.sourceCurrentA).toBe(1);
    await endsSafe();
  });

  it("garbage: a junk reply raises SCPI_BAD_REPLY, then readings are right again", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    emulator.faults.set({ garbage: { next: 1, bytes: 20 } });
    expect((await rejection(ch.read())).code).toBe("SCPI_BAD_REPLY");
    await readMatchesEmulator();
    await endsSafe();
  });

  it("error: a refused setting raises SCPI_DEVICE_ERROR and leaves the output off", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    emulator.faults.set({ error: { next: 1, code: -221, message: "Settings conflict" } });
    const err = await rejection(ch.apply({ mode: "cv", voltageV: 3.9, chargeLimitA: 1, dischargeLimitA: 2 }));
    expect(err.code).toBe("SCPI_DEVICE_ERROR");
    expect(err.message).toContain('-221,"Settings conflict"');
    expect(emulator.outputOn).toBe(false);
    expect(emulator.server.errorQueue).toEqual([]);
    await ch.apply({ mode: "cv", voltageV: 3.9, chargeLimitA: 1, dischargeLimitA: 2 });
    expect(emulator.setValues).toMatchObject({ voltageV: 3.9, sourceCurrentA: 1, sinkCurrentA: 2 });
    await endsSafe();
  });

  it("disconnect: the deaf link times out; once it is back the channel goes to safe state", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    emulator.faults.set({ disconnect: { next: 1, forMs: 400 } });
    expect((await rejection(ch.read())).code).toBe("SCPI_TIMEOUT");
    expect(emulator.faults.fired.disconnect).toBe(1);
    await eventually(() => !emulator.server.cut, "the end of the 400 ms cut");
    await readMatchesEmulator();
    await endsSafe();
  });

  it("a refused profile step aborts the profile: output off, CYCLER_PROFILE_ABORTED until the next apply", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: 1 },
        { tS: 5, currentA: -1 },
        { tS: 10, currentA: 2 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    emulator.faults.set({ error: { next: 1, code: -222, message: "Data out of range" } });
    // Stepping ends either way, refused or through with its points: what follows says which.
    await eventually(() => !ch.steppingProfile, "the stepping to end");
    expect(emulator.outputOn).toBe(false);
    const err = await rejection(ch.read());
    expect(err.code).toBe("CYCLER_PROFILE_ABORTED");
    expect(err.message).toContain("profile point 1");
    expect((await rejection(ch.read())).code).toBe("CYCLER_PROFILE_ABORTED");
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    await readMatchesEmulator();
    await endsSafe();
  });

  it("limits that leave nothing of the reported ratings: connect fails with CYCLER_RATING_MISMATCH, output off", async () => {
    const clock = new ScaledClock(50);
    const link = memoryLink();
    pair = link.pair;
    emulator = await startEaPsbScpiEmulator({ listen: pair.device, clock, options: { initialSoc: 0.5 } });
    const misconfigured = new EaPsbScpi(
      deviceConfig("ea/psb-scpi", link.url, { timeoutMs: 200, limits: { currentA: [-3000, -200] } }),
      context(clock),
    );
    const err = await rejection(misconfigured.connect());
    expect(err.code).toBe("CYCLER_RATING_MISMATCH");
    expect(err.message).toMatch(
      /^device "dut": options\.limits\.currentA \[-3000, -200\] A lies outside the instrument's ±\d+ A; give a window within it$/,
    );
    expect(emulator.outputOn).toBe(false);
    expect(misconfigured.linkState).toBe("idle");
  });

  it("another instrument behind the link after a reconnect: stays output-unknown, naming the mismatch", async () => {
    await setup();
    const ch = psb.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    pair.unplug();
    await emulator.stop();
    const other = startEaPsbScpiEmulator({
      listen: pair.device,
      clock: new ScaledClock(50),
      options: { serial: "999" },
    });
    pair.plug();
    emulator = await other;
    await eventually(
      () => (psb.session.lastError as { code?: string } | undefined)?.code === "IDENTITY_MISMATCH",
      "the identity check after the reconnect",
    );
    expect(psb.linkState).toBe("reinitializing");
    // Reported once, at the second failed take-over: the daemon logs it and /health shows it.
    await eventually(() => links.length === 2, "the unusable report");
    expect(links[0]).toMatch(/^lost: /);
    expect(links[1]).toMatch(/^unusable: .*IDN/);
    expect((await rejection(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 }))).code).toBe(
      "CYCLER_OUTPUT_UNKNOWN",
    );
    expect(emulator.outputOn).toBe(false);
  });

  it("random faults on every knob for a while: only typed errors, and safe state at the end", async () => {
    await setup();
    const ch = psb.channels[0]!;
    emulator.faults.set({
      seed: 7,
      timeout: { probability: 0.05 },
      garbage: { probability: 0.05 },
      lateReply: { probability: 0.03, delayMs: 250 },
      error: { probability: 0.05 },
    });
    const codes = new Set<string>();
    const setpoints = [
      { mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 },
      { mode: "cc", currentA: -1, minV: 2.5, maxV: 4.2 },
      { mode: "cv", voltageV: 3.8, chargeLimitA: 0.5, dischargeLimitA: 0.5 },
      { mode: "cccv", currentA: 0.5, voltageV: 4.1 },
      { mode: "cp", powerW: -3, minV: 2.5, maxV: 4.2 },
    ] as const;
    for (let k = 0; k < 40; k++) {
      try {
        if (k % 2 === 0) await ch.apply(setpoints[(k / 2) % setpoints.length]!);
        else await ch.read();
      } catch (err) {
        codes.add((err as { code?: string }).code ?? "UNTYPED");
      }
    }
    expect(codes.has("UNTYPED")).toBe(false);
    expect(codes.size).toBeGreaterThan(0);
    emulator.faults.clear();
    await endsSafe();
    await readMatchesEmulator();
  });
});
