/**
 * Safety reaction benchmark (issue 10 "Must show", issue 16 target 5): how long the bench takes
 * from a violating sample to the safe-state command on that channel, on the real code path and the
 * real clock.
 *
 * A simulated bench as the daemon runs one (Bench.open, PacedClock at speed 1): 64 channels on
 * eight 8-channel sim/cycler devices, all in one sim/chamber, sampled at 10 Hz, each channel running
 * a 1 A charge. Violations are injected at random moments on random charging channels, one kind
 * after the other:
 * - "too warm to charge": the cell's temperature is set to 50 °C (NMC charge window 0..45 °C,
 *   maximum 60 °C), a charge-window violation of that channel alone;
 * - "over-current": the sim output is driven at 9 A behind the run's back (the cell allows ±6 A,
 *   the channel ±10 A), a current violation of that channel alone.
 * (An over-temperature trips the whole chamber into a latched safe state, which would stop the
 * other 63 runs; it follows the same path up to the channel's safe-state command.)
 *
 * Each channel's read() and toSafeState() are wrapped: the reaction is the time from the moment the
 * driver returned the sample (the last one before the trip) to the moment toSafeState() is called.
 * What the run does next is the supervisor's business (fault, or wait for the temperature window);
 * the bench only recovers the channel: the cell is cooled back to 25 °C and, when its run ended, a
 * new run takes the channel (a fresh cell), so the load stays at about 64 charging channels.
 *
 * Baseline, measured in the same run with the same wrappers: a bare driver, read() and, when the
 * reading is too warm to charge, toSafeState() at once (no poller, supervisor or run). The
 * injection → safe-state time is shown next to the sampling period (issue 10: within one period).
 *
 * Run alone: npx tsx test/bench/safety.ts
 */
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import type { CellSpec, CyclerChannel, CyclerReading } from "../../drivers/capabilities.js";
import "../../drivers/all.js";
import type { Clock } from "../../drivers/clock.js";
import { PacedClock } from "../../drivers/paced-clock.js";
import { createDevice } from "../../drivers/registry.js";
import type { SimCyclerChannel } from "../../drivers/sim/sim-cycler.js";
import { Bench } from "../../src/bench/bench.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import type { RunEngine } from "../../src/engine/run-engine.js";
import type { Profile } from "../../src/profile/ast.js";
import { parseProfile } from "../../src/profile/document.js";
import type { RunEventRecord } from "../../src/run/records.js";

/** What `npm run bench -- --json` reports under "safety" (issue 16), plus the number of trials. */
export interface SafetyFigures {
  reaction_p50_ms: number;
  reaction_p99_ms: number;
  reaction_max_ms: number;
  trials: number;
  /** The bare driver's read() → toSafeState(), same wrappers (the floor). */
  baseline_p99_ms: number;
  false_trips: number;
  unanswered: number;
  errors: number;
  target: typeof SAFETY_TARGET;
  met: boolean;
}

export const SAFETY_TARGET = { max_reaction_p99_ms: 1 } as const;

export interface SafetyBenchOptions {
  /** Channels on the bench (eight per sim/cycler device); default 64. */
  channels?: number;
  /** Sampling rate; default 10 Hz. */
  hz?: number;
  /** Violations to inject; default 600. */
  trials?: number;
  /** Bound on the injection phase, real seconds; default 30. */
  maxSeconds?: number;
  /** Bare-driver baseline trials; default 2000. */
  baselineTrials?: number;
  /** Where the table goes (default stdout). */
  out?: (line?: string) => void;
}

const NMC: CellSpec = {
  id: "NMC-BENCH",
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  voltageV: [2.5, 4.2],
  currentA: [-6, 6],
  temperatureC: [-20, 60],
};
const CHARGE_A = 1;
const WARM_C = 50;
const OVER_CURRENT_A = 9;
const CHANNELS_PER_CYCLER = 8;
/** A tripped channel is recovered (cell cooled, new run if its run ended) this long after the trip. */
const RECOVER_AFTER_MS = 200;
/** A recovered channel that does not charge again within this time is left out. */
const RECOVERY_BOUND_MS = 5000;
/** Charging samples a channel shows (after a run start or a recovery) before it may take a violation. */
const SETTLED_SAMPLES = 2;

type Kind = "too warm to charge" | "over-current";
const KINDS: readonly Kind[] = ["too warm to charge", "over-current"];

interface Trial {
  kind: Kind;
  /** Violating sample acquired → toSafeState() called, ms. */
  reactionMs: number;
  /** Violation injected → toSafeState() called, ms. */
  injectionMs: number;
  /** Samples of the channel between the injection and the trip, the tripping one included. */
  samples: number;
  /** The tripping sample shows the injected fault. */
  showsFault: boolean;
}

interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

export interface SafetyMeasurement {
  channels: number;
  hz: number;
  trials: Trial[];
  reaction: Distribution;
  injection: Distribution;
  baseline: { reaction: Distribution; readMs: Distribution; safeStateMs: Distribution; trials: number };
  /** Runs faulted without an injected violation (must be 0). */
  falseTrips: string[];
  /** Safe-state commands to a charging channel without an injected violation (must be 0). */
  unexpectedSafeStates: string[];
  /** Real time between two samples of a channel, ms. */
  sampleInterval: Distribution;
  /** Runs faulted after a trip, per kind (the others waited, e.g. for the temperature window). */
  faultedAfterTrip: Record<Kind, number>;
  /** Channels that did not charge again after a recovery. */
  stuck: number;
  /** Bench errors reported through BenchEvents.error and runs that could not be restarted. */
  errors: string[];
  /** Injections that never reached safe state within the phase. */
  unanswered: number;
  seconds: number;
}

/** Calls `onRead` when the driver returns a reading and `onSafe` when toSafeState() is called. */
function instrument(
  channel: CyclerChannel,
  onRead: (reading: CyclerReading, t: number) => void,
  onSafe: (t: number) => void,
): void {
  const read = channel.read.bind(channel);
  const toSafeState = channel.toSafeState.bind(channel);
  channel.read = async () => {
    const reading = await read();
    onRead(reading, performance.now());
    return reading;
  };
  channel.toSafeState = () => {
    onSafe(performance.now());
    return toSafeState();
  };
}

function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** Bare driver: read(), and toSafeState() at once when the reading is too warm to charge. */
async function measureBaseline(trials: number, clock: Clock): Promise<SafetyMeasurement["baseline"]> {
  const device = createDevice(
    { id: "baseline", driver: "sim/cycler", channels: ["b1"], options: { cell: NMC } },
    { clock, chamberOfChannel: () => undefined },
  );
  await device.connect();
  try {
    const channel = device.channels[0] as SimCyclerChannel;
    let acquiredAt = 0;
    let safeAt = 0;
    instrument(
      channel,
      (_r, t) => {
        acquiredAt = t;
      },
      (t) => {
        safeAt = t;
      },
    );
    const reactions: number[] = [];
    const reads: number[] = [];
    const safes: number[] = [];
    for (let i = 0; i < trials + 200; i++) {
      await channel.apply({ mode: "cc", currentA: CHARGE_A, minV: 2.5, maxV: 4.2 });
      channel.cell.temperatureC = WARM_C;
      const t0 = performance.now();
      const r = await channel.read();
      const t1 = performance.now();
      if (r.temperatureC > 46 && r.currentA > 0.01) await channel.toSafeState();
      const t2 = performance.now();
      channel.cell.temperatureC = 25;
      if (i < 200) continue; // warm-up
      reactions.push(safeAt - acquiredAt);
      reads.push(t1 - t0);
      safes.push(t2 - t1);
    }
    return {
      reaction: distribution(reactions),
      readMs: distribution(reads),
      safeStateMs: distribution(safes),
      trials,
    };
  } finally {
    await device.close();
  }
}

interface ChannelState {
  id: string;
  channel: SimCyclerChannel;
  run: RunEngine | undefined;
  runs: number;
  phase: "charging" | "armed" | "tripped" | "recovering" | "stuck";
  chargingSamples: number;
  armed: { kind: Kind; at: number; samples: number; acquiredAt: number; reading: CyclerReading | undefined };
  /** When the phase began (real ms). */
  since: number;
}

/** Measures the supervisor's reaction on a simulated bench; prints nothing. */
export async function measureSafetyReaction(options: SafetyBenchOptions = {}): Promise<SafetyMeasurement> {
  const channelCount = options.channels ?? 64;
  const hz = options.hz ?? 10;
  const target = options.trials ?? 600;
  const maxMs = (options.maxSeconds ?? 30) * 1000;
  const periodMs = 1000 / hz;
  const clock = new PacedClock(1);
  const baseline = await measureBaseline(options.baselineTrials ?? 2000, clock);

  const ids = Array.from({ length: channelCount }, (_, i) => `ch${i + 1}`);
  const cyclers: string[][] = [];
  for (let i = 0; i < ids.length; i += CHANNELS_PER_CYCLER)
    cyclers.push(ids.slice(i, i + CHANNELS_PER_CYCLER));
  const config: BenchConfig = {
    source: "safety bench",
    bench: "safety",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      ...cyclers.map((channels, i) => ({
        id: `cycler${i + 1}`,
        driver: "sim/cycler",
        channels,
        options: { cell: NMC, initialSoc: 0.3 },
      })),
      { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
    ],
    chambers: [{ id: "tc1", device: "tc1", channels: ids }],
    samplingPeriodMs: periodMs,
    tokens: [],
  };
  const errors: string[] = [];
  const falseTrips: string[] = [];
  const trials: Trial[] = [];
  const intervals: number[] = [];
  const unexpectedSafeStates: string[] = [];
  let measuring = true;
  const bench = await Bench.open(config, clock, {
    error: (source, err) => {
      if (measuring) errors.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    },
  });
  const states = new Map<string, ChannelState>();
  for (const id of ids) {
    const channel = bench.channel(id).channel as SimCyclerChannel;
    const state: ChannelState = {
      id,
      channel,
      run: undefined,
      runs: 0,
      phase: "recovering",
      chargingSamples: 0,
      armed: { kind: "over-current", at: 0, samples: 0, acquiredAt: 0, reading: undefined },
      since: 0,
    };
    states.set(id, state);
    let lastReadAt: number | undefined;
    instrument(
      channel,
      (reading, t) => {
        if (measuring && lastReadAt !== undefined) intervals.push(t - lastReadAt);
        lastReadAt = t;
        if (state.phase === "armed") {
          state.armed.samples++;
          state.armed.acquiredAt = t;
          state.armed.reading = reading;
        } else if (
          (state.phase === "charging" || state.phase === "recovering") &&
          reading.currentA > CHARGE_A / 2
        ) {
          state.phase = "charging";
          state.chargingSamples++;
        }
      },
      (t) => {
        if (measuring && state.phase === "charging") unexpectedSafeStates.push(id);
        if (!measuring || state.phase !== "armed") return;
        const { kind, at, samples, acquiredAt, reading } = state.armed;
        state.phase = "tripped";
        state.since = t;
        state.chargingSamples = 0;
        if (samples === 0 || !reading) {
          errors.push(`${id}: safe state before any sample after the injection`);
          return;
        }
        trials.push({
          kind,
          reactionMs: t - acquiredAt,
          injectionMs: t - at,
          samples,
          showsFault:
            kind === "over-current" ? reading.currentA > NMC.currentA[1] : reading.temperatureC > WARM_C - 2,
        });
      },
    );
  }

  const faultedAfterTrip: Record<Kind, number> = { "too warm to charge": 0, "over-current": 0 };
  const onState = (state: ChannelState, run: string, e: RunEventRecord) => {
    if (!measuring || e.run !== run || e.state !== "faulted") return;
    if (state.phase === "tripped") faultedAfterTrip[state.armed.kind]++;
    else falseTrips.push(`${state.id} (${state.phase}): ${e.reason}`);
  };
  const startRun = async (state: ChannelState): Promise<void> => {
    const id = `S-${state.id}-${++state.runs}`;
    const profile: Profile = parseProfile(`name: charge\nsteps:\n  - Charge at ${CHARGE_A} A for 4 hours\n`, {
      sourceName: "safety bench",
    });
    state.chargingSamples = 0;
    state.phase = "recovering";
    state.since = performance.now();
    state.run = bench.attachRun(
      state.id,
      { id, cell: NMC, profile },
      { state: (e) => onState(state, id, e) },
    );
    await state.run.start();
  };

  const started = performance.now();
  try {
    bench.start();
    for (const state of states.values()) await startRun(state);
    let k = 0;
    const meanGapMs = 20;
    while (trials.length < target && performance.now() - started < maxMs) {
      await sleep(Math.random() * 2 * meanGapMs);
      const now = performance.now();
      for (const state of states.values()) {
        if (state.phase === "recovering" && now - state.since > RECOVERY_BOUND_MS) state.phase = "stuck";
        if (state.phase !== "tripped" || now - state.since < RECOVER_AFTER_MS) continue;
        state.phase = "recovering";
        state.since = now;
        state.channel.cell.temperatureC = 25;
        if (state.run?.isTerminal === false) continue; // it goes on by itself once the cell is back
        try {
          await startRun(state);
        } catch (err) {
          state.phase = "stuck";
          errors.push(`${state.id}: no new run: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const ready = [...states.values()].filter(
        (s) =>
          s.phase === "charging" && s.chargingSamples >= SETTLED_SAMPLES && s.run?.currentState === "running",
      );
      const armed = [...states.values()].filter((s) => s.phase === "armed").length;
      if (ready.length === 0 || trials.length + armed >= target) continue;
      const state = ready[Math.floor(Math.random() * ready.length)] as ChannelState;
      const kind = KINDS[k++ % KINDS.length] as Kind;
      state.armed = { kind, at: performance.now(), samples: 0, acquiredAt: 0, reading: undefined };
      state.phase = "armed";
      if (kind === "too warm to charge") state.channel.cell.temperatureC = WARM_C;
      else await state.channel.apply({ mode: "cc", currentA: OVER_CURRENT_A, minV: 2.5, maxV: 4.3 });
    }
    // Injections still in flight get two more periods.
    const deadline = performance.now() + 2 * periodMs;
    while ([...states.values()].some((s) => s.phase === "armed") && performance.now() < deadline)
      await sleep(periodMs / 4);
  } finally {
    measuring = false;
    await bench.shutdown();
  }
  return {
    channels: channelCount,
    hz,
    trials,
    reaction: distribution(trials.map((t) => t.reactionMs)),
    injection: distribution(trials.map((t) => t.injectionMs)),
    baseline,
    falseTrips,
    unexpectedSafeStates,
    sampleInterval: distribution(intervals),
    faultedAfterTrip,
    stuck: [...states.values()].filter((s) => s.phase === "stuck").length,
    errors,
    unanswered: [...states.values()].filter((s) => s.phase === "armed").length,
    seconds: (performance.now() - started) / 1000,
  };
}

export function safetyFigures(m: SafetyMeasurement): SafetyFigures {
  return {
    reaction_p50_ms: m.reaction.p50,
    reaction_p99_ms: m.reaction.p99,
    reaction_max_ms: m.reaction.max,
    trials: m.trials.length,
    baseline_p99_ms: m.baseline.reaction.p99,
    false_trips: m.falseTrips.length + m.unexpectedSafeStates.length,
    unanswered: m.unanswered,
    errors: m.errors.length,
    target: SAFETY_TARGET,
    // No trial, or a safety failure beside the timing, is not a pass.
    met:
      m.trials.length > 0 &&
      m.reaction.p99 < SAFETY_TARGET.max_reaction_p99_ms &&
      m.falseTrips.length + m.unexpectedSafeStates.length + m.unanswered === 0,
  };
}

/** Runs the safety reaction benchmark, prints its figures and returns them. */
export async function runSafetyBench(options: SafetyBenchOptions = {}): Promise<SafetyFigures> {
  const m = await measureSafetyReaction(options);
  const print = options.out ?? ((line = "") => console.log(line));
  const out = (label: string, value: string) => print(`  ${label.padEnd(66)} ${value}`);
  const time = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`);
  const dist = (d: Distribution) => `${time(d.p50)} / ${time(d.p99)} / ${time(d.max)}`;
  const byKind = KINDS.map((kind) => `${m.trials.filter((t) => t.kind === kind).length} ${kind}`).join(", ");
  print(
    `safety reaction: ${m.channels} sim channels × ${m.hz} Hz charging at ${CHARGE_A} A, PacedClock at speed 1 ` +
      `(real time); ${m.trials.length} violations in ${m.seconds.toFixed(1)} s (${byKind})`,
  );
  print(`  ${"".padEnd(66)} p50 / p99 / max`);
  out(
    "violating sample → safe-state command (bench + supervisor)",
    `${dist(m.reaction)}  (target p99 < 1 ms)`,
  );
  out(
    "baseline: bare driver, read() → toSafeState(), same wrappers",
    `${dist(m.baseline.reaction)}  (${m.baseline.trials} trials)`,
  );
  out("bare driver read() call", dist(m.baseline.readMs));
  out("bare driver toSafeState() call", dist(m.baseline.safeStateMs));
  out("violation injected → safe-state command", dist(m.injection));
  out(
    `baseline: real time between two samples of a channel`,
    `${dist(m.sampleInterval)}  (period ${1000 / m.hz} ms)`,
  );
  const first = m.trials.filter((t) => t.samples === 1).length;
  const shows = m.trials.filter((t) => t.showsFault).length;
  out("tripped on the first sample after the injection", `${first} / ${m.trials.length}`);
  out("the tripping sample shows the injected fault", `${shows} / ${m.trials.length}`);
  out(
    "runs faulted after the trip (the others waited for their window)",
    KINDS.map((kind) => `${m.faultedAfterTrip[kind]} ${kind}`).join(", "),
  );
  out(
    "false trips / stray safe states / unanswered / stuck / errors",
    [m.falseTrips.length, m.unexpectedSafeStates.length, m.unanswered, m.stuck, m.errors.length].join(" / "),
  );
  for (const line of [...m.falseTrips, ...m.errors].slice(0, 5)) print(`    ${line}`);
  return safetyFigures(m);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await runSafetyBench();
