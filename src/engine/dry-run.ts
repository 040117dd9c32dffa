import type { CellSpec } from "../../drivers/capabilities.js";
import { VirtualClock } from "../../drivers/clock.js";
import "../../drivers/sim/register.js";
import { Bench, type ChamberSlot } from "../bench/bench.js";
import type { BenchConfig } from "../config/load-config.js";
import type { Profile } from "../profile/ast.js";
import { assertProfileValid } from "../profile/validate.js";
import type { CellRecord, CycleRecord, RunState, StepRecord } from "../run/records.js";
import type { StepChange } from "./run-engine.js";
import { type StepTimeline, StepTimelineBuilder } from "./step-timeline.js";

export interface StepEstimate {
  stepIndex: number;
  path: string;
  text: string;
  startS: number;
  durationS: number;
}

/** Steps and cycles a dry run lists in detail (the first ones); the rest are counted and timed. */
export const LISTED_STEPS = 200;
export const LISTED_CYCLES = 20;

export interface DryRunEstimate {
  state: RunState;
  reason: string;
  durationS: number;
  stepsExecuted: number;
  /** The first LISTED_CYCLES cycles. */
  cycles: CycleRecord[];
  cycleCount: number;
  chargeAh: number;
  dischargeAh: number;
  chargeWh: number;
  dischargeWh: number;
  /** The first LISTED_STEPS steps executed. */
  steps: StepEstimate[];
  /** Where every step starts, in bounded memory (for a run's progress). */
  timeline: StepTimeline;
  samplePeriodS: number;
}

export interface DryRunOptions {
  /** Cell state of charge at the start (0..1); default 0.5. */
  initialSoc?: number;
  /** Chamber air temperature at the start, °C; default 25. */
  initialChamberC?: number;
  /** Sample period of the simulation, seconds (default 1 s): steps end on the first sample at or after their end. */
  periodS?: number;
  /** Give up after this much simulated time; default 60 days. */
  maxDurationS?: number;
  /** Receives every simulated sample (for `--out FILE.csv`). */
  onRecord?: (record: CellRecord) => void;
  /** Receives every cycle summary (the estimate lists only the first LISTED_CYCLES). */
  onCycle?: (summary: CycleRecord) => void;
  /** Receives every completed step's record. */
  onStep?: (record: StepRecord) => void;
}

/**
 * Validates a profile against the cell and a simulated bench, then runs it on the simulated channel
 * and chamber as fast as the CPU allows, through the same bench, pollers and run engine as a real
 * run, and reports how long it takes and what it moves.
 */
export async function dryRun(
  profile: Profile,
  cell: CellSpec,
  options: DryRunOptions = {},
): Promise<DryRunEstimate> {
  const periodS = options.periodS ?? 1;
  const maxDurationS = options.maxDurationS ?? 60 * 86_400;
  const clock = new VirtualClock({ auto: true });
  const config: BenchConfig = {
    source: "dry-run",
    bench: "dry-run",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      {
        id: "sim-cycler",
        driver: "sim/cycler",
        channels: ["dry"],
        options: { cell, initialSoc: options.initialSoc ?? 0.5 },
      },
      { id: "sim-chamber", driver: "sim/chamber", options: { initialC: options.initialChamberC ?? 25 } },
    ],
    chambers: [{ id: "chamber", device: "sim-chamber", channels: ["dry"] }],
    samplingPeriodMs: periodS * 1000,
    tokens: [],
  };
  const steps: StepEstimate[] = [];
  const cycles: CycleRecord[] = [];
  let cycleCount = 0;
  const timeline = new StepTimelineBuilder();
  let lastStepIndex = 0;
  let last: CellRecord | undefined;
  let finished: (value: { state: RunState; reason: string }) => void = () => undefined;
  const ended = new Promise<{ state: RunState; reason: string }>((resolve) => {
    finished = resolve;
  });
  const bench = await Bench.open(config, clock);
  try {
    const chamber = (bench.chambers.get("chamber") as ChamberSlot).chamber;
    assertProfileValid(profile, cell, {
      cycler: bench.channel("dry").channel.ranges,
      chamber: chamber.ranges,
    });
    // The lab's air: without chamber steps the cell sits at this temperature throughout.
    await chamber.setSetpoint(options.initialChamberC ?? 25);
    const engine = bench.attachRun(
      "dry",
      // The simulated cell's SOC is known exactly: `until 80% SOC` needs no rest-voltage reading.
      { id: "dry-run", cell, profile, startSoc: options.initialSoc ?? 0.5 },
      {
        sample: (record) => {
          last = record;
          options.onRecord?.(record);
          if (record.testTimeS > maxDurationS) void engine.stop(`dry run gave up after ${maxDurationS} s`);
        },
        step: (change: StepChange) => {
          const startS = last?.testTimeS ?? 0;
          timeline.add(change.stepIndex, startS);
          lastStepIndex = change.stepIndex;
          const previous = steps[steps.length - 1];
          if (previous && previous.durationS < 0) previous.durationS = startS - previous.startS;
          if (steps.length < LISTED_STEPS)
            steps.push({
              stepIndex: change.stepIndex,
              path: change.path,
              text: change.text,
              startS,
              durationS: -1,
            });
        },
        stepEnd: (record) => options.onStep?.(record),
        cycle: (summary) => {
          options.onCycle?.(summary);
          cycleCount++;
          if (cycles.length < LISTED_CYCLES) cycles.push(summary);
        },
        state: (event) => {
          if (["completed", "stopped", "aborted", "faulted"].includes(event.state)) {
            finished({ state: event.state, reason: event.reason });
          }
        },
      },
    );
    bench.start();
    await engine.start();
    const outcome = await ended;
    const status = engine.status();
    const previous = steps[steps.length - 1];
    if (previous && previous.durationS < 0) previous.durationS = status.testTimeS - previous.startS;
    return {
      ...outcome,
      durationS: status.testTimeS,
      stepsExecuted: status.stepIndex,
      cycles,
      cycleCount,
      ...status.total,
      steps,
      timeline: timeline.finish(lastStepIndex, status.testTimeS),
      samplePeriodS: periodS,
    };
  } finally {
    await bench.shutdown();
  }
}
