/**
 * A harness for property tests of the safety supervisor (issue 10): a simulated bench of 2-4 sim
 * cycler channels (on one or two cycler devices) sharing one sim chamber, on a virtual clock the
 * test moves, with every command to the instruments logged, faults injected at given moments and
 * the wall clock made to jump. Scenarios are plain data (so fast-check prints them readably); the
 * oracles read the log afterwards.
 *
 * Times in the log are the virtual clock's `now()` (monotonic ms since the bench opened); `seq`
 * orders entries that share a time (everything a poller tick does happens at one virtual instant).
 */
import type { CellSpec, ChamberReading, CyclerReading, CyclerSetpoint } from "../../drivers/capabilities.js";
import { type Clock, VirtualClock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import type { SimChamber } from "../../drivers/sim/sim-chamber.js";
import type { SimCyclerChannel } from "../../drivers/sim/sim-cycler.js";
import { Bench } from "../../src/bench/bench.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import type { RunEngine } from "../../src/engine/run-engine.js";
import type { Condition, Direction, Profile, ProfileNode, SafetyLimits } from "../../src/profile/ast.js";
import { validateProfile } from "../../src/profile/validate.js";
import type { RunState } from "../../src/run/records.js";
import {
  checkSample,
  type SafetyEnvelope,
  safetyEnvelope,
  type Violation,
} from "../../src/safety/safety-envelope.js";
import { defaultWatchdogMs } from "../../src/safety/watchdog.js";
import type { ChannelSample } from "../../src/sampling/sample.js";
import { chamber, profile, repeat, rest, step } from "./profile-builders.js";

/**
 * A clock that delegates to a virtual clock but whose wall time can jump (an NTP step, an operator
 * setting the date): `now()` and sleeping are the virtual clock's, `wallNow()` is shifted.
 */
export class JumpingClock implements Clock {
  readonly speed: number;
  private shiftMs = 0;

  constructor(readonly inner: VirtualClock) {
    this.speed = inner.speed;
  }

  now(): number {
    return this.inner.now();
  }

  wallNow(): number {
    return this.inner.wallNow() + this.shiftMs;
  }

  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    return this.inner.sleepUntil(monoMs, signal);
  }

  /** Moves wall time by `ms` (negative: backwards) from now on. */
  jump(ms: number): void {
    this.shiftMs += ms;
  }
}

/** One step of a generated profile, as data. */
export type StepSpec =
  | { kind: "rest"; s: number }
  | { kind: "cc"; dir: Direction; c: number; s: number; untilV?: number }
  | { kind: "hold"; v: number; s: number }
  | { kind: "chamber"; c: number; soakS: number; tolC: number }
  | { kind: "repeat"; n: number; steps: StepSpec[] };

/** What happens to the bench at a given moment (simulated seconds after it started). */
export type FaultSpec =
  /** The cell self-heats above `triggerC` (sim `runaway` knob). */
  | { kind: "runaway"; ch: number; atS: number; triggerC: number; powerW: number; doublingC: number }
  /** The cell's temperature is set (a hot spot, a cold soak, a heater next to it). */
  | { kind: "temperature"; ch: number; atS: number; celsius: number }
  /** The cell's slow polarisation jumps by `volts` (its terminal voltage leaves the window for minutes). */
  | { kind: "polarisation"; ch: number; atS: number; volts: number }
  /** The output drives `factor` × the cell's largest current behind the run's back (a hardware fault). */
  | { kind: "over-current"; ch: number; atS: number; factor: number; dir: Direction }
  /** Readings freeze at their last values (sim `stuck`). */
  | { kind: "stuck"; ch: number; atS: number }
  /** The channel's cell temperature reads NaN from now on (thermocouple lost). */
  | { kind: "sensor-lost"; ch: number; atS: number }
  /** The channel's instrument stops answering (sim `dropReplies: { probability: 1 }`). */
  | { kind: "link-lost"; ch: number; atS: number }
  /** A cycler device's read() never returns from now on: its poller tick hangs. */
  | { kind: "hang"; device: number; atS: number }
  /** Every call to a cycler device (read, apply, safe state) never returns from now on. */
  | { kind: "hang-all"; device: number; atS: number }
  /** The chamber controller stops answering. */
  | { kind: "chamber-link-lost"; atS: number }
  /** The chamber's read() never returns. */
  | { kind: "chamber-hang"; atS: number }
  /** The chamber stops regulating (sim `unregulated`): the air drifts to the room. */
  | { kind: "chamber-unregulated"; atS: number };

export interface ChannelPlan {
  cell: CellSpec;
  steps: StepSpec[];
  safety?: SafetyLimits;
  /** When the run is created (attached and started), simulated seconds after the bench started. */
  startS: number;
}

export interface Scenario {
  periodMs: number;
  /** Air temperature of the chamber at start-up, °C (it is in standby until a run sets it). */
  chamberC: number;
  initialSoc: number;
  /** Channels on the first cycler device; the others are on a second one (when fewer than all). */
  firstDeviceChannels: number;
  channels: ChannelPlan[];
  faults: FaultSpec[];
  wallJump?: { atS: number; stepMs: number };
  noise?: { voltageV: number; currentA: number; temperatureC: number; seed: number };
  /** Simulated time at which the scenario is cut off. */
  maxS: number;
  /** Simulated time kept running after every run has ended and every fault was injected. */
  graceS: number;
  /** If given, the scenario also ends this long after its last run start or fault, runs or not. */
  afterLastActionS?: number;
}

type Body =
  | { kind: "sample"; channel: string; sample: ChannelSample }
  | { kind: "chamber-sample"; chamber: string; reading: ChamberReading }
  | { kind: "apply"; channel: string; setpoint: CyclerSetpoint }
  | { kind: "safe"; channel: string }
  | {
      kind: "chamber-set";
      chamber: string;
      celsius: number;
      /** Every cell the supervisor watched in the chamber when the set point was asked for. */
      inside: { channel: string; cell: string; rangeC: [number, number] }[];
    }
  | { kind: "chamber-safe"; chamber: string }
  | { kind: "state"; channel: string; run: string; state: RunState; reason: string }
  | { kind: "latch"; chamber: string; reason: string }
  | {
      kind: "attach";
      channel: string;
      envelope: SafetyEnvelope;
      /** The chamber's set point when the cell went in, if it was regulating to one. */
      chamberSetpointC: number | undefined;
    }
  | { kind: "refused"; channel: string; reason: string }
  | { kind: "inject"; what: string }
  | { kind: "error"; source: string; message: string };

export type LogEntry = Body & { seq: number; t: number };

export interface ChannelOutcome {
  id: string;
  device: string;
  plan: ChannelPlan;
  profile: Profile;
  engine: RunEngine | undefined;
  /** Why the run was not created (profile invalid, attach refused), if so. */
  notStarted: string | undefined;
}

export interface Outcome {
  scenario: Scenario;
  periodMs: number;
  watchdogMs: number;
  chamberId: string;
  channels: ChannelOutcome[];
  log: LogEntry[];
  endMs: number;
  /** Cycler devices every call of which hangs ("hang-all"), with the time it began. */
  hungAllSince: Map<string, number>;
}

export const CHAMBER_ID = "tc1";

/** The bench: ch1..chN, the first `firstDeviceChannels` on cycler1, the rest on cycler2, all in tc1. */
export function scenarioConfig(sc: Scenario): BenchConfig {
  const ids = sc.channels.map((_c, i) => `ch${i + 1}`);
  const split = Math.min(Math.max(1, sc.firstDeviceChannels), ids.length);
  const groups = [ids.slice(0, split), ids.slice(split)].filter((g) => g.length > 0);
  const faults = sc.noise
    ? {
        noise: {
          voltageV: sc.noise.voltageV,
          currentA: sc.noise.currentA,
          temperatureC: sc.noise.temperatureC,
        },
        seed: sc.noise.seed,
      }
    : undefined;
  return {
    source: "test",
    bench: "property",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      ...groups.map((channels, i) => ({
        id: `cycler${i + 1}`,
        driver: "sim/cycler",
        channels,
        options: { initialSoc: sc.initialSoc, ...(faults ? { faults } : {}) },
      })),
      { id: CHAMBER_ID, driver: "sim/chamber", options: { initialC: sc.chamberC } },
    ],
    chambers: [{ id: CHAMBER_ID, device: CHAMBER_ID, channels: ids }],
    samplingPeriodMs: sc.periodMs,
    tokens: [],
  };
}

function toNode(s: StepSpec): ProfileNode {
  switch (s.kind) {
    case "rest":
      return rest(s.s);
    case "cc": {
      const conditions: Condition[] = s.untilV === undefined ? [] : [{ kind: "voltage", volts: s.untilV }];
      return step(
        { kind: "constant", direction: s.dir, value: { kind: "c-rate", c: s.c } },
        { durationS: s.s, conditions },
        {
          text: `${s.dir} at ${s.c}C for ${s.s} s${s.untilV === undefined ? "" : ` or until ${s.untilV} V`}`,
        },
      );
    }
    case "hold":
      return step(
        { kind: "hold", volts: s.v },
        { durationS: s.s },
        { text: `Hold at ${s.v} V for ${s.s} s` },
      );
    case "chamber":
      return chamber(s.c, s.soakS, s.tolC);
    case "repeat":
      return repeat(s.n, s.steps.map(toNode));
  }
}

export function planProfile(plan: ChannelPlan, name: string): Profile {
  return profile(plan.steps.map(toNode), { name, ...(plan.safety ? { safety: plan.safety } : {}) });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs a scenario to its end (every run over plus the grace time, or the cap) and returns the log. */
export async function runScenario(sc: Scenario): Promise<Outcome> {
  const inner = new VirtualClock({ auto: false });
  const clock = new JumpingClock(inner);
  const config = scenarioConfig(sc);
  const log: LogEntry[] = [];
  let seq = 0;
  let recording = true;
  let benchRef: Bench | undefined;
  const latched = new Set<string>();
  const push = (body: Body): void => {
    if (!recording) return;
    // A latch is set synchronously by the bench: note it before whatever comes next.
    for (const slot of benchRef?.chambers.values() ?? []) {
      if (slot.latched !== undefined && !latched.has(slot.id)) {
        latched.add(slot.id);
        log.push({ kind: "latch", chamber: slot.id, reason: slot.latched, seq: seq++, t: inner.now() });
      }
    }
    log.push({ ...body, seq: seq++, t: inner.now() });
  };
  const bench = await Bench.open(config, clock, {
    channelSample: (slot, sample) => push({ kind: "sample", channel: slot.id, sample }),
    chamberSample: (slot) => {
      if (slot.latest) push({ kind: "chamber-sample", chamber: slot.id, reading: { ...slot.latest } });
    },
    error: (source, err) => push({ kind: "error", source, message: errorMessage(err) }),
  });
  benchRef = bench;

  const hungDevices = new Set<string>();
  const hungAllSince = new Map<string, number>();
  const sensorLost = new Set<string>();
  let chamberHung = false;
  const releases: (() => void)[] = [];
  const hang = <T>(): Promise<T> =>
    new Promise<T>((_resolve, reject) => {
      releases.push(() => reject(new Error("hung call released at the end of the scenario")));
    });

  const chamberSlot = bench.chambers.get(CHAMBER_ID) as NonNullable<ReturnType<typeof bench.chambers.get>>;
  const simChamber = chamberSlot.chamber as SimChamber;
  for (const slot of bench.channels.values()) {
    const ch = slot.channel;
    const apply = ch.apply.bind(ch);
    const toSafeState = ch.toSafeState.bind(ch);
    const read = ch.read.bind(ch);
    const hungAll = (): boolean => hungAllSince.has(slot.device.id);
    ch.apply = (setpoint) => {
      push({ kind: "apply", channel: slot.id, setpoint });
      return hungAll() ? hang<void>() : apply(setpoint);
    };
    ch.toSafeState = () => {
      push({ kind: "safe", channel: slot.id });
      return hungAll() ? hang<void>() : toSafeState();
    };
    ch.read = async (): Promise<CyclerReading> => {
      if (hungDevices.has(slot.device.id) || hungAll()) return hang<CyclerReading>();
      const r = await read();
      return sensorLost.has(slot.id) ? { ...r, temperatureC: Number.NaN } : r;
    };
  }
  {
    const c = chamberSlot.chamber;
    const setSetpoint = c.setSetpoint.bind(c);
    const toSafeState = c.toSafeState.bind(c);
    const read = c.read.bind(c);
    c.setSetpoint = (celsius) => {
      const inside = chamberSlot.channels.flatMap((channel) => {
        const w = bench.supervisor.cellOn(channel);
        return w ? [{ channel, cell: w.cell.id, rangeC: w.envelope.temperatureC }] : [];
      });
      push({ kind: "chamber-set", chamber: chamberSlot.id, celsius, inside });
      return setSetpoint(celsius);
    };
    c.toSafeState = () => {
      push({ kind: "chamber-safe", chamber: chamberSlot.id });
      return toSafeState();
    };
    c.read = async (): Promise<ChamberReading> => (chamberHung ? hang<ChamberReading>() : read());
  }

  const channels: ChannelOutcome[] = sc.channels.map((plan, i) => {
    const id = `ch${i + 1}`;
    return {
      id,
      device: bench.channel(id).device.id,
      plan,
      profile: planProfile(plan, `P-${id}`),
      engine: undefined,
      notStarted: undefined,
    };
  });
  /** Run starts in flight: a start on a device that hangs never returns (settled at the end). */
  const starts: Promise<void>[] = [];
  const sim = (i: number): SimCyclerChannel =>
    bench.channel((channels[i] as ChannelOutcome).id).channel as SimCyclerChannel;

  const createRun = async (out: ChannelOutcome): Promise<void> => {
    const slot = bench.channel(out.id);
    const refuse = (reason: string): void => {
      out.notStarted = reason;
      push({ kind: "refused", channel: out.id, reason });
    };
    // What the daemon checks before a run is created (RunManager.create).
    const issues = validateProfile(out.profile, out.plan.cell, {
      cycler: slot.channel.ranges,
      chamber: simChamber.ranges,
    });
    if (issues.length > 0) return refuse(`invalid: ${issues.map((i) => i.message).join("; ")}`);
    if (slot.latest && Number.isNaN(slot.latest.temperatureC)) return refuse("no cell temperature reading");
    let engine: RunEngine;
    try {
      engine = bench.attachRun(
        out.id,
        { id: `R-${out.id}`, cell: out.plan.cell, profile: out.profile },
        {
          state: (e) =>
            push({ kind: "state", channel: out.id, run: e.run, state: e.state, reason: e.reason }),
        },
      );
    } catch (err) {
      return refuse(errorMessage(err));
    }
    out.engine = engine;
    push({
      kind: "attach",
      channel: out.id,
      envelope: safetyEnvelope(out.plan.cell, out.plan.safety),
      chamberSetpointC:
        simChamber.inStandby || !simChamber.model.regulating ? undefined : simChamber.model.setpointC,
    });
    starts.push(
      engine
        .start()
        .catch((err: unknown) => push({ kind: "error", source: out.id, message: errorMessage(err) })),
    );
    // Let the start go as far as it can at this instant (without moving time).
    await inner.advanceTo(inner.now());
  };

  const inject = (f: FaultSpec): void => {
    push({ kind: "inject", what: JSON.stringify(f) });
    switch (f.kind) {
      case "runaway":
        sim(f.ch).faults.set({ runaway: { triggerC: f.triggerC, powerW: f.powerW, doublingC: f.doublingC } });
        return;
      case "temperature": {
        const ch = sim(f.ch);
        ch.device.world.advance();
        ch.cell.temperatureC = f.celsius;
        return;
      }
      case "polarisation": {
        const ch = sim(f.ch);
        ch.device.world.advance();
        ch.cell.v2 += f.volts;
        return;
      }
      case "over-current": {
        const ch = sim(f.ch);
        const cell = (channels[f.ch] as ChannelOutcome).plan.cell;
        const limit = f.dir === "charge" ? cell.currentA[1] : -cell.currentA[0];
        const [lo, hi] = ch.ranges.currentA;
        const amps = Math.min(hi, Math.max(lo, (f.dir === "charge" ? 1 : -1) * limit * f.factor));
        ch.device.world.advance();
        // Behind the run's back: the output is driven without a command (not logged as one).
        ch.cell.setDrive({ mode: "cc", currentA: amps, minV: 0, maxV: 5 });
        return;
      }
      case "stuck":
        sim(f.ch).faults.set({ stuck: true });
        return;
      case "sensor-lost":
        sensorLost.add((channels[f.ch] as ChannelOutcome).id);
        return;
      case "link-lost":
        sim(f.ch).faults.set({ dropReplies: { probability: 1 } });
        return;
      case "hang":
      case "hang-all": {
        const cyclers = config.devices.filter((d) => d.driver === "sim/cycler");
        const device = cyclers[f.device % cyclers.length];
        if (device && f.kind === "hang") hungDevices.add(device.id);
        if (device && f.kind === "hang-all" && !hungAllSince.has(device.id))
          hungAllSince.set(device.id, inner.now());
        return;
      }
      case "chamber-link-lost":
        simChamber.faults.set({ dropReplies: { probability: 1 } });
        return;
      case "chamber-hang":
        chamberHung = true;
        return;
      case "chamber-unregulated":
        simChamber.faults.set({ unregulated: true });
        return;
    }
  };

  const actions: { atMs: number; order: number; run: () => Promise<void> | void }[] = [
    ...channels.map((out, i) => ({
      atMs: Math.round(out.plan.startS * 1000),
      order: i,
      run: () => createRun(out),
    })),
    ...sc.faults.map((f, i) => ({ atMs: Math.round(f.atS * 1000), order: 100 + i, run: () => inject(f) })),
    ...(sc.wallJump
      ? [
          {
            atMs: Math.round(sc.wallJump.atS * 1000),
            order: 1000,
            run: () => {
              const stepMs = (sc.wallJump as NonNullable<Scenario["wallJump"]>).stepMs;
              push({ kind: "inject", what: `wall clock jumps ${stepMs} ms` });
              clock.jump(stepMs);
            },
          },
        ]
      : []),
  ].sort((a, b) => a.atMs - b.atMs || a.order - b.order);

  const capMs = sc.maxS * 1000;
  const chunkMs = 10 * sc.periodMs;
  bench.start();
  // Let every poller take its first reading and go to sleep before time moves.
  await inner.advanceTo(0);
  let next = 0;
  let quietSinceMs: number | undefined;
  for (;;) {
    while (next < actions.length && (actions[next] as (typeof actions)[number]).atMs <= inner.now()) {
      await (actions[next] as (typeof actions)[number]).run();
      next++;
    }
    const t = inner.now();
    if (t >= capMs) break;
    const lastActionMs = actions[actions.length - 1]?.atMs ?? 0;
    if (
      sc.afterLastActionS !== undefined &&
      next >= actions.length &&
      t - lastActionMs >= sc.afterLastActionS * 1000
    )
      break;
    const over = channels.every((c) => c.engine === undefined || c.engine.isTerminal);
    if (next >= actions.length && over) {
      quietSinceMs ??= t;
      if (t - quietSinceMs >= sc.graceS * 1000) break;
    }
    await inner.advanceTo(Math.min(t + chunkMs, capMs, actions[next]?.atMs ?? Number.POSITIVE_INFINITY));
  }
  const endMs = inner.now();
  recording = false;
  hungDevices.clear();
  const hungAll = new Map(hungAllSince);
  hungAllSince.clear();
  chamberHung = false;
  for (const release of releases) release();
  await Promise.all(starts);
  await bench.shutdown();
  return {
    scenario: sc,
    periodMs: sc.periodMs,
    watchdogMs: config.watchdogMs ?? defaultWatchdogMs(sc.periodMs),
    chamberId: CHAMBER_ID,
    channels,
    log,
    endMs,
    hungAllSince: hungAll,
  };
}

/* ------------------------------------------------------------------------------------------------
 * Oracles. Each returns the problems it found (empty: the property holds), described precisely
 * enough to find them in the log.
 * --------------------------------------------------------------------------------------------- */

const CHAMBER_WIDE: ReadonlySet<Violation["kind"]> = new Set(["over-temperature", "no-temperature"]);

function describeSample(s: ChannelSample): string {
  return `V=${s.voltageV.toFixed(3)} I=${s.currentA.toFixed(3)} T=${s.temperatureC.toFixed(1)}`;
}

/**
 * Property 1: every sample that violates the envelope of the cell watched on its channel (the
 * oracle: safetyEnvelope + checkSample, a cell temperature required) is followed, no later than one
 * sampling period after the sample's time, by a safe-state command (toSafeState or a rest set point)
 * to that channel, unless the channel's output was already commanded off and the sample shows no
 * current violation (a current beyond the envelope means the output is live, whatever was commanded).
 * A violation that concerns the whole chamber (over-temperature, no temperature) also needs the
 * chamber in its safe state within the same period.
 *
 * `idleCurrent: false` leaves out current violations on a channel no run drives (never started, or
 * its run ended): the supervisor checks such a channel for temperature only, so an output that
 * drives current after its run ended (a hardware fault) is not answered with a safe-state command.
 */
export function reactionProblems(o: Outcome, options: { idleCurrent: boolean }): string[] {
  const problems: string[] = [];
  const envelope = new Map<string, SafetyEnvelope>();
  const off = new Map<string, boolean>();
  const underway = new Map<string, boolean>();
  let chamberOff = true; // Bench.open put it in standby
  type Pending = { deadline: number; what: string };
  const pendingChannel = new Map<string, Pending[]>();
  let pendingChamber: Pending[] = [];
  const expire = (now: number): void => {
    for (const [ch, list] of pendingChannel) {
      const keep: Pending[] = [];
      for (const p of list) {
        if (now > p.deadline)
          problems.push(`${ch}: no safe-state command by t=${p.deadline} ms after ${p.what}`);
        else keep.push(p);
      }
      pendingChannel.set(ch, keep);
    }
    pendingChamber = pendingChamber.filter((p) => {
      if (now > p.deadline)
        problems.push(`chamber: not put in safe state by t=${p.deadline} ms after ${p.what}`);
      return now <= p.deadline;
    });
  };
  for (const e of o.log) {
    expire(e.t);
    switch (e.kind) {
      case "attach":
        envelope.set(e.channel, e.envelope);
        break;
      case "state":
        underway.set(e.channel, e.state === "running" || e.state === "paused");
        break;
      case "safe":
        off.set(e.channel, true);
        pendingChannel.set(e.channel, []);
        break;
      case "apply":
        if (e.setpoint.mode === "rest") {
          off.set(e.channel, true);
          pendingChannel.set(e.channel, []);
        } else off.set(e.channel, false);
        break;
      case "chamber-safe":
        chamberOff = true;
        pendingChamber = [];
        break;
      case "chamber-set":
        chamberOff = false;
        break;
      case "sample": {
        const env = envelope.get(e.channel);
        if (!env) break;
        const v = checkSample(env, e.sample, { temperatureRequired: true });
        if (!v) break;
        const what = `the ${v.kind} violation of the sample of ${e.channel} at t=${e.t} ms (#${e.seq}: ${describeSample(e.sample)}; ${v.reason})`;
        const idle = underway.get(e.channel) !== true;
        const mustAct = v.kind === "current" ? options.idleCurrent || !idle : off.get(e.channel) === false;
        if (mustAct) {
          const list = pendingChannel.get(e.channel) ?? [];
          list.push({ deadline: e.t + o.periodMs, what });
          pendingChannel.set(e.channel, list);
        }
        if (CHAMBER_WIDE.has(v.kind) && !chamberOff)
          pendingChamber.push({ deadline: e.t + o.periodMs, what });
        break;
      }
      default:
        break;
    }
  }
  // Obligations whose period ended before the scenario did and are still open.
  expire(o.endMs);
  return problems;
}

/** Samples that violate the envelope of the cell watched on their channel (the oracle of property 1). */
export function violatingSamples(o: Outcome): { kind: Violation["kind"]; channel: string; t: number }[] {
  const envelope = new Map<string, SafetyEnvelope>();
  const found: { kind: Violation["kind"]; channel: string; t: number }[] = [];
  for (const e of o.log) {
    if (e.kind === "attach") envelope.set(e.channel, e.envelope);
    if (e.kind !== "sample") continue;
    const env = envelope.get(e.channel);
    const v = env && checkSample(env, e.sample, { temperatureRequired: true });
    if (v) found.push({ kind: v.kind, channel: e.channel, t: e.t });
  }
  return found;
}

/**
 * Property 2: once a run has faulted, no set point other than rest reaches its channel (no run is
 * started again); once a chamber is latched in safe state, no set point reaches the chamber and no
 * output set point reaches any channel in it.
 */
export function latchedOutputProblems(o: Outcome): string[] {
  const problems: string[] = [];
  const faulted = new Map<string, number>();
  let latchedAt: number | undefined;
  const inChamber = new Set(o.channels.map((c) => c.id));
  for (const e of o.log) {
    if (e.kind === "state" && e.state === "faulted" && !faulted.has(e.channel)) faulted.set(e.channel, e.t);
    if (e.kind === "latch") latchedAt ??= e.t;
    if (e.kind === "apply" && e.setpoint.mode !== "rest") {
      const since = faulted.get(e.channel);
      if (since !== undefined)
        problems.push(
          `${e.channel}: ${JSON.stringify(e.setpoint)} applied at t=${e.t} ms (#${e.seq}), after its run faulted at t=${since} ms`,
        );
      if (latchedAt !== undefined && inChamber.has(e.channel))
        problems.push(
          `${e.channel}: ${JSON.stringify(e.setpoint)} applied at t=${e.t} ms (#${e.seq}), while its chamber is latched in safe state since t=${latchedAt} ms`,
        );
    }
    if (e.kind === "chamber-set" && latchedAt !== undefined)
      problems.push(
        `chamber set to ${e.celsius} °C at t=${e.t} ms (#${e.seq}) while latched in safe state since t=${latchedAt} ms`,
      );
  }
  return problems;
}

/**
 * Property 3: every chamber set point lies within the temperature range of every cell the
 * supervisor watches in that chamber when it is asked for.
 */
export function chamberSetpointProblems(o: Outcome): string[] {
  const problems: string[] = [];
  for (const e of o.log) {
    if (e.kind !== "chamber-set") continue;
    for (const cell of e.inside) {
      const [lo, hi] = cell.rangeC;
      if (e.celsius < lo || e.celsius > hi)
        problems.push(
          `chamber set to ${e.celsius} °C at t=${e.t} ms (#${e.seq}) with cell ${cell.cell} (${lo}..${hi} °C) inside on ${cell.channel}`,
        );
    }
  }
  return problems;
}

/** A cell put (by a new run) into a chamber regulating to a set point outside the cell's range. */
export function attachIntoForbiddenChamberProblems(o: Outcome): string[] {
  const problems: string[] = [];
  for (const e of o.log) {
    if (e.kind !== "attach" || e.chamberSetpointC === undefined) continue;
    const [lo, hi] = e.envelope.temperatureC;
    if (e.chamberSetpointC < lo || e.chamberSetpointC > hi)
      problems.push(
        `${e.channel}: run started at t=${e.t} ms (#${e.seq}) with its cell (${lo}..${hi} °C) in a chamber regulating to ${e.chamberSetpointC} °C`,
      );
  }
  return problems;
}

/**
 * Watchdog: a run is never underway (running or paused) while its channel, or its chamber, has
 * been silent for longer than the watchdog time plus one period, counting from the later of the
 * last fresh reading and the run's start; a run the watchdog faults had its channel commanded to
 * safe state first (a run started on a source already silent is watched afresh from its start).
 *
 * `hungSafeState: false`: on a device every call of which hangs, a run need only have its channel
 * commanded to safe state in time (its last command an off one) (RunEngine.finish awaits toSafeState() before it latches
 * the fault, so such a run stays "running" for ever).
 */
export function watchdogProblems(o: Outcome, options: { hungSafeState: boolean }): string[] {
  const problems: string[] = [];
  const slack = o.watchdogMs + o.periodMs;
  const chamberFresh = [0, ...o.log.filter((e) => e.kind === "chamber-sample").map((e) => e.t)];
  for (const c of o.channels) {
    const start = o.log.find((e) => e.kind === "attach" && e.channel === c.id)?.t;
    if (start === undefined) continue;
    const end = o.log.find(
      (e) =>
        e.kind === "state" &&
        e.channel === c.id &&
        ["completed", "stopped", "aborted", "faulted"].includes(e.state),
    );
    const endT = end?.t ?? o.endMs;
    const check = (fresh: number[], what: string): void => {
      const times = [...fresh, o.endMs].sort((a, b) => a - b);
      for (let i = 0; i + 1 < times.length; i++) {
        const from = Math.max(times[i] as number, start);
        const to = Math.min(times[i + 1] as number, endT);
        if (!(from + slack < to)) continue;
        const hungAt = o.hungAllSince.get(c.device);
        if (!options.hungSafeState && hungAt !== undefined && hungAt <= from + slack) {
          // The channel's last command by then is an off one (safe state, or a rest set point).
          const last = o.log.findLast(
            (e) => (e.kind === "safe" || e.kind === "apply") && e.channel === c.id && e.t <= from + slack,
          );
          const off = last?.kind === "safe" || (last?.kind === "apply" && last.setpoint.mode === "rest");
          if (!off)
            problems.push(
              `${c.id}: not commanded to safe state by t=${from + slack} ms (silent since t=${from} ms) while its device hangs`,
            );
          continue;
        }
        problems.push(
          `${c.id}: run still underway at t=${to} ms, ${what} silent since t=${times[i]} ms (run started at t=${start} ms; watchdog ${o.watchdogMs} ms, period ${o.periodMs} ms)`,
        );
      }
    };
    check(
      [0, ...o.log.filter((e) => e.kind === "sample" && e.channel === c.id).map((e) => e.t)],
      "its channel",
    );
    check(chamberFresh, "its chamber");
    if (end?.kind === "state" && end.state === "faulted" && /watchdog|stopped answering/.test(end.reason)) {
      const safe = o.log.some((e) => e.kind === "safe" && e.channel === c.id && e.seq < end.seq);
      if (!safe) problems.push(`${c.id}: faulted by the watchdog without a safe-state command`);
    }
  }
  return problems;
}

/**
 * No false trip: every run started, none faulted or waited for a temperature window, nothing but a
 * backwards wall clock was reported, and each channel's wall stamps still increase strictly.
 */
export function falseTripProblems(o: Outcome): string[] {
  const problems: string[] = [];
  for (const c of o.channels) {
    if (c.notStarted !== undefined) problems.push(`${c.id}: run not started: ${c.notStarted}`);
    else if (c.engine?.currentState !== "completed")
      problems.push(
        `${c.id}: run ended ${c.engine?.currentState ?? "?"} (${c.engine?.status().reason ?? ""}) at step ${c.engine?.status().stepPath ?? "-"}`,
      );
  }
  for (const e of o.log) {
    if (e.kind === "state" && (e.state === "faulted" || e.reason.startsWith("waiting")))
      problems.push(`${e.channel}: ${e.state} at t=${e.t} ms: ${e.reason}`);
    if (e.kind === "error" && !(e.source === "clock" && /wall clock went back/.test(e.message)))
      problems.push(`error from ${e.source} at t=${e.t} ms: ${e.message}`);
    if (e.kind === "latch") problems.push(`chamber latched at t=${e.t} ms: ${e.reason}`);
  }
  const lastWall = new Map<string, number>();
  for (const e of o.log) {
    if (e.kind !== "sample") continue;
    const prev = lastWall.get(e.channel);
    if (prev !== undefined && !(e.sample.tWallMs > prev))
      problems.push(`${e.channel}: wall stamp ${e.sample.tWallMs} at t=${e.t} ms not after ${prev}`);
    lastWall.set(e.channel, e.sample.tWallMs);
  }
  return problems;
}
