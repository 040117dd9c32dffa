/**
 * Issue 10, "Must show": the seven findings, each tried on a real daemon over HTTP as a lab engineer
 * would. Every daemon runs a simulated bench on a virtual clock that jumps whenever everything
 * sleeps; runs are started and controlled over the API, and their samples, steps and state changes
 * are watched in-process (daemon.runs.subscribe) so that nothing between two HTTP polls is missed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type {
  CyclerChannel,
  CyclerRanges,
  CyclerReading,
  Device,
  DeviceConfig,
} from "../../drivers/capabilities.js";
import { VirtualClock } from "../../drivers/clock.js";
import { registerDriver } from "../../drivers/registry.js";
import type { SimChamber } from "../../drivers/sim/sim-chamber.js";
import type { SimCyclerChannel } from "../../drivers/sim/sim-cycler.js";
import { loadConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import type { StepChange } from "../../src/engine/run-engine.js";
import { createLogger } from "../../src/log.js";
import type { CellRecord, RunEventRecord } from "../../src/run/records.js";
import { eventually } from "../support/wait.js";

const OPERATOR = "safety-operator-token-0001";
const scratch = mkdtempSync(join(tmpdir(), "cellbench-safety-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "cells");
/** A cell file of examples/cells as the API takes it (the YAML's keys are the API's). */
const exampleCell = (file: string): Record<string, unknown> =>
  parseYaml(readFileSync(join(EXAMPLES, file), "utf8")) as Record<string, unknown>;
/** 3.0 Ah, 4 A charge, 15 A discharge, charge window 0..45 °C, -20..60 °C overall. */
const NMC_18650 = exampleCell("nmc-18650.yaml");
/** 1.0 Ah sulfide all-solid-state pouch, -20..105 °C. */
const ASSLB_POUCH = exampleCell("asslb-sulfide-pouch.yaml");

const PERIOD_MS = 1000;
/** Real time any one wait may take (the clock runs as fast as the CPU allows). */
const WAIT_MS = 30_000;

// ---- a cycler whose poll tick can be made to hang (finding 7) -------------------------------------

const HANG_DRIVER = "test/hanging-cycler";

/** A channel without a cell-temperature sensor (like every real cycler driver) whose read() can hang. */
class HangingChannel implements CyclerChannel {
  readonly ranges: CyclerRanges = {
    voltageV: [0, 5],
    currentA: [-10, 10],
    powerW: 60,
    modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
  };
  /** Reads in progress are held while true. */
  hanging = false;
  private readonly held: (() => void)[] = [];

  constructor(readonly id: string) {}

  async apply(): Promise<void> {}

  read(): Promise<CyclerReading> {
    const reading: CyclerReading = { voltageV: 3.7, currentA: 0, temperatureC: Number.NaN };
    if (!this.hanging) return Promise.resolve(reading);
    return new Promise((resolve) => this.held.push(() => resolve(reading)));
  }

  async toSafeState(): Promise<void> {}

  /** Lets the held reads answer (so that the daemon can stop its pollers). */
  release(): void {
    this.hanging = false;
    for (const answer of this.held.splice(0)) answer();
  }
}

registerDriver({
  name: HANG_DRIVER,
  description: "test cycler whose read() can be made to never return",
  simulated: true,
  create: (config: DeviceConfig): Device => ({
    id: config.id,
    driver: config.driver,
    channels: (config.channels ?? []).map((id) => new HangingChannel(id)),
    connect: async () => undefined,
    close: async () => undefined,
  }),
});

// ---- a daemon on a simulated bench, and what its runs did ---------------------------------------

interface RunJson {
  id: string;
  state: string;
  reason: string;
  history: { state: string; reason: string }[];
  last_sample: { current_a: number | null; temperature_c: number | null } | null;
}

interface ProblemJson {
  code: string;
  detail: string;
}

interface Reply<T> {
  status: number;
  body: T;
}

/** A daemon started over a YAML file in the scratch folder, its API, and every run event it emitted. */
class TestDaemon {
  readonly samples = new Map<string, CellRecord[]>();
  readonly states = new Map<string, RunEventRecord[]>();
  readonly steps = new Map<string, StepChange[]>();

  private constructor(readonly daemon: Daemon) {
    daemon.runs.subscribe((e) => {
      const add = <T>(map: Map<string, T[]>, value: T) => {
        const list = map.get(e.run) ?? [];
        list.push(value);
        map.set(e.run, list);
      };
      if (e.type === "sample") add(this.samples, e.record);
      else if (e.type === "state") add(this.states, e.event);
      else if (e.type === "step") add(this.steps, e.change);
    });
  }

  static async start(configPath: string, wallOriginMs = Date.now()): Promise<TestDaemon> {
    const daemon = await Daemon.start({
      config: loadConfig(configPath, {}),
      logger: createLogger({ level: "silent" }),
      clock: new VirtualClock({ auto: true, wallOriginMs }),
      http: true,
    });
    const d = new TestDaemon(daemon);
    // Runs are started on channels that have been sampled (as an operator sees them in /api/v1/bench).
    await eventually(
      () => [...daemon.bench.channels.values()].every((slot) => slot.latest !== undefined),
      "the first sample of every channel",
      WAIT_MS,
    );
    return d;
  }

  get url(): string {
    const address = this.daemon.address;
    if (!address) throw new Error("the daemon serves no API");
    return address;
  }

  /** Simulated time, ms. */
  now(): number {
    return this.daemon.bench.clock.now();
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${OPERATOR}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  startRun(body: Record<string, unknown>): Promise<Reply<RunJson & ProblemJson>> {
    return this.request("POST", "/api/v1/runs", body);
  }

  /** Starts a run and fails unless the daemon took it (201). */
  async started(body: Record<string, unknown>): Promise<string> {
    const reply = await this.startRun(body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.id;
  }

  run(id: string): Promise<Reply<RunJson>> {
    return this.request("GET", `/api/v1/runs/${id}`);
  }

  samplesOf(run: string): CellRecord[] {
    return this.samples.get(run) ?? [];
  }

  statesOf(run: string): RunEventRecord[] {
    return this.states.get(run) ?? [];
  }

  stepsOf(run: string): StepChange[] {
    return this.steps.get(run) ?? [];
  }

  /** The run's state as the engine has it, or undefined before its first event. */
  stateOf(run: string): RunEventRecord | undefined {
    return this.statesOf(run).at(-1);
  }

  /** Hopeless when the run has ended (it will not log, wait or step any more). */
  ended(run: string): string | undefined {
    const last = this.stateOf(run);
    return last && ["completed", "stopped", "aborted", "faulted"].includes(last.state)
      ? `run ${run} ended ${last.state}${last.reason ? `: ${last.reason}` : ""}`
      : undefined;
  }

  async stop(): Promise<void> {
    // InfluxDB is never there in these tests: whatever is spooled stays in the outbox.
    await this.daemon.stop({ drainTimeoutMs: 0 });
  }
}

/** Writes a bench configuration: sampled every second, one operator token, the given devices. */
function benchFile(
  name: string,
  devices: string[],
  options: { chambers?: string[]; influx?: boolean } = {},
): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `bench: ${name}`,
      `store: ${join(scratch, `${name}.db`)}`,
      "http: { host: 127.0.0.1, port: 0 }",
      `sampling: { period: ${PERIOD_MS} ms }`,
      `auth: { tokens: [{ role: operator, token: ${OPERATOR} }] }`,
      // A closed loopback port: samples and checkpoints are spooled in the outbox, never sent.
      ...(options.influx ? ['influx: { url: "http://127.0.0.1:9", database: safety }'] : []),
      "devices:",
      ...devices.map((d) => `  - ${d}`),
      ...(options.chambers ? ["chambers:", ...options.chambers.map((c) => `  - ${c}`)] : []),
      "",
    ].join("\n"),
  );
  return path;
}

const profileText = (name: string, steps: string[]): string =>
  [`name: ${name}`, "steps:", ...steps.map((s) => `  - ${s}`), ""].join("\n");

async function withDaemon(configPath: string, test: (d: TestDaemon) => Promise<void>): Promise<void> {
  const d = await TestDaemon.start(configPath);
  try {
    await test(d);
  } finally {
    await d.stop();
  }
}

const maxOf = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);

describe("issue 10 over HTTP: a daemon on a simulated bench", () => {
  it("1: `Hold at 4.2 V until 50 mA` on the NMC 18650 (4 A charge) on a ±20 A channel never charges above 4 A", async () => {
    const path = benchFile("cv-limit", [
      "{ id: cycler1, driver: sim/cycler, channels: [ch1], options: { initialSoc: 0.3, ranges: { currentA: [-20, 20], powerW: 200 } } }",
    ]);
    await withDaemon(path, async (d) => {
      const run = await d.started({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("cv-hold", ["Hold at 4.2 V until 50 mA"]),
      });
      // Five minutes of the hold: at 30 % state of charge the cell would take far more than 4 A.
      await eventually(
        () => maxOf(d.samplesOf(run).map((s) => s.stepTimeS)) >= 300,
        "five minutes of the CV hold",
        WAIT_MS,
        () => d.ended(run),
      );
      const currents = d.samplesOf(run).map((s) => s.currentA);
      // The cell's 4 A charge limit (the simulated channel clamps exactly; the finding charged at 15 A).
      expect(maxOf(currents), "largest charge current, A").toBeLessThanOrEqual(4 + 1e-6);
      // It charged at the limit, not at some lower current that happened to stay below it.
      expect(maxOf(currents), "largest charge current, A").toBeGreaterThan(3.9);
      const view = await d.run(run);
      expect(view.body.state).toBe("running");
      expect(view.body.last_sample?.current_a ?? Number.NaN).toBeLessThanOrEqual(4 + 1e-6);
    });
  }, 90_000);

  it("2: `Hold at 3.0 V` on a charged cell in a 50 °C chamber is accepted and discharges", async () => {
    const path = benchFile(
      "cv-discharge",
      [
        "{ id: cycler1, driver: sim/cycler, channels: [ch1], options: { initialSoc: 0.95 } }",
        "{ id: tc1, driver: sim/chamber, options: { initialC: 50 } }",
      ],
      { chambers: ["{ id: tc1, device: tc1, channels: [ch1] }"] },
    );
    await withDaemon(path, async (d) => {
      // The profile sets the chamber (so validation knows the temperature), soaks until the cell is hot
      // too (its thermal time constant is about 25 min), then holds below the cell's voltage.
      const reply = await d.startRun({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("cv-down", ["{ chamber: 50 °C, soak: 60 min }", "Hold at 3.0 V for 10 minutes"]),
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      const run = reply.body.id;
      const hold = () => d.samplesOf(run).filter((s) => s.stepIndex === 2);
      await eventually(
        () => hold().some((s) => s.stepTimeS >= 60),
        "a minute of the hold",
        WAIT_MS,
        () => d.ended(run),
      );
      // A hold below the cell's voltage is a discharge: current flows out at 50 °C, never in.
      expect(hold().every((s) => s.temperatureC > 45)).toBe(true);
      expect(Math.min(...hold().map((s) => s.currentA)), "largest discharge current, A").toBeLessThan(-1);
      const currents = d.samplesOf(run).map((s) => s.currentA);
      expect(maxOf(currents), "largest charge current, A").toBeLessThanOrEqual(0.01);
      expect((await d.run(run)).body.state).toBe("running");
    });
  }, 90_000);

  it("3: after a 3C discharge in a 44 °C chamber the charge waits, output off, until the cell is back in its charge window", async () => {
    const path = benchFile(
      "charge-window",
      [
        // From half charge a 3C discharge ends at 2.5 V with the cell near 59.6 °C (from 70 % it passes 60 °C).
        "{ id: cycler1, driver: sim/cycler, channels: [ch1], options: { initialSoc: 0.5 } }",
        "{ id: tc1, driver: sim/chamber, options: { initialC: 44 } }",
      ],
      { chambers: ["{ id: tc1, device: tc1, channels: [ch1] }"] },
    );
    await withDaemon(path, async (d) => {
      const run = await d.started({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("hot-charge", ["Discharge at 3C until 2.5 V", "Charge at 1C for 10 minutes"]),
      });
      const charging = () => d.samplesOf(run).filter((s) => s.stepIndex === 2 && s.currentA > 0.5);
      await eventually(
        () => charging().length >= 10,
        "ten seconds of the charge",
        WAIT_MS,
        () => d.ended(run),
      );
      // The discharge left the cell above its 45 °C charge window (plus the 1 °C sensor margin).
      const discharge = d.samplesOf(run).filter((s) => s.stepIndex === 1);
      expect(
        discharge.at(-1)?.temperatureC ?? Number.NaN,
        "cell at the end of the discharge, °C",
      ).toBeGreaterThan(46);
      // No current flowed into the cell while it was above the window.
      const hotCharge = d.samplesOf(run).filter((s) => s.currentA > 0.01 && s.temperatureC > 46);
      expect(hotCharge.map((s) => `${s.currentA.toFixed(2)} A at ${s.temperatureC.toFixed(1)} °C`)).toEqual(
        [],
      );
      expect(charging()[0]?.temperatureC ?? Number.NaN, "cell when the charge began, °C").toBeLessThanOrEqual(
        46,
      );
      // The run said why it waited, and the API shows it.
      const waiting = d
        .statesOf(run)
        .filter((e) => e.state === "running" && e.reason.startsWith("waiting: "));
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting[0]?.reason).toMatch(
        /^waiting: cell NMC-18650-0001 at \d+(\.\d)? °C is outside its 0\.\.45 °C charge window$/,
      );
      const view = await d.run(run);
      expect(view.body.history.map((h) => h.reason)).toContain(waiting[0]?.reason);
    });
  }, 90_000);

  it("4a: a 105 °C chamber step is refused while an NMC cell is inside, naming it, and accepted once the cell is taken out", async () => {
    const path = benchFile(
      "shared-chamber",
      [
        "{ id: cycler1, driver: sim/cycler, channels: [ch1, ch2] }",
        "{ id: tc1, driver: sim/chamber, options: { initialC: 25 } }",
      ],
      { chambers: ["{ id: tc1, device: tc1, channels: [ch1, ch2] }"] },
    );
    await withDaemon(path, async (d) => {
      // The NMC cell's run ends; the cell stays in the chamber.
      const nmc = await d.started({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("short", ["Rest for 10 seconds"]),
      });
      await eventually(() => d.stateOf(nmc)?.state === "completed", "the NMC run to complete", WAIT_MS);
      const asslb = {
        channel: "ch2",
        cell: ASSLB_POUCH,
        profile: profileText("hot", ["{ chamber: 105 °C, soak: 10 min }", "Rest for 1 hour"]),
      };
      const refused = await d.startRun(asslb);
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body.code).toBe("CHAMBER_SETPOINT_REFUSED");
      expect(refused.body.detail).toContain("NMC-18650-0001");
      expect(refused.body.detail).toContain("ch1");
      expect(d.daemon.bench.chambers.get("tc1")?.latest?.setpointC).not.toBe(105);

      const removed = await d.request<{ channel: string; cell: string | null }>(
        "DELETE",
        "/api/v1/channels/ch1/cell",
      );
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({ channel: "ch1", cell: "NMC-18650-0001" });
      const accepted = await d.startRun(asslb);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    });
  }, 90_000);

  it("4b: a runaway cell puts its chamber into safe state, holds the other run in it, and /health is degraded while latched", async () => {
    const path = benchFile(
      "runaway",
      [
        "{ id: cycler1, driver: sim/cycler, channels: [ch1, ch2] }",
        "{ id: tc1, driver: sim/chamber, options: { initialC: 25 } }",
      ],
      { chambers: ["{ id: tc1, device: tc1, channels: [ch1, ch2] }"] },
    );
    await withDaemon(path, async (d) => {
      const rest = profileText("rest", ["Rest for 2 hours"]);
      const burning = await d.started({ channel: "ch1", cell: { ...NMC_18650, id: "NMC-A" }, profile: rest });
      const other = await d.started({ channel: "ch2", cell: { ...NMC_18650, id: "NMC-B" }, profile: rest });
      const slot = d.daemon.bench.channels.get("ch1");
      const chamber = d.daemon.bench.chambers.get("tc1");
      if (!slot || !chamber) throw new Error("no ch1 or tc1");
      // The cell on ch1 self-heats (the simulator's runaway knob).
      const since = d.now();
      (slot.channel as SimCyclerChannel).faults.set({ runaway: { triggerC: 20, powerW: 2 } });
      await eventually(
        () => d.stateOf(other)?.state === "paused",
        "the run on ch2 to be held",
        WAIT_MS,
        () => {
          const ended = d.ended(other);
          if (ended) return ended;
          const t = (slot.channel as SimCyclerChannel).cell.temperatureC;
          return d.now() - since > 3_600_000
            ? `an hour after the runaway began (cell on ch1 at ${t.toFixed(0)} °C) the run on ch2 is still ${d.stateOf(other)?.state}`
            : undefined;
        },
      );
      expect(d.stateOf(other)?.reason).toMatch(
        /^held: chamber tc1 in safe state after a fault of cell NMC-A on ch1: temperature .* outside -20\.\.60 °C$/,
      );
      expect(d.stateOf(burning)?.state).toBe("faulted");
      expect((chamber.chamber as SimChamber).inStandby).toBe(true);
      expect((await d.run(other)).body.state).toBe("paused");
      const health = await d.request<{ status: string; problems: string[] }>("GET", "/health");
      expect(health.body.status).toBe("degraded");
      expect(health.body.problems).toContainEqual(
        expect.stringMatching(/^chamber tc1 in safe state after a safety fault: .*\(cell NMC-A on ch1\)$/),
      );
      // The held run stays held while the chamber is latched.
      const resumed = await d.request<ProblemJson>("POST", `/api/v1/runs/${other}/resume`);
      expect(resumed.status).toBe(409);
      expect(resumed.body.code).toBe("CHAMBER_LATCHED");
    });
  }, 90_000);

  it("5: a run resumed after a restart first restores its chamber to 58 °C, then the interrupted step continues", async () => {
    const path = benchFile(
      "restart",
      [
        "{ id: cycler1, driver: sim/cycler, channels: [ch1] }",
        "{ id: tc1, driver: sim/chamber, options: { initialC: 23.5 } }",
      ],
      { chambers: ["{ id: tc1, device: tc1, channels: [ch1] }"], influx: true },
    );
    const first = await TestDaemon.start(path);
    let run: string;
    let wallMs: number;
    try {
      run = await first.started({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("hot-rest", [
          "{ chamber: 58 °C, soak: 30 min, tolerance: 2 °C }",
          "Rest for 1 hour",
        ]),
      });
      const id = run;
      await eventually(
        () => first.samplesOf(id).some((s) => s.stepIndex === 2 && s.stepTimeS >= 60),
        "a minute of the rest at 58 °C",
        WAIT_MS,
        () => first.ended(id),
      );
      expect(first.daemon.bench.chambers.get("tc1")?.latest?.setpointC).toBe(58);
    } finally {
      await first.stop();
      wallMs = first.daemon.bench.clock.wallNow();
    }
    expect(first.stateOf(run)?.state).toBe("interrupted");
    const interruptedAtS = maxOf(
      first
        .samplesOf(run)
        .filter((s) => s.stepIndex === 2)
        .map((s) => s.stepTimeS),
    );

    // The restarted bench's chamber starts at the room's 23.5 °C, in safe state (standby).
    const second = await TestDaemon.start(path, wallMs + 1);
    try {
      const tc1 = second.daemon.bench.chambers.get("tc1");
      // Its loop runs half a period after the cycler's: the first reading.
      await eventually(() => tc1?.latest !== undefined, "the chamber's first reading", WAIT_MS);
      expect(tc1?.latest?.setpointC).not.toBe(58);
      expect(tc1?.latest?.temperatureC ?? Number.NaN).toBeLessThan(30);
      expect((await second.run(run)).body.state).toBe("interrupted");
      // The chamber's set point and temperature as each state change of the run finds them.
      const chamberAt: { reason: string; setpointC: number; airC: number; samples: number }[] = [];
      second.daemon.runs.subscribe((e) => {
        if (e.type === "state" && e.run === run)
          chamberAt.push({
            reason: e.event.reason,
            setpointC: tc1?.latest?.setpointC ?? Number.NaN,
            airC: tc1?.latest?.temperatureC ?? Number.NaN,
            samples: second.samplesOf(run).length,
          });
      });
      const resumed = await second.request<RunJson>("POST", `/api/v1/runs/${run}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body.reason).toMatch(/^resuming: restore chamber to 58 /);
      const id = run;
      const restored = () => chamberAt.find((c) => c.reason.startsWith("chamber restored"));
      const continued = () => second.samplesOf(id).slice(restored()?.samples ?? Number.POSITIVE_INFINITY);
      await eventually(
        () => continued().length > 0,
        "the interrupted rest to continue after the chamber is restored",
        WAIT_MS,
        () => second.ended(id),
      );
      const bench = await second.request<{ chambers: { last_reading: { setpoint_c: number } | null }[] }>(
        "GET",
        "/api/v1/bench",
      );
      expect(bench.body.chambers[0]?.last_reading?.setpoint_c).toBe(58);
      // The interrupted rest went on only with the chamber back at 58 ± 2 °C, its step time where it stopped.
      expect(restored()?.setpointC).toBe(58);
      expect(Math.abs((restored()?.airC ?? Number.NaN) - 58)).toBeLessThanOrEqual(2);
      const next = continued()[0];
      expect(next?.stepIndex).toBe(2);
      expect(next?.temperatureC ?? Number.NaN, "cell when the rest continued, °C").toBeGreaterThan(50);
      expect(next?.stepTimeS ?? Number.NaN).toBeGreaterThanOrEqual(interruptedAtS);
      expect(next?.stepTimeS ?? Number.NaN).toBeLessThanOrEqual(interruptedAtS + 2);
      expect(second.stepsOf(run).at(-1)?.text).toBe("Rest for 1 hour");
    } finally {
      await second.stop();
    }
  }, 120_000);

  it("6: `Rest for 1 hour or until dV/dt < 0.0017 mV/s` after a charge does not end after 5 s", async () => {
    const path = benchFile("dvdt", ["{ id: cycler1, driver: sim/cycler, channels: [ch1] }"]);
    await withDaemon(path, async (d) => {
      const run = await d.started({
        channel: "ch1",
        cell: NMC_18650,
        profile: profileText("relax", [
          "Charge at 1C for 10 minutes",
          "Rest for 1 hour or until dV/dt < 0.0017 mV/s",
          "Rest for 1 second",
        ]),
      });
      await eventually(
        () => d.samplesOf(run).some((s) => s.stepIndex === 2 && s.stepTimeS >= 60),
        "a minute of the rest",
        WAIT_MS,
        () => {
          const next = d.stepsOf(run).find((c) => c.stepIndex === 3);
          if (next) {
            const restS = maxOf(
              d
                .samplesOf(run)
                .filter((s) => s.stepIndex === 2)
                .map((s) => s.stepTimeS),
            );
            return `the rest ended after ${restS} s: ${next.endedBecause}`;
          }
          return d.ended(run);
        },
      );
      const relaxing = d.samplesOf(run).filter((s) => s.stepIndex === 2);
      // The voltage falls as the cell relaxes after the charge: a magnitude, not a sign, ends the rest.
      expect((relaxing.at(-1)?.voltageV ?? Number.NaN) < (relaxing[0]?.voltageV ?? Number.NaN)).toBe(true);
    });
  }, 90_000);

  it("7: a device tick that hangs does not disable the watchdog: the run on it faults", async () => {
    const path = benchFile("hang", [`{ id: hang1, driver: ${HANG_DRIVER}, channels: [h1] }`]);
    await withDaemon(path, async (d) => {
      const channel = d.daemon.bench.channels.get("h1")?.channel;
      if (!(channel instanceof HangingChannel)) throw new Error("h1 is not the hanging test channel");
      try {
        const run = await d.started({
          channel: "h1",
          cell: NMC_18650,
          profile: profileText("idle", ["Rest for 1 hour"]),
          temperature_override: { reason: "test channel without a thermocouple" },
        });
        await eventually(
          () => d.samplesOf(run).length > 0,
          "the run's first sample",
          WAIT_MS,
          () => d.ended(run),
        );
        channel.hanging = true;
        const since = d.now();
        // Simulated time moves only while something sleeps on the clock: with the device's tick hung
        // and no loop of its own for the watchdog, it stops.
        let seen = { simMs: since, realMs: Date.now() };
        await eventually(
          () => d.stateOf(run)?.state === "faulted",
          "the watchdog to fault the run",
          WAIT_MS,
          () => {
            const state = d.stateOf(run);
            if (state && state.state !== "running") return `run ${run} went ${state.state}: ${state.reason}`;
            if (d.now() - since > 60_000)
              return `a simulated minute after the tick hung the run is still ${state?.state}`;
            if (d.now() !== seen.simMs) seen = { simMs: d.now(), realMs: Date.now() };
            return Date.now() - seen.realMs > 5000
              ? `simulated time stopped ${(d.now() - since) / 1000} s after the tick hung: nothing but the hung tick runs`
              : undefined;
          },
        );
        expect(d.stateOf(run)?.reason).toMatch(/^no fresh sample from h1 for \d+(\.\d+)? s \(watchdog\)$/);
        expect((await d.run(run)).body.state).toBe("faulted");
      } finally {
        channel.release();
      }
    });
  }, 90_000);
});
