import type {
  CellSpec,
  Chamber,
  ChamberReading,
  CyclerChannel,
  CyclerSetpoint,
} from "../../drivers/capabilities.js";
import type { Clock } from "../../drivers/clock.js";
import { SAFE_STATE_WAIT_MS, settledWithin } from "../bounded-wait.js";
import { deratedLimits } from "../cell/derating.js";
import type {
  ChamberNode,
  Direction,
  LimitAction,
  LogCriteria,
  Profile,
  ProfileNode,
  RepeatNode,
  StepNode,
} from "../profile/ast.js";
import type { CellRecord, CycleRecord, RunEventRecord, RunState, StepRecord } from "../run/records.js";
import type { ChannelSample } from "../sampling/sample.js";
import { effectiveLogCriteria } from "../storage/log-gate.js";
import { addInterval, type Throughput, zeroThroughput } from "./accumulators.js";
import {
  type ConditionInputs,
  conditionMet,
  describeCondition,
  type ResolvedCondition,
  resolveCondition,
  restingSoc,
  socEstimate,
  socUnknown,
  stepUsingSoc,
  VoltageSlope,
} from "./conditions.js";
import { type CycleState, CycleTracker } from "./cycle-tracker.js";
import { type CursorPosition, ProgramCursor, type ProgramItem } from "./program-cursor.js";
import { InvalidTransitionError } from "./run-errors.js";
import {
  changesDuringStep,
  type DriveWindow,
  deratedWindow,
  driveCycleDurationS,
  driveWindow,
  sameSetpoint,
  setpointFor,
} from "./setpoints.js";
import { StepRecorder, type StepStats, stepIds } from "./step-recorder.js";

export interface RunDefinition {
  id: string;
  cell: CellSpec;
  profile: Profile;
  /**
   * Why the run may go without a cell temperature, given by the operator who started it on a channel
   * that measures none (a run event records it); absent: the run needs one.
   */
  temperatureOverride?: string;
  /** Discharge capacity of the cell's first cycle ever (its history), Ah: the base of capacity retention. */
  firstCycleDischargeAh?: number;
  /**
   * The cell's state of charge when the run starts (0..1), when the caller knows it (a dry run's
   * simulated cell); otherwise the engine reads it off the cell's rest voltage at start.
   */
  startSoc?: number;
}

/** Whether current may flow in a direction now (the safety supervisor's temperature windows). */
export interface DirectionGate {
  /** Why not, or undefined. */
  refusal(direction: Direction, temperatureC: number): string | undefined;
  /** The channel's latest sample (before the run has seen one of its own). */
  latest(): ChannelSample | undefined;
}

/**
 * How long a step waits for the cell to come into the temperature window of its direction before
 * the run faults: long enough for a cell warmed by a 3C discharge to cool in its chamber (tens of
 * minutes), short enough that a chamber that never gets there does not hold a channel for a day.
 */
export const WINDOW_WAIT_S = 2 * 3600;

/** The chamber a run may drive, with the latest reading its poller took. */
export interface ChamberLink {
  chamber: Chamber;
  latest(): ChamberReading | undefined;
  /** Why the chamber may not go to `setpointC` (a cell inside forbids it, or it is latched safe), if so. */
  refusal(setpointC: number): string | undefined;
  /** Present when a batch shares the chamber (src/run/batch.ts): its runs meet at every chamber step. */
  barrier?: ChamberBarrier;
}

/** Where the runs of a batch wait for each other: before a chamber step sets the chamber, and after it soaked. */
export interface ChamberBarrier {
  /**
   * The run is at chamber step `step` (its path and loop iterations), before the set point (`set`)
   * or soaked (`soaked`). True once every run of the batch still under way has arrived there: go on.
   */
  arrive(run: string, step: string, phase: "set" | "soaked"): boolean;
}

export interface StepChange {
  run: string;
  channel: string;
  tWallMs: number;
  stepIndex: number;
  cycleIndex: number;
  path: string;
  text: string;
  /** Why the previous step ended (its termination or limit), empty for the first step. */
  endedBecause: string;
}

export interface RunEngineListener {
  /** Every sample the run sees; `forced` marks samples that must be logged (step boundaries, terminal events). */
  sample?(record: CellRecord, log: SampleLog): void;
  state?(event: RunEventRecord): void;
  step?(change: StepChange): void;
  cycle?(summary: CycleRecord): void;
  /** A step ended (its record for the `step` measurement). */
  stepEnd?(record: StepRecord): void;
  /**
   * A listener call above threw (logging or encoding failed). The run goes on: its steps, limits
   * and safety never wait for a listener, and the error is reported here instead.
   */
  error?(err: unknown, during: Notification): void;
}

type Notification = "sample" | "state" | "step" | "cycle" | "stepEnd";

/** What the sample listener is told besides the record. */
export interface SampleLog {
  readonly forced: boolean;
  readonly criteria: LogCriteria;
}

/** Everything needed to continue a run after a restart (written with each outbox commit). */
export interface RunCheckpoint {
  runId: string;
  state: RunState;
  positions: readonly CursorPosition[];
  stepIndex: number;
  cycleIndex: number;
  stepElapsedS: number;
  testTimeS: number;
  total: Throughput;
  cycleStart: Throughput;
  /** Totals when the current step began (step-level Ah/Wh conditions continue across a restart). */
  stepStart: Throughput;
  chamberWithinSinceS: number | null;
  /** The chamber set point the run last commanded (restored before it resumes after a restart). */
  lastChamber?: ChamberMemory | null;
  /** Cycle accounting (absent in checkpoints written before cycles were counted by cycle loops). */
  cycles?: CycleState;
  /** The current step's record so far. */
  stepStats?: StepStats;
  /** The cell's SOC when the run started (null: unknown), for `until 80% SOC` after a restart. */
  startSoc?: number | null;
}

/** A chamber step or sweep iteration, as much of it as a resume needs to restore the chamber. */
export interface ChamberMemory {
  path: string;
  setpointC: number;
  soakS: number;
  toleranceC: number;
}

export interface RunStatus {
  id: string;
  channel: string;
  state: RunState;
  reason: string;
  stepIndex: number;
  stepPath: string | null;
  stepText: string | null;
  cycleIndex: number;
  stepElapsedS: number;
  testTimeS: number;
  total: Throughput;
  lastRecord: CellRecord | null;
}

const TERMINAL: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);
const DVDT_WINDOW_S = 10;
/** Tolerance for time terminations: a step "for 10 s" sampled at 100 ms ends on the sample at 10 s. */
const TIME_EPSILON_S = 1e-6;

interface ActiveStep {
  item: ProgramItem;
  direction: Direction | undefined;
  conditions: ResolvedCondition[] | undefined;
  limits: { condition: ResolvedCondition; then: LimitAction }[] | undefined;
  durationS: number | undefined;
  stepStart: Throughput;
  applied: CyclerSetpoint | undefined;
  /** Re-evaluated each sample (resistance steps, power drive cycles). */
  dynamic: boolean;
  /** The set point jumps between samples (drive cycles): integrate with the later reading, not the trapezoid. */
  piecewiseConstant: boolean;
  log: LogCriteria;
}

/**
 * Runs one profile on one channel: a state machine driven by samples. Each sample integrates
 * charge and energy, checks safety, evaluates the step's limits and terminations and, when the
 * step ends, applies the next set point before the sample is done. Control calls (pause, resume,
 * stop, abort, fault) are serialised with samples so a set point is never applied after a stop.
 */
export class RunEngine {
  readonly id: string;
  readonly channelId: string;
  private state: RunState = "queued";
  private reason = "";
  private readonly cursor: ProgramCursor;
  private readonly window: DriveWindow;
  private readonly slope = new VoltageSlope(DVDT_WINDOW_S);
  private active: ActiveStep | undefined;
  private stepIndex = 0;
  private stepElapsedS = 0;
  private testTimeS = 0;
  private total = zeroThroughput();
  private readonly cycles: CycleTracker;
  private readonly stepRecorder: StepRecorder;
  private chamberWithinSinceS: number | null = null;
  private lastChamber: ChamberMemory | null = null;
  /** While the chamber is brought back after a restart: the step to continue and its elapsed time. */
  private restoring: { item: ProgramItem; stepElapsedS: number } | undefined;
  private prev: ChannelSample | undefined;
  /** Monotonic time up to which charge and test time are integrated. */
  private integratedToMono: number | undefined;
  /** When the latest set point (or safe state) was applied: samples acquired before it describe the old one. */
  private appliedAtMono = Number.NEGATIVE_INFINITY;
  private lastRecord: CellRecord | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Queued tasks not yet settled (a sample is handled directly only when none is). */
  private queued = 0;
  /** A sample is being handled directly, outside the queue (see onSample). */
  private direct = false;
  /** Set when a task is queued during a direct sample: it is resolved once that sample's work is done. */
  private afterDirect: (() => void) | undefined;
  /** Step-start totals kept across an interruption, for the step that resumes. */
  private resumeStepStart: Throughput | undefined;
  /** The interrupted step's record so far, for the step that resumes. */
  private restoredStepStats: StepStats | undefined;
  /** Set when the run starts to end (faulted, completed...): nothing drives the channel after it. */
  private finishing = false;
  /** The step's output is held off until the cell is in the temperature window of its direction. */
  private waiting: { reason: string; sinceS: number } | undefined;
  /** The cell's SOC when the run started, for SOC conditions; undefined when unknown. */
  private startSoc: number | undefined;
  /** A batch's chamber step whose set point waits for the other runs of the batch (ChamberBarrier). */
  private batchWait: string | undefined;
  /** The sample listener's `log` arguments for the criteria in effect (see logFlags). */
  private sampleLogs: { criteria: LogCriteria; normal: SampleLog; forced: SampleLog } | undefined;
  /** The profile's own criteria, for samples outside any step. */
  private profileLogCriteria: LogCriteria | undefined;

  constructor(
    private readonly run: RunDefinition,
    private readonly channel: CyclerChannel,
    private readonly clock: Clock,
    private readonly listener: RunEngineListener = {},
    private readonly chamber?: ChamberLink,
    private readonly gate?: DirectionGate,
  ) {
    this.id = run.id;
    this.channelId = channel.id;
    this.cursor = new ProgramCursor(run.profile.steps);
    this.window = driveWindow(run.cell, run.profile.safety, channel.ranges);
    this.cycles = new CycleTracker(run.firstCycleDischargeAh, retentionBases(run.profile.steps));
    this.stepRecorder = new StepRecorder(stepIds(run.profile.steps));
  }

  /** The profile's steps (the chamber set points it will ask for). */
  get profileSteps(): Profile["steps"] {
    return this.run.profile.steps;
  }

  /** The cell this run drives (its limits bound the chamber it sits in). */
  get cell(): CellSpec {
    return this.run.cell;
  }

  get currentState(): RunState {
    return this.state;
  }

  get isTerminal(): boolean {
    return TERMINAL.has(this.state);
  }

  /** Started and not ended, interrupted or waiting to start: the run holds its channel's outputs. */
  get isUnderway(): boolean {
    return this.state === "running" || this.state === "paused";
  }

  status(): RunStatus {
    const item = this.active?.item ?? this.cursor.current();
    return {
      id: this.id,
      channel: this.channelId,
      state: this.state,
      reason: this.reason,
      stepIndex: this.stepIndex,
      stepPath: this.isTerminal ? null : (item?.path ?? null),
      stepText: this.isTerminal ? null : (item?.text ?? null),
      cycleIndex: this.cycles.cycleIndex,
      stepElapsedS: this.stepElapsedS,
      testTimeS: this.testTimeS,
      total: { ...this.total },
      lastRecord: this.lastRecord,
    };
  }

  checkpoint(): RunCheckpoint {
    // Taken with every logged line: each part is copied once.
    const cycles = this.cycles.state();
    const stepStats = this.stepRecorder.snapshot();
    return {
      runId: this.id,
      state: this.state,
      positions: this.cursor.positions(),
      stepIndex: this.stepIndex,
      cycleIndex: this.cycles.cycleIndex,
      // While the chamber is being restored, the interrupted step's own time is the one to keep.
      stepElapsedS: this.restoring?.stepElapsedS ?? this.stepElapsedS,
      testTimeS: this.testTimeS,
      total: { ...this.total },
      cycleStart: cycles.openedAt ?? { ...this.total },
      stepStart: {
        ...((this.restoring ? this.resumeStepStart : this.active?.stepStart) ??
          this.resumeStepStart ??
          this.total),
      },
      chamberWithinSinceS: this.chamberWithinSinceS,
      lastChamber: this.lastChamber,
      cycles,
      ...(stepStats ? { stepStats } : {}),
      startSoc: this.startSoc ?? null,
    };
  }

  /** Restores counters from a checkpoint; the run is then `interrupted` and continues with resume(). */
  restore(cp: RunCheckpoint): void {
    if (this.state !== "queued") throw new InvalidTransitionError(this.id, this.state, "restore");
    this.cursor.restore(cp.positions);
    this.stepIndex = cp.stepIndex;
    this.stepElapsedS = cp.stepElapsedS;
    this.testTimeS = cp.testTimeS;
    this.total = { ...cp.total };
    this.cycles.restore(
      cp.cycles ?? {
        cycleIndex: cp.cycleIndex,
        openedAt: this.cursor.inCycle() ? cp.cycleStart : null,
        minTemperatureC: null,
        maxTemperatureC: null,
        firstDischargeAh: null,
        lastDischargeAh: null,
      },
    );
    this.restoredStepStats = cp.stepStats;
    this.resumeStepStart = { ...cp.stepStart };
    this.chamberWithinSinceS = cp.chamberWithinSinceS;
    this.lastChamber = cp.lastChamber ?? null;
    this.startSoc = cp.startSoc ?? undefined;
    this.state = "interrupted";
  }

  /** Starts the run: applies the first step. */
  start(): Promise<void> {
    return this.serialise(async () => {
      if (this.state !== "queued") throw new InvalidTransitionError(this.id, this.state, "start");
      this.integratedToMono = this.clock.now();
      this.setState("running", "");
      if (this.cursor.done) return this.finish("completed", "profile has no steps");
      const socRefusal = this.startSocRefusal();
      if (socRefusal) return this.finish("aborted", socRefusal);
      await this.enter(this.cursor.current() as ProgramItem, "");
    });
  }

  pause(): Promise<void> {
    return this.serialise(async () => {
      if (this.state !== "running") throw new InvalidTransitionError(this.id, this.state, "pause");
      try {
        await this.channel.toSafeState();
      } catch (err) {
        return this.finish("faulted", `pause could not put the channel in safe state: ${errorMessage(err)}`);
      }
      this.appliedAtMono = this.clock.now();
      this.setState("paused", "paused by operator");
    });
  }

  /**
   * Pauses a running run for a reason not its own (its chamber went to safe state after another
   * cell's fault): output off, counters kept, resumed by an operator once the cause is cleared.
   */
  hold(reason: string): Promise<void> {
    return this.serialise(async () => {
      if (this.state !== "running") return;
      try {
        await this.channel.toSafeState();
      } catch (err) {
        return this.finish("faulted", `${reason}; safe state failed: ${errorMessage(err)}`);
      }
      this.appliedAtMono = this.clock.now();
      this.setState("paused", reason);
    });
  }

  resume(): Promise<void> {
    return this.serialise(async () => {
      if (this.state !== "paused" && this.state !== "interrupted") {
        throw new InvalidTransitionError(this.id, this.state, "resume");
      }
      const item = this.cursor.current();
      this.integratedToMono ??= this.clock.now();
      this.setState("running", "resumed");
      if (!item) return this.finish("completed", "");
      const socRefusal = this.startSocRefusal();
      if (socRefusal) return this.finish("aborted", socRefusal);
      if (this.active) {
        const paused = this.active.item;
        if (paused.kind === "chamber" && this.chamber && this.batchWait === undefined) {
          const chamber = this.chamber.chamber;
          const refusal = this.chamber.refusal(paused.setpointC);
          if (refusal) return this.finish("faulted", refusal);
          try {
            await retryOnce(() => chamber.setSetpoint(paused.setpointC));
          } catch (err) {
            return this.finish(
              "faulted",
              `could not set chamber to ${paused.setpointC} °C: ${errorMessage(err)}`,
            );
          }
        }
        await this.applyActive(this.prev?.voltageV ?? Number.NaN);
      } else if (this.chamber && this.lastChamber && item.kind !== "chamber") {
        await this.restoreChamber(this.chamber, this.lastChamber, item);
      } else {
        await this.enter(item, "", { keepElapsed: this.stepIndex > 0 });
      }
    });
  }

  stop(reason = "stopped by operator"): Promise<void> {
    return this.serialise(async () => {
      if (this.isTerminal) throw new InvalidTransitionError(this.id, this.state, "stop");
      await this.finish("stopped", reason);
    });
  }

  abort(reason = "aborted by operator"): Promise<void> {
    return this.serialise(async () => {
      if (this.isTerminal || this.state === "interrupted")
        throw new InvalidTransitionError(this.id, this.state, "abort");
      await this.finish("aborted", reason);
    });
  }

  /**
   * Puts the channel in safe state and marks the run `interrupted` with its counters intact (daemon
   * shutdown); resume() continues it. A no-op on ended or already interrupted runs.
   */
  interrupt(reason: string): Promise<void> {
    return this.serialise(async () => {
      if (this.isTerminal || this.state === "interrupted" || this.state === "queued") return;
      try {
        await this.channel.toSafeState();
      } catch (err) {
        return this.finish("faulted", `${reason}; safe state failed: ${errorMessage(err)}`);
      }
      this.appliedAtMono = this.clock.now();
      this.resumeStepStart = this.active?.stepStart;
      this.active = undefined;
      this.waiting = undefined;
      this.batchWait = undefined;
      this.prev = undefined;
      this.integratedToMono = undefined;
      this.setState("interrupted", reason);
    });
  }

  /**
   * Latches the run as faulted (safety supervisor, watchdog, emergency stop); a no-op on ended runs.
   * Not queued behind the run's other work: a device call of this run that never returns must not
   * hold the fault back. From here on no set point is applied, whatever a task in flight does next.
   */
  fault(reason: string): Promise<void> {
    if (this.isTerminal || this.finishing) return Promise.resolve();
    return this.finish("faulted", reason);
  }

  /**
   * The supervisor stopped the current (the cell left the temperature window of the step's
   * direction): the step waits, output off and its time standing still, until the cell is back
   * inside, for at most WINDOW_WAIT_S.
   */
  suspendForWindow(reason: string): Promise<void> {
    return this.serialise(async () => {
      const active = this.active;
      if (this.state !== "running" || !active || this.waiting) return;
      active.applied = { mode: "rest" };
      this.appliedAtMono = this.clock.now();
      this.startWaiting(reason);
    });
  }

  private startWaiting(reason: string): void {
    this.waiting = { reason, sinceS: this.testTimeS };
    this.setState("running", `waiting: ${reason}`);
  }

  /**
   * Reads the cell's start SOC if the run has not begun a step (a run restored later kept its own);
   * returns why the run may not go on when its profile ends a step on SOC and none is known.
   */
  private startSocRefusal(): string | undefined {
    if (this.stepIndex === 0)
      this.startSoc ??= this.run.startSoc ?? restingSoc(this.run.cell, this.gate?.latest());
    const step = this.startSoc === undefined ? stepUsingSoc(this.run.profile.steps) : undefined;
    return step === undefined ? undefined : socUnknown(step);
  }

  /**
   * Feeds one sample of this run's channel. With nothing queued the sample is handled at once, and
   * a sample that ends no step and applies nothing completes without a promise (undefined): at
   * 64 channels × 100 Hz the queue's promises per sample were a large share of the sampling
   * thread's garbage. Otherwise it waits its turn behind the queued work, as every other task does.
   */
  onSample(s: ChannelSample): Promise<void> | undefined {
    if (this.queued > 0 || this.direct) return this.serialise(() => this.handleSample(s) ?? DONE);
    this.direct = true;
    let rest: Promise<void> | undefined;
    try {
      rest = this.handleSample(s);
    } catch (err) {
      this.endDirect(undefined);
      return Promise.reject(err);
    }
    this.endDirect(rest);
    return rest;
  }

  /** Ends a direct sample: its remaining work, if any, goes first in the queue. */
  private endDirect(rest: Promise<void> | undefined): void {
    this.direct = false;
    const release = this.afterDirect;
    this.afterDirect = undefined;
    if (rest === undefined) {
      release?.();
      return;
    }
    this.queued++;
    const settled = rest.then(
      () => this.settle(release),
      () => this.settle(release),
    );
    // Tasks queued during the sample already wait for `release`; later ones wait for the rest.
    if (!release) this.queue = settled;
  }

  private settle(release: (() => void) | undefined): void {
    this.queued--;
    release?.();
  }

  private serialise(task: () => Promise<void>): Promise<void> {
    if (this.direct && !this.afterDirect)
      this.queue = new Promise<void>((resolve) => {
        this.afterDirect = resolve;
      });
    this.queued++;
    const next = this.queue.then(task);
    this.queue = next.then(
      () => this.settle(undefined),
      () => this.settle(undefined),
    );
    return next;
  }

  /**
   * One sample's bookkeeping, conditions and step decisions; returns a promise only for work that
   * must wait (a set point to apply, a step to leave, a batch barrier, the run's end).
   */
  private handleSample(s: ChannelSample): Promise<void> | undefined {
    if (this.state === "queued" || this.isTerminal || this.state === "interrupted") return;
    const from = this.integratedToMono ?? s.tMonoMs;
    const dtS = Math.max(0, (s.tMonoMs - from) / 1000);
    if (dtS > 0) this.integrate(s, dtS);
    this.integratedToMono = Math.max(from, s.tMonoMs);
    this.testTimeS += dtS;
    this.cycles.temperature(s.temperatureC);
    this.prev = s;
    // Limits are the safety supervisor's (it saw this sample first and faults the run if need be).
    if (this.state === "paused") {
      this.emitSample(s, false);
      return;
    }
    if (this.waiting) {
      this.emitSample(s, false);
      if (this.testTimeS - this.waiting.sinceS > WINDOW_WAIT_S)
        return this.finish(
          "faulted",
          `waited ${Math.round(WINDOW_WAIT_S / 60)} min for the cell to come into its temperature window: ${this.waiting.reason}`,
        );
      return this.applyActive(s.voltageV);
    }
    this.stepElapsedS += dtS;
    // A sample acquired before the set point was applied says nothing about the step it starts.
    if (s.tMonoMs <= this.appliedAtMono) {
      this.emitSample(s, false);
      return;
    }
    const slope = this.slope.push(this.testTimeS, s.voltageV);
    this.stepRecorder.sample(s, this.stepElapsedS);
    const active = this.active as ActiveStep;
    const inputs: ConditionInputs = {
      voltageV: s.voltageV,
      currentA: s.currentA,
      temperatureC: s.temperatureC,
      stepAh: movedSince(this.total, active.stepStart, "Ah"),
      stepWh: movedSince(this.total, active.stepStart, "Wh"),
      dvdtMvPerS: slope,
      soc: socEstimate(this.startSoc, this.total, this.run.cell.capacityAh),
    };
    // Only a batch's chamber step waits at the barrier: no promise per sample for the others.
    if (this.batchWait !== undefined && active.item.kind === "chamber")
      return this.sampleAtBarrier(s, active, inputs);
    return this.decide(s, active, inputs);
  }

  private async sampleAtBarrier(
    s: ChannelSample,
    active: ActiveStep,
    inputs: ConditionInputs,
  ): Promise<void> {
    if (!(await this.passBatchBarrier(active))) {
      this.emitSample(s, false);
      return;
    }
    return this.decide(s, active, inputs);
  }

  /** The step's outcome for this sample, and what follows from it. */
  private decide(s: ChannelSample, active: ActiveStep, inputs: ConditionInputs): Promise<void> | undefined {
    const outcome =
      active.item.kind === "chamber" ? this.chamberOutcome(active) : this.stepOutcome(active, inputs);
    if (outcome && !this.restoring && !this.batchSoaked(active.item)) {
      this.emitSample(s, false);
      return;
    }
    if (!outcome) {
      this.emitSample(s, false);
      return active.dynamic ? this.applyActive(s.voltageV) : undefined;
    }
    this.emitSample(s, true);
    const restored = this.restoring;
    if (restored) {
      this.restoring = undefined;
      this.stepElapsedS = restored.stepElapsedS;
      this.setState("running", `chamber restored (${outcome.reason}): the interrupted step continues`);
      return this.enter(restored.item, outcome.reason, { keepElapsed: true });
    }
    return this.leave(outcome.reason, outcome.then);
  }

  /**
   * After a restart the chamber may have drifted (to the room, or whatever a controller does when
   * its master goes away): it is set back to the run's last set point and must be within tolerance
   * for the soak time again before the interrupted step continues, counters as they were.
   */
  private async restoreChamber(link: ChamberLink, memory: ChamberMemory, next: ProgramItem): Promise<void> {
    const refusal = link.refusal(memory.setpointC);
    if (refusal) return this.finish("faulted", `cannot restore the chamber before resuming: ${refusal}`);
    try {
      await retryOnce(() => link.chamber.setSetpoint(memory.setpointC));
    } catch (err) {
      return this.finish(
        "faulted",
        `could not restore the chamber to ${memory.setpointC} °C: ${errorMessage(err)}`,
      );
    }
    this.restoring = { item: next, stepElapsedS: this.stepElapsedS };
    this.stepElapsedS = 0;
    this.chamberWithinSinceS = null;
    const text = `restore chamber to ${memory.setpointC} ± ${memory.toleranceC} °C, soak ${memory.soakS} s`;
    const node: ChamberNode = { type: "chamber", text, ...memory };
    this.active = {
      item: { kind: "chamber", node, text, ...memory },
      direction: undefined,
      conditions: undefined,
      limits: undefined,
      durationS: undefined,
      stepStart: { ...this.total },
      applied: undefined,
      dynamic: false,
      piecewiseConstant: false,
      log: effectiveLogCriteria(this.run.profile.log, undefined),
    };
    this.setState("running", `resuming: ${text} first`);
    await this.applyActive(Number.NaN);
  }

  /** Integrates the interval ending at `b`: trapezoid, unless a set point changed during it. */
  private integrate(b: ChannelSample, dtS: number): void {
    const a = this.prev;
    // After a set point change the previous reading belongs to the old set point: the interval is
    // better described by the new reading alone.
    // A drive cycle jumps between its points: each reading stands for the interval before it.
    if (!a || this.appliedAtMono >= a.tMonoMs || this.active?.piecewiseConstant) {
      addInterval(this.total, b.currentA, b.currentA * b.voltageV, dtS);
      return;
    }
    addInterval(
      this.total,
      (a.currentA + b.currentA) / 2,
      (a.currentA * a.voltageV + b.currentA * b.voltageV) / 2,
      dtS,
    );
  }

  private stepOutcome(
    active: ActiveStep,
    x: ConditionInputs,
  ): { reason: string; then: LimitAction } | undefined {
    const node = (active.item as Extract<ProgramItem, { kind: "step" }>).node;
    if (!active.conditions) {
      const ctx = { direction: active.direction, capacityAh: this.run.cell.capacityAh, first: x };
      active.conditions = node.termination.conditions.map((c) => resolveCondition(c, ctx));
      active.limits = node.limits.map((l) => ({ condition: resolveCondition(l.when, ctx), then: l.then }));
    }
    for (const limit of active.limits ?? []) {
      if (conditionMet(limit.condition, x))
        return { reason: `limit ${describeCondition(limit.condition)}`, then: limit.then };
    }
    for (const c of active.conditions) {
      if (conditionMet(c, x)) return { reason: describeCondition(c), then: { kind: "next" } };
    }
    if (active.durationS !== undefined && this.stepElapsedS >= active.durationS - TIME_EPSILON_S) {
      return { reason: `step time ${active.durationS} s`, then: { kind: "next" } };
    }
    return undefined;
  }

  private chamberOutcome(active: ActiveStep): { reason: string; then: LimitAction } | undefined {
    const item = active.item as Extract<ProgramItem, { kind: "chamber" }>;
    const reading = this.chamber?.latest();
    if (!reading) return undefined;
    const within = Math.abs(reading.temperatureC - item.setpointC) <= item.toleranceC;
    if (!within) {
      this.chamberWithinSinceS = null;
      return undefined;
    }
    this.chamberWithinSinceS ??= this.stepElapsedS;
    if (this.stepElapsedS - this.chamberWithinSinceS >= item.soakS - TIME_EPSILON_S) {
      return {
        reason: `chamber at ${item.setpointC} ± ${item.toleranceC} °C, soaked ${item.soakS} s`,
        then: { kind: "next" },
      };
    }
    return undefined;
  }

  /** Ends the active item and enters the next one (or ends the run). */
  private async leave(reason: string, then: LimitAction): Promise<void> {
    if (then.kind === "abort") return this.finish("aborted", reason);
    this.endStep(reason);
    if (then.kind === "goto") {
      this.cursor.goto(then.label);
      // A goto out of the cycle loop ends the cycle it was in.
      if (!this.cursor.inCycle()) this.endCycle();
    } else {
      // The cycle an iteration ends is closed before its loop's `until` judges it.
      let ended = 0;
      const outcome = this.cursor.advance((loop, cyclesEnded) => {
        for (; ended < cyclesEnded; ended++) this.endCycle();
        return this.loopUntilMet(loop);
      });
      for (; ended < outcome.cyclesEnded; ended++) this.endCycle();
    }
    const next = this.cursor.current();
    if (!next) return this.finish("completed", "");
    await this.enter(next, reason);
  }

  private async enter(
    item: ProgramItem,
    endedBecause: string,
    options: { keepElapsed?: boolean } = {},
  ): Promise<void> {
    if (!options.keepElapsed) {
      this.stepElapsedS = 0;
      this.chamberWithinSinceS = null;
      this.stepIndex++;
    }
    this.slope.reset();
    if (this.cursor.inCycle()) this.cycles.open(this.total);
    const resumed = options.keepElapsed
      ? (this.restoredStepStats ?? this.stepRecorder.snapshot())
      : undefined;
    this.restoredStepStats = undefined;
    this.stepRecorder.begin(item, this.prev, resumed);
    const node: StepNode | undefined = item.kind === "step" ? item.node : undefined;
    const action = node?.action;
    const direction = action && "direction" in action ? action.direction : undefined;
    this.active = {
      item,
      direction,
      conditions: undefined,
      limits: undefined,
      durationS: node
        ? (node.termination.durationS ?? (action ? driveCycleDurationS(action) : undefined))
        : undefined,
      stepStart: options.keepElapsed && this.resumeStepStart ? this.resumeStepStart : { ...this.total },
      applied: undefined,
      // A derating curve moves the current limit with the cell's temperature: re-evaluated each sample.
      dynamic:
        (this.run.cell.derating !== undefined &&
          (action?.kind === "constant" || action?.kind === "cccv" || action?.kind === "hold")) ||
        (action !== undefined && changesDuringStep(action)),
      piecewiseConstant: action?.kind === "drive-cycle",
      log: effectiveLogCriteria(this.run.profile.log, node),
    };
    this.notify("step", (l) =>
      l.step?.({
        run: this.id,
        channel: this.channelId,
        tWallMs: this.prev?.tWallMs ?? this.clock.wallNow(),
        stepIndex: this.stepIndex,
        cycleIndex: this.cycles.cycleIndex,
        path: item.path,
        text: item.text,
        endedBecause,
      }),
    );
    if (item.kind === "chamber") {
      if (!this.chamber)
        return this.finish(
          "faulted",
          `${item.path}: a chamber step needs a chamber, and channel ${this.channelId} has none`,
        );
      const refusal = this.chamber.refusal(item.setpointC);
      if (refusal) return this.finish("faulted", `${item.path}: ${refusal}`);
      if (this.finishing) return;
      const key = batchStepKey(item, this.cursor);
      if (this.chamber.barrier?.arrive(this.id, key, "set") === false) this.batchWait = key;
      else if (!(await this.commandChamber(item))) return;
    }
    await this.applyActive(this.prev?.voltageV ?? Number.NaN);
  }

  /** Sets the chamber for a chamber step; false when that failed (the run has faulted). */
  private async commandChamber(item: Extract<ProgramItem, { kind: "chamber" }>): Promise<boolean> {
    const { path, setpointC, soakS, toleranceC } = item;
    this.lastChamber = { path, setpointC, soakS, toleranceC };
    try {
      await retryOnce(() => (this.chamber as ChamberLink).chamber.setSetpoint(item.setpointC));
      return true;
    } catch (err) {
      await this.finish("faulted", `could not set chamber to ${item.setpointC} °C: ${errorMessage(err)}`);
      return false;
    }
  }

  /**
   * A batch's chamber step waiting for the other runs: true once they all arrived and the chamber
   * was set (checked again with each sample; the step's time runs meanwhile, its soak does not).
   */
  private async passBatchBarrier(active: ActiveStep): Promise<boolean> {
    const key = this.batchWait;
    if (key === undefined || active.item.kind !== "chamber") return true;
    if (this.chamber?.barrier?.arrive(this.id, key, "set") !== true) return false;
    this.batchWait = undefined;
    if (this.finishing) return false;
    const refusal = this.chamber.refusal(active.item.setpointC);
    if (refusal) {
      await this.finish("faulted", `${active.item.path}: ${refusal}`);
      return false;
    }
    return this.commandChamber(active.item);
  }

  /** A batch's chamber step that soaked goes on only once every run of the batch soaked too. */
  private batchSoaked(item: ProgramItem): boolean {
    const barrier = this.chamber?.barrier;
    if (!barrier || item.kind !== "chamber") return true;
    return barrier.arrive(this.id, batchStepKey(item, this.cursor), "soaked");
  }

  private async applyActive(voltageV: number): Promise<void> {
    const active = this.active as ActiveStep;
    const refusal = this.directionRefusal(active, voltageV);
    if (refusal) {
      if (!this.waiting) this.startWaiting(refusal);
      if (active.applied?.mode === "rest") return;
      return this.applySetpoint(active, { mode: "rest" });
    }
    if (this.waiting) {
      this.waiting = undefined;
      this.setState("running", "the cell is in its temperature window: the step goes on");
      active.applied = undefined;
    }
    const setpoint: CyclerSetpoint =
      active.item.kind === "chamber"
        ? { mode: "rest" }
        : setpointFor(active.item.node.action, this.run.cell, this.windowNow(), {
            voltageV: Number.isNaN(voltageV) ? this.window.minV : voltageV,
            stepElapsedS: this.stepElapsedS,
          });
    if (active.dynamic && sameSetpoint(active.applied, setpoint)) return;
    await this.applySetpoint(active, setpoint);
  }

  /** The drive window, narrowed by the cell's derating curve at its latest temperature. */
  private windowNow(): DriveWindow {
    const derating = this.run.cell.derating;
    if (!derating) return this.window;
    const t = (this.prev ?? this.gate?.latest())?.temperatureC ?? Number.NaN;
    return deratedWindow(this.window, deratedLimits(derating, t));
  }

  /**
   * Why the step may not drive current now: its direction (a CV hold's is set by the cell's voltage
   * when it starts) is outside the cell's temperature window. Drive cycles go both ways: the
   * supervisor watches each of their samples instead.
   */
  private directionRefusal(active: ActiveStep, voltageV: number): string | undefined {
    if (!this.gate || active.item.kind !== "step") return undefined;
    const action = active.item.node.action;
    const latest = this.prev ?? this.gate.latest();
    // Before the channel's first sample nothing is known: that sample is checked as it comes.
    if (!latest) return undefined;
    const v = Number.isFinite(voltageV) ? voltageV : latest.voltageV;
    let direction: Direction | undefined;
    if (action.kind === "constant" || action.kind === "cccv" || action.kind === "ramp")
      direction = action.direction;
    else if (action.kind === "hold" && Number.isFinite(v))
      direction = action.volts >= v ? "charge" : "discharge";
    if (!direction) return undefined;
    return this.gate.refusal(direction, latest.temperatureC);
  }

  private async applySetpoint(active: ActiveStep, setpoint: CyclerSetpoint): Promise<void> {
    if (this.finishing) return;
    this.appliedAtMono = this.clock.now();
    try {
      await retryOnce(() => this.channel.apply(setpoint));
    } catch (err) {
      await this.finish("faulted", `could not apply ${setpoint.mode} set point: ${errorMessage(err)}`);
      return;
    }
    active.applied = setpoint;
  }

  private endCycle(): void {
    const summary = this.cycles.close(this.total, {
      channel: this.channelId,
      run: this.id,
      cell: this.run.cell.id,
      tWallMs: this.prev?.tWallMs ?? this.clock.wallNow(),
    });
    if (summary) this.notify("cycle", (l) => l.cycle?.(summary));
  }

  /** Whether a loop's `until` holds after the cycle that just ended (capacity retention); says why in a run event. */
  private loopUntilMet(loop: RepeatNode): boolean {
    for (const c of loop.until ?? []) {
      if (c.kind !== "retention") continue;
      const retention = this.cycles.retentionOf(c.ofCycle);
      if (Number.isNaN(retention)) continue;
      if (c.op === "<" ? retention < c.fraction : retention > c.fraction) {
        this.setState(
          "running",
          `${loop.path}: capacity ${(retention * 100).toFixed(1)} % of cycle ${c.ofCycle}'s, ${c.op} ${c.fraction * 100} %: the loop ends`,
        );
        return true;
      }
    }
    return false;
  }

  /** Emits the record of the step that ends now (before the cursor moves on). */
  private endStep(reason: string): void {
    const active = this.active;
    if (!active || this.restoring) return;
    const record = this.stepRecorder.end({
      channel: this.channelId,
      run: this.id,
      cell: this.run.cell.id,
      tWallMs: this.prev?.tWallMs ?? this.clock.wallNow(),
      stepIndex: this.stepIndex,
      cycleIndex: this.cycles.isOpen ? this.cycles.cycleIndex : 0,
      endReason: reason,
      durationS: this.stepElapsedS,
      stepStart: active.stepStart,
      total: this.total,
    });
    if (record) this.notify("stepEnd", (l) => l.stepEnd?.(record));
  }

  private async finish(state: RunState, reason: string): Promise<void> {
    if (this.isTerminal || this.finishing) return;
    this.finishing = true;
    this.waiting = undefined;
    // Safe state first: whatever else fails, the output is off. An instrument that does not answer
    // at all must not keep the run from ending (and its fault from latching): the wait is bounded.
    let safeError: unknown;
    const safe = this.channel.toSafeState().catch((err: unknown) => {
      safeError = err;
    });
    if (!(await settledWithin([safe], SAFE_STATE_WAIT_MS)))
      safeError = new Error(`the instrument did not confirm within ${SAFE_STATE_WAIT_MS} ms`);
    this.endStep(reason ? `${state}: ${reason}` : state);
    if (state === "completed") this.endCycle();
    this.active = undefined;
    const why = safeError ? `${reason}; safe state failed: ${errorMessage(safeError)}` : reason;
    this.setState(state, why);
  }

  private setState(state: RunState, reason: string): void {
    if (this.isTerminal) return;
    this.state = state;
    this.reason = reason;
    this.notify("state", (l) =>
      l.state?.({
        channel: this.channelId,
        run: this.id,
        tWallMs: this.prev?.tWallMs ?? this.clock.wallNow(),
        state,
        reason,
        stepIndex: this.stepIndex,
      }),
    );
  }

  private emitSample(s: ChannelSample, forced: boolean): void {
    // A new record per sample (listeners keep it), always of one shape: `sensorsC` is undefined
    // without sensors rather than spread in, which allocated an empty object per sample.
    const record: CellRecord = {
      channel: this.channelId,
      run: this.id,
      cell: this.run.cell.id,
      tWallMs: s.tWallMs,
      testTimeS: this.testTimeS,
      stepTimeS: this.stepElapsedS,
      voltageV: s.voltageV,
      currentA: s.currentA,
      temperatureC: s.temperatureC,
      sensorsC: s.temperaturesC,
      powerW: s.voltageV * s.currentA,
      chargeAh: this.total.chargeAh,
      dischargeAh: this.total.dischargeAh,
      chargeWh: this.total.chargeWh,
      dischargeWh: this.total.dischargeWh,
      stepIndex: this.stepIndex,
      cycleIndex: this.cycles.cycleIndex,
    };
    this.lastRecord = record;
    // Called directly, not through notify(): no closure per sample.
    try {
      this.listener.sample?.(record, this.logFlags(forced));
    } catch (err) {
      this.reportListenerError(err, "sample");
    }
  }

  /**
   * The `log` argument of the sample listener: frozen, and shared by every sample under the same
   * criteria (a listener that keeps one cannot see it change).
   */
  private logFlags(forced: boolean): SampleLog {
    const criteria = this.active?.log ?? this.defaultLogCriteria();
    let flags = this.sampleLogs;
    if (flags?.criteria !== criteria) {
      flags = {
        criteria,
        normal: Object.freeze({ forced: false, criteria }),
        forced: Object.freeze({ forced: true, criteria }),
      };
      this.sampleLogs = flags;
    }
    return forced ? flags.forced : flags.normal;
  }

  private defaultLogCriteria(): LogCriteria {
    this.profileLogCriteria ??= effectiveLogCriteria(this.run.profile.log, undefined);
    return this.profileLogCriteria;
  }

  private notify(during: Notification, call: (l: RunEngineListener) => void): void {
    try {
      call(this.listener);
    } catch (err) {
      this.reportListenerError(err, during);
    }
  }

  private reportListenerError(err: unknown, during: Notification): void {
    try {
      this.listener.error?.(err, during);
    } catch {
      // A reporter that throws too has nothing left to report to; the run goes on.
    }
  }
}

/** The cycles whose capacity a loop's `until` compares against. */
function retentionBases(nodes: ProfileNode[], into = new Set<number>()): Set<number> {
  for (const node of nodes) {
    if (node.type !== "repeat" && node.type !== "sweep") continue;
    if (node.type === "repeat")
      for (const c of node.until ?? []) if (c.kind === "retention") into.add(c.ofCycle);
    retentionBases(node.steps, into);
  }
  return into;
}

/** Names one chamber step of one loop iteration alike in every run of a batch (they run one profile). */
function batchStepKey(item: ProgramItem, cursor: ProgramCursor): string {
  return `${item.path}@${cursor
    .loopCounters()
    .map((c) => c.iteration)
    .join(".")}`;
}

/** Ah or Wh moved (both directions) since `start`: the sum of minus(total, start)'s two terms, without the object. */
function movedSince(total: Throughput, start: Throughput, unit: "Ah" | "Wh"): number {
  return unit === "Ah"
    ? total.chargeAh - start.chargeAh + (total.dischargeAh - start.dischargeAh)
    : total.chargeWh - start.chargeWh + (total.dischargeWh - start.dischargeWh);
}

/** What a queued sample's task returns when the sample needed no waiting. */
const DONE: Promise<void> = Promise.resolve();

/** Runs `task`, once more if it fails (one lost reply is not a fault); the second failure propagates. */
async function retryOnce(task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch {
    await task();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
