import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock, SystemClock } from "../../../drivers/clock.js";
import { EaPsbScpi } from "../../../drivers/ea/ea-psb-scpi.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../../drivers/emulators/ea-psb-scpi-emulator.js";
import "../../../drivers/all.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { parseProfile } from "../../../src/profile/document.js";
import type { RunEventRecord } from "../../../src/run/records.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { NMC_18650, recordingListener } from "../../support/sim-bench.js";
import { eventually, rejection } from "../../support/wait.js";
import { context, deviceConfig, readUntil } from "./emulator-fixtures.js";

/**
 * The real driver against the emulator through a socat pty pair: the emulator's cell runs on a clock
 * 1000× faster than real time, so a discharge to cut-off and a CV taper take seconds.
 */
describe("ea/psb-scpi against its emulator over a pty", () => {
  let pty: PtyPair | undefined;
  let emulator: EaPsbScpiEmulator | undefined;
  let psb: EaPsbScpi | undefined;

  afterEach(async () => {
    await psb?.close().catch(() => undefined);
    await emulator?.stop();
    await pty?.stop();
    psb = undefined;
    emulator = undefined;
    pty = undefined;
  });

  async function setup(speed: number, initialSoc: number): Promise<{ clock: ScaledClock }> {
    pty = await startPtyPair();
    const clock = new ScaledClock(speed);
    emulator = await startEaPsbScpiEmulator({
      listen: `serial://${pty.b}?baud=115200`,
      clock,
      options: { initialSoc },
    });
    // A generous reply timeout: beside other load the emulator and socat answer late, not wrongly.
    psb = new EaPsbScpi(
      deviceConfig("ea/psb-scpi", `serial://${pty.a}?baud=115200`, { timeoutMs: 2000, retryMs: 100 }),
      context(clock),
    );
    await psb.connect();
    return { clock };
  }

  it("discharges at 2C to the cut-off, tapers in CV, steps a profile to its end, ends safe", async () => {
    await setup(1000, 0.3);
    const ch = psb!.channels[0]!;
    expect(psb!.identity?.model).toBe("PSB 10060-60");

    await ch.apply({ mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 });
    const discharge = await readUntil(ch, (r) => r.voltageV <= 2.51, "the 2.5 V cut-off");
    expect(discharge[0]!.currentA).toBeCloseTo(-6, 1);
    expect(Math.min(...discharge.map((r) => r.voltageV))).toBeGreaterThanOrEqual(2.49);
    const emptySoc = emulator!.supply.cell.soc;
    // At 2C the cell stops when its particle surfaces are empty, with some charge left in their bulk.
    expect(emptySoc).toBeLessThan(0.15);

    await ch.apply({ mode: "cccv", currentA: 3, voltageV: 3.9 });
    const charge = await readUntil(
      ch,
      (r) => r.voltageV >= 3.89 && r.currentA < 0.3,
      "the CV taper below C/10",
    );
    expect(charge.some((r) => r.currentA > 2.9)).toBe(true);
    expect(Math.max(...charge.map((r) => r.voltageV))).toBeLessThanOrEqual(3.91);
    expect(emulator!.supply.cell.soc).toBeGreaterThan(emptySoc + 0.2);

    // A driver-stepped profile: 60 simulated seconds are 60 ms of real time.
    const before = emulator!.commands.length;
    await ch.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: -3 },
        { tS: 20, currentA: 1.5 },
        { tS: 40, currentA: 0 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    await readUntil(ch, () => !ch.steppingProfile, "the profile's last point", { periodMs: 10 });
    const written = emulator!.commands
      .slice(before)
      .filter((c) => !c.startsWith("SYST:ERR") && !c.startsWith("MEAS") && !c.startsWith("STAT:QUES"));
    expect(written).toEqual([
      "SOUR:CURR 0",
      "SOUR:VOLT 2.5",
      "SINK:CURR 3",
      "SINK:CURR 0",
      "SOUR:VOLT 4.2",
      "SOUR:CURR 1.5",
      "SOUR:CURR 0",
    ]);
    expect(emulator!.setValues).toMatchObject({ sourceCurrentA: 0, sinkCurrentA: 0, voltageV: 4.2 });
    expect(Math.abs((await ch.read()).currentA)).toBeLessThan(0.05);

    await ch.toSafeState();
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });

  it("unplug: fails fast as output-unknown; replug: re-identifies and switches the output off", async () => {
    await setup(100, 0.5);
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    expect(emulator!.outputOn).toBe(true);

    await pty!.unplug();
    await eventually(() => psb!.linkState === "link-down", "the lost link");
    const started = performance.now();
    for (const call of [ch.read(), ch.apply({ mode: "rest" }), ch.toSafeState()])
      expect((await rejection(call)).code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(performance.now() - started).toBeLessThan(50);
    expect(ch.isOutputOn).toBeUndefined();

    const commandsBefore = emulator!.commands.length;
    await pty!.replug();
    await psb!.session.whenReady(15_000);
    expect(psb!.session.reinitializations).toBe(1);
    expect(emulator!.outputOn).toBe(false);
    expect(emulator!.commands.slice(commandsBefore).filter((c) => !c.startsWith("SYST:ERR"))).toEqual([
      "*IDN?",
      "STAT:QUES:COND?",
      "SYST:LOCK ON",
      "SYST:LOCK:OWN?",
      "OUTP OFF",
      "SYST:CONF:MODE?",
    ]);
    expect(ch.isOutputOn).toBe(false);

    // Cached set values were forgotten: the next apply writes them all again.
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect(emulator!.outputOn).toBe(true);
    expect(emulator!.setValues.sourceCurrentA).toBe(1);
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });
});

describe("ea/psb-scpi in a bench, run by the RunEngine against the emulator over a pty", () => {
  it("runs a discharge / rest / CC-CV profile to completion and leaves the output off", async () => {
    const pty = await startPtyPair();
    // The cell runs 1000× faster than the bench: durations in the profile are bench (real) seconds.
    const emulator = await startEaPsbScpiEmulator({
      listen: `serial://${pty.b}?baud=115200`,
      clock: new ScaledClock(1000),
      options: { initialSoc: 0.3 },
    });
    const config: BenchConfig = {
      source: "test",
      bench: "emu",
      http: { host: "127.0.0.1", port: 0 },
      store: ":memory:",
      devices: [
        {
          id: "psb1",
          driver: "ea/psb-scpi",
          transport: `serial://${pty.a}?baud=115200`,
          channels: ["ch1"],
          options: { timeoutMs: 2000, limits: { currentA: [-10, 10] } },
        },
      ],
      chambers: [],
      samplingPeriodMs: 50,
      // The default (1 s at this period) faulted the run beside two CPU burners: every sample crosses
      // socat to the in-process emulator and back, and they came more than 1 s apart in step 1.
      watchdogMs: 5000,
      tokens: [],
    };
    const bench = await Bench.open(config, new SystemClock());
    try {
      const profile = parseProfile(
        [
          "name: emulator-cycle",
          "safety: { voltage: [2.5, 4.2], current: [-6, 6] }",
          "steps:",
          "  - Discharge at 2C until 2.6 V",
          "  - Rest for 1 second",
          "  - Charge at 1C to 3.9 V, hold until C/5",
        ].join("\n"),
        { sourceName: "emulator-cycle.yaml" },
      );
      const { listener, transcript } = recordingListener();
      let ended: (state: RunEventRecord) => void = () => undefined;
      const end = new Promise<RunEventRecord>((resolve) => {
        ended = resolve;
      });
      const engine = bench.attachRun(
        "ch1",
        {
          id: "R-EMU",
          cell: NMC_18650,
          profile,
          temperatureOverride: "the emulated PSB measures no cell temperature",
        },
        {
          ...listener,
          state: (e) => {
            listener.state?.(e);
            if (["completed", "stopped", "aborted", "faulted"].includes(e.state)) ended(e);
          },
        },
      );
      bench.start();
      await engine.start();
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("run did not end within 40 s")), 40_000),
      );
      const final = await Promise.race([end, timeout]);
      expect(final.state, JSON.stringify(final)).toBe("completed");
      const records = transcript.records;
      // The CC discharge at 2C down to the cut-off, the rest at open circuit, the CC then CV charge.
      expect(records.some((r) => r.currentA < -5.9 && r.currentA > -6.1)).toBe(true);
      expect(records.some((r) => r.voltageV <= 2.6)).toBe(true);
      // The rest at open circuit: once off, no current until the charge, and the cell relaxing up from
      // the last loaded sample. How deep that one is depends on when the cut-off sample landed (50 ms
      // of bench time are 50 s of the cell's at 2C), so the relaxed voltage is judged against it.
      const firstOpen = records.findIndex((r) => r.stepIndex === 2 && r.currentA === 0);
      expect(firstOpen).toBeGreaterThan(0);
      const endOfDischarge = records[firstOpen - 1]!.voltageV;
      const rest = records.slice(firstOpen).filter((r) => r.stepIndex === 2);
      expect(rest.length).toBeGreaterThan(0);
      expect(rest.every((r) => r.currentA === 0 && r.voltageV >= endOfDischarge && r.voltageV < 3.6)).toBe(
        true,
      );
      expect(rest.at(-1)!.voltageV).toBeGreaterThan(endOfDischarge);
      expect(records.some((r) => r.currentA > 2.9 && r.currentA < 3.1)).toBe(true);
      expect(records.some((r) => r.voltageV >= 3.85 && r.currentA > 0 && r.currentA <= 0.6)).toBe(true);
      expect(new Set(records.map((r) => r.stepIndex)).size).toBe(3);
      expect(emulator.outputOn).toBe(false);
    } finally {
      await bench.shutdown();
      await emulator.stop();
      await pty.stop();
    }
  });
});
