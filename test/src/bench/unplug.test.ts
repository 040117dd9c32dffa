import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock, SystemClock } from "../../../drivers/clock.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../../drivers/emulators/ea-psb-scpi-emulator.js";
import "../../../drivers/all.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { parseProfile } from "../../../src/profile/document.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { NMC_18650, recordingListener } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

/**
 * The daemon's view of a real instrument unplugged mid-run: the real EA PSB driver over a socat pty
 * to its emulator, sampled by the bench at 100 ms on real time.
 */
describe("a cycler unplugged in the middle of a run", () => {
  let pty: PtyPair | undefined;
  let emulator: EaPsbScpiEmulator | undefined;
  let bench: Bench | undefined;
  afterEach(async () => {
    await bench?.shutdown();
    await emulator?.stop();
    await pty?.stop();
  });

  it("faults the run through the watchdog, keeps sampling, and finds the output off after the replug", async () => {
    pty = await startPtyPair();
    emulator = await startEaPsbScpiEmulator({
      listen: `serial://${pty.b}?baud=115200`,
      clock: new ScaledClock(10),
      options: { initialSoc: 0.6 },
    });
    const config: BenchConfig = {
      source: "test",
      bench: "b",
      http: { host: "127.0.0.1", port: 0 },
      store: ":memory:",
      devices: [
        {
          id: "psb1",
          driver: "ea/psb-scpi",
          transport: `serial://${pty.a}?baud=115200`,
          channels: ["ch1"],
          options: { timeoutMs: 300, retryMs: 100 },
        },
      ],
      chambers: [],
      samplingPeriodMs: 100,
      tokens: [],
    };
    const errors: string[] = [];
    const links: string[] = [];
    bench = await Bench.open(config, new SystemClock(), {
      error: (source, err) => errors.push(`${source}: ${(err as Error).message}`),
      link: (device, event) => links.push(`${device} ${event.kind} ${event.transport}`),
    });
    expect(bench.links.of("psb1").state).toBe("up");
    const { listener, transcript } = recordingListener();
    const profile = parseProfile("name: long\nsteps:\n  - Discharge at 1 A for 1 hour\n", {
      sourceName: "long",
    });
    const engine = bench.attachRun(
      "ch1",
      {
        id: "R1",
        cell: NMC_18650,
        profile,
        temperatureOverride: "the emulated PSB measures no cell temperature",
      },
      listener,
    );
    bench.start();
    await engine.start();
    await eventually(() => transcript.records.length >= 5, "samples of the running discharge");
    expect(emulator.outputOn).toBe(true);
    expect(transcript.records[transcript.records.length - 1]!.currentA).toBeCloseTo(-1, 2);

    await pty.unplug();
    const unpluggedAt = Date.now();
    await eventually(() => engine.isTerminal, "the run to fault");
    const faultAfterMs = Date.now() - unpluggedAt;
    expect(engine.currentState).toBe("faulted");
    // The link is down, so the safe-state command cannot be sent either: the reason says so.
    expect(engine.status().reason).toMatch(
      /^no fresh sample from ch1 for 1\.\d s \(watchdog\); safe state failed: /,
    );
    expect(faultAfterMs).toBeLessThan(3000);
    expect(transcript.states.map((s) => s.state)).toEqual(["running", "faulted"]);
    expect(errors.some((e) => e.startsWith("ch1: "))).toBe(true);
    const transport = `serial://${pty.a}`;
    expect(links[0]).toMatch(new RegExp(`^psb1 lost ${transport}`));
    expect(bench.links.of("psb1")).toMatchObject({ state: "down", losses: 1, reconnects: 0 });
    expect(bench.links.of("psb1").reason).toBeTruthy();

    const latestBefore = bench.channel("ch1").latest?.tMonoMs ?? 0;
    await pty.replug();
    // The driver re-identifies and switches the output off; the bench samples the channel again.
    await eventually(
      () => (bench?.channel("ch1").latest?.tMonoMs ?? 0) > latestBefore,
      "fresh samples after the replug",
      20_000,
    );
    expect(emulator.outputOn).toBe(false);
    expect(bench.channel("ch1").latest?.currentA).toBeCloseTo(0, 3);
    expect(links.map((l) => l.split(" ")[1])).toEqual(["lost", "restored"]);
    expect(bench.links.of("psb1")).toMatchObject({
      state: "up",
      losses: 1,
      reconnects: 1,
      reason: undefined,
    });
  }, 60_000);
});
