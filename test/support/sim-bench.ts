import type { CellSpec, CyclerRanges } from "../../drivers/capabilities.js";
import { VirtualClock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import { Bench, type BenchEvents } from "../../src/bench/bench.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import type { RunEngine, RunEngineListener, StepChange } from "../../src/engine/run-engine.js";
import type { Profile } from "../../src/profile/ast.js";
import type { CellRecord, CycleRecord, RunEventRecord } from "../../src/run/records.js";

export const NMC_18650: CellSpec = {
  id: "NMC-0042",
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  voltageV: [2.5, 4.2],
  currentA: [-6, 6],
  temperatureC: [-20, 60],
};

export const ASSLB_POUCH: CellSpec = {
  id: "ASSLB-0007",
  chemistry: "asslb-sulfide",
  capacityAh: 1,
  voltageV: [2.5, 4.25],
  currentA: [-2, 2],
  temperatureC: [-25, 110],
};

export interface SimBenchOptions {
  cell?: CellSpec;
  initialSoc?: number;
  chamberC?: number;
  periodMs?: number;
  /** The simulated channel's hardware ranges (sim/cycler's `ranges` option); default the driver's. */
  ranges?: Partial<CyclerRanges>;
  /** true: time jumps whenever every task sleeps (as fast as possible); false: the test moves time. */
  auto?: boolean;
  events?: BenchEvents;
}

/** The configuration of a one-channel simulated bench: channel ch1 of cycler1, in chamber tc1. */
export function simBenchConfig(options: SimBenchOptions = {}): BenchConfig {
  return {
    source: "test",
    bench: "test",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      {
        id: "cycler1",
        driver: "sim/cycler",
        channels: ["ch1"],
        options: {
          cell: options.cell ?? NMC_18650,
          initialSoc: options.initialSoc ?? 0.5,
          ...(options.ranges ? { ranges: options.ranges } : {}),
        },
      },
      { id: "tc1", driver: "sim/chamber", options: { initialC: options.chamberC ?? 25 } },
    ],
    chambers: [{ id: "tc1", device: "tc1", channels: ["ch1"] }],
    samplingPeriodMs: options.periodMs ?? 1000,
    tokens: [],
  };
}

/** A one-channel simulated bench (channel ch1 in chamber tc1) on a virtual clock. */
export async function openSimBench(
  options: SimBenchOptions = {},
): Promise<{ bench: Bench; clock: VirtualClock }> {
  const clock = new VirtualClock({ auto: options.auto ?? true });
  const config = simBenchConfig(options);
  return { bench: await Bench.open(config, clock, options.events), clock };
}

/** Everything a run emitted, in order. */
export interface RunTranscript {
  records: CellRecord[];
  forced: boolean[];
  states: RunEventRecord[];
  steps: StepChange[];
  cycles: CycleRecord[];
}

export function recordingListener(): { listener: RunEngineListener; transcript: RunTranscript } {
  const transcript: RunTranscript = { records: [], forced: [], states: [], steps: [], cycles: [] };
  return {
    transcript,
    listener: {
      sample: (r, log) => {
        transcript.records.push(r);
        transcript.forced.push(log.forced);
      },
      state: (e) => transcript.states.push(e),
      step: (s) => transcript.steps.push(s),
      cycle: (c) => transcript.cycles.push(c),
    },
  };
}

/** Starts a run on ch1 of an auto-advancing bench and waits (bounded in simulated time) until it ends. */
export async function runToEnd(
  profile: Profile,
  options: SimBenchOptions & {
    maxSimulatedS?: number;
    /** Extra listener calls (e.g. to turn on a fault knob at a given step), given the bench. */
    listener?: (bench: Bench) => RunEngineListener;
  } = {},
): Promise<{ engine: RunEngine; transcript: RunTranscript; bench: Bench; clock: VirtualClock }> {
  const { bench, clock } = await openSimBench({ ...options, auto: true });
  const { listener, transcript } = recordingListener();
  const extra = options.listener?.(bench) ?? {};
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const engine = bench.attachRun(
    "ch1",
    { id: "R1", cell: options.cell ?? NMC_18650, profile },
    {
      ...listener,
      step: (change) => {
        listener.step?.(change);
        extra.step?.(change);
      },
      state: (e) => {
        listener.state?.(e);
        if (["completed", "stopped", "aborted", "faulted"].includes(e.state)) ended();
      },
    },
  );
  const limitS = options.maxSimulatedS ?? 7 * 86_400;
  const watchdog = new AbortController();
  void clock.sleepUntil(limitS * 1000, watchdog.signal).then(() => {
    if (!watchdog.signal.aborted) ended();
  });
  bench.start();
  await engine.start();
  await done;
  watchdog.abort();
  await bench.shutdown();
  if (!engine.isTerminal) throw new Error(`run did not end within ${limitS} simulated seconds`);
  return { engine, transcript, bench, clock };
}
