import type { CellSpec } from "../../drivers/capabilities.js";
import type { Bench, ChannelSlot } from "../bench/bench.js";
import { restingSoc, socUnknown, stepUsingSoc } from "../engine/conditions.js";
import type {
  RunCheckpoint,
  RunDefinition,
  RunEngine,
  RunEngineListener,
  RunStatus,
  StepChange,
} from "../engine/run-engine.js";
import { InvalidTransitionError } from "../engine/run-errors.js";
import type { Logger } from "../log.js";
import type { Profile } from "../profile/ast.js";
import { assertProfileValid } from "../profile/validate.js";
import { LogGate } from "../storage/log-gate.js";
import type { EstimateInput, RunEstimate } from "../work/task-types.js";
import { estimateStartSoc } from "./estimate-start.js";
import { progressOf, type RunProgress } from "./progress.js";
import type { CellRecord, CycleRecord, RunEventRecord, RunState, StepRecord } from "./records.js";
import {
  FaultNotClearedError,
  SocUnknownError,
  TemperatureSensorFaultError,
  TemperatureUnmeasuredError,
  UnknownRunError,
} from "./run-errors.js";
import type { RunStore, StoredRun } from "./run-store.js";

/** Where logged records go (the storage layer, src/storage/storage.ts); every method is cheap and never throws. */
export interface RunSink {
  logCell(record: CellRecord): void;
  logRunEvent(record: RunEventRecord): void;
  logCycle(record: CycleRecord): void;
  logStep(record: StepRecord): void;
  /** Stored with the next group commit, together with the lines logged before it. */
  setCheckpoint(run: string, checkpoint: RunCheckpoint): void;
  deleteCheckpoint(run: string): void;
}

/** Everything live clients may follow, bench-wide; `sample` is every sample (decimate downstream). */
export type RunEvent =
  | { type: "sample"; run: string; record: CellRecord }
  | { type: "step"; run: string; change: StepChange }
  | { type: "state"; run: string; event: RunEventRecord }
  | { type: "cycle"; run: string; summary: CycleRecord };

export interface RunRequest {
  channel: string;
  /** A Cell (src/cell/cell.ts) or a bare CellSpec; its chemistry's envelopes apply either way. */
  cell: CellSpec;
  profile: Profile;
  profileId?: string;
  /** The operator's reason to run without a cell temperature, on a channel that measures none. */
  temperatureOverride?: string;
  /** The profile's source text, as sent: the estimate worker parses it again rather than be sent the tree. */
  profileSource?: { source: string; driveCycleDir?: string | undefined };
}

export interface RunInfo {
  id: string;
  /** The bench the run is on (a tag of every point it wrote). */
  bench: string;
  channel: string;
  cell: string;
  profile: string;
  profileId: string | null;
  state: RunState;
  reason: string;
  cleared: boolean;
  createdMs: number;
  history: StoredRun["history"];
  status: RunStatus | null;
  progress: RunProgress | null;
}

interface ManagedRun {
  stored: StoredRun;
  /** Absent for runs that had ended before this daemon started (loaded from the store), and once a run has ended. */
  engine: RunEngine | undefined;
  /** An ended run's last status, kept when its engine is let go. */
  final?: RunStatus;
  gate: LogGate;
  estimate: RunEstimate | undefined;
}

/** Samples per estimate pass: 14 days at 1 s, 420 days at 30 s (about 10 s of CPU each at most). */
const ESTIMATE_SAMPLES = 14 * 86_400;
/** Runs waiting for an estimate at most; a run started beyond that gets no ETA (it says so in the log). */
export const MAX_PENDING_ESTIMATES = 4;
/** What an ended run keeps of its estimate: the total, not the timeline. */
const NO_TIMELINE = { stepIndex: [], startS: [] };

const ENDED: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

/**
 * Creates, controls and remembers runs: validation before anything touches hardware, one engine
 * per run, logging criteria, storage, checkpoints, live events, and recovery after a restart
 * (runs that were running come back `interrupted`, counters intact).
 */
export class RunManager {
  private readonly runs = new Map<string, ManagedRun>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private pendingEstimates = 0;
  /**
   * The discharge capacity of a cell's first cycle ever, from its history (the cell registry sets
   * this): a run's capacity retention is against it, not only against the run's own cycle 1.
   */
  firstCycleOf: ((cellId: string) => number | undefined) | undefined;

  constructor(
    private readonly bench: Bench,
    private readonly options: {
      sink?: RunSink;
      store?: RunStore;
      logger?: Logger;
      /**
       * Dry-runs a run's profile for progress and ETA, off the sampling loop (the profile worker,
       * src/work). Without it runs have no ETA.
       */
      estimator?: (input: EstimateInput) => Promise<RunEstimate>;
    } = {},
  ) {}

  /** Subscribes to every run's events; returns the unsubscribe function. */
  subscribe(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads stored runs. Runs that were active when the daemon stopped become `interrupted` with
   * their checkpoint restored; the channels are already in safe state (Bench.open).
   */
  recover(checkpoints: Map<string, { state: unknown }>): void {
    for (const stored of this.options.store?.all() ?? []) {
      if (ENDED.has(stored.state)) {
        // An ended run needs only its profile's name and safety limits (its cell may still be watched).
        stored.profile = { ...stored.profile, steps: [] };
        this.runs.set(stored.id, { stored, engine: undefined, gate: this.newGate(), estimate: undefined });
        // Its cell is still in the chamber until an operator says it was taken out (runs load oldest first).
        if (stored.cellRemovedMs === undefined && this.bench.channels.has(stored.channel))
          this.bench.watchCell(stored.channel, runDefinition(stored));
        continue;
      }
      const engine = this.attach(stored);
      const checkpoint = checkpoints.get(stored.id)?.state as RunCheckpoint | undefined;
      engine.restore(checkpoint ?? emptyCheckpoint(stored.id));
      // The estimate is not persisted: make it again so the resumed run shows progress and ETA.
      this.estimate(this.runs.get(stored.id) as ManagedRun);
      const reason =
        stored.state === "interrupted" ? stored.reason : `daemon restarted while the run was ${stored.state}`;
      const event: RunEventRecord = {
        channel: stored.channel,
        run: stored.id,
        tWallMs: this.bench.clock.wallNow(),
        state: "interrupted",
        reason,
        stepIndex: checkpoint?.stepIndex ?? 0,
      };
      this.options.sink?.logRunEvent(event);
      this.record(stored, "interrupted", reason, event.tWallMs);
      this.emit({ type: "state", run: stored.id, event });
      this.options.logger?.warn(
        { run: stored.id, channel: stored.channel },
        "run interrupted by a restart; resume or stop it",
      );
    }
  }

  /** Validates and starts a run. Throws typed errors (unknown channel, busy, chamber owned, invalid profile). */
  async create(request: RunRequest, id: string): Promise<RunInfo> {
    this.assertStartable(request);
    const override = request.temperatureOverride;
    const firstCycle = this.firstCycleOf?.(request.cell.id);
    const stored: StoredRun = {
      id,
      channel: request.channel,
      cell: request.cell,
      profile: request.profile,
      profileId: request.profileId ?? null,
      state: "queued",
      reason: "",
      cleared: false,
      createdMs: this.bench.clock.wallNow(),
      history: [
        {
          state: "queued",
          tWallMs: this.bench.clock.wallNow(),
          reason: override === undefined ? "" : `started without a cell temperature: ${override}`,
        },
      ],
      ...(override === undefined ? {} : { temperatureOverride: override }),
      ...(firstCycle === undefined ? {} : { firstCycleDischargeAh: firstCycle }),
    };
    const engine = this.attach(stored);
    this.options.store?.save(stored);
    if (override !== undefined) {
      const event: RunEventRecord = {
        channel: stored.channel,
        run: id,
        tWallMs: stored.createdMs,
        state: "queued",
        reason: stored.history[0]?.reason ?? "",
        stepIndex: 0,
      };
      this.options.sink?.logRunEvent(event);
      this.emit({ type: "state", run: id, event });
      this.options.logger?.warn(
        { run: id, channel: stored.channel, override },
        "run started without a cell temperature",
      );
    }
    const managed = this.runs.get(id) as ManagedRun;
    this.estimate(managed, request.profileSource);
    await engine.start();
    return this.info(id);
  }

  /** Throws what create() would refuse before it touches the channel (a busy channel is the bench's to refuse). */
  assertStartable(request: RunRequest): void {
    const slot = this.bench.channel(request.channel);
    this.assertChannelFree(slot);
    const sensorFault = slot.latest?.temperatureFault;
    if (sensorFault) throw new TemperatureSensorFaultError(slot.id, sensorFault);
    this.validate(request);
    // Refused here, with a 409, rather than aborting at its first step.
    const socStep = stepUsingSoc(request.profile.steps);
    if (socStep !== undefined && restingSoc(request.cell, slot.latest) === undefined)
      throw new SocUnknownError(socUnknown(socStep));
  }

  /**
   * Checks what does not depend on the channel being free: a profile that fits the cell, the channel
   * and its chamber, and a cell temperature (or an override). Runs queued for later are checked so.
   */
  validate(request: RunRequest): void {
    const slot = this.bench.channel(request.channel);
    if (request.temperatureOverride === undefined && slot.latest && Number.isNaN(slot.latest.temperatureC))
      throw new TemperatureUnmeasuredError(slot.id, request.cell.id);
    const chamber = slot.chamberId ? this.bench.chambers.get(slot.chamberId) : undefined;
    assertProfileValid(request.profile, request.cell, {
      cycler: slot.channel.ranges,
      ...(chamber ? { chamber: chamber.chamber.ranges } : {}),
    });
  }

  get(id: string): RunInfo {
    return this.info(id);
  }

  /** The run as stored (its cell and profile in full), for its metadata. */
  stored(id: string): StoredRun {
    return structuredClone(this.managed(id).stored);
  }

  list(state?: RunState): RunInfo[] {
    return [...this.runs.keys()].map((id) => this.info(id)).filter((r) => !state || r.state === state);
  }

  async control(id: string, action: "pause" | "resume" | "stop" | "abort" | "clear"): Promise<RunInfo> {
    const run = this.managed(id);
    const engine = run.engine;
    if (!engine && action !== "clear") throw new InvalidTransitionError(id, run.stored.state, action);
    switch (action) {
      case "pause":
        await engine?.pause();
        break;
      case "resume":
        this.bench.prepareToDrive(run.stored.channel);
        run.gate.reset();
        await engine?.resume();
        break;
      case "stop":
        await engine?.stop();
        break;
      case "abort":
        await engine?.abort();
        break;
      case "clear":
        if (run.stored.state !== "faulted" || run.stored.cleared) {
          throw new InvalidTransitionError(
            id,
            run.stored.state,
            run.stored.cleared ? "clear an already cleared run" : "clear",
          );
        }
        run.stored.cleared = true;
        run.stored.history.push({
          state: "faulted",
          tWallMs: this.bench.clock.wallNow(),
          reason: "fault cleared by operator",
        });
        this.options.store?.save(run.stored);
        break;
    }
    return this.info(id);
  }

  /**
   * The operator took the cell off `channel` (out of its chamber): it no longer bounds the chamber's
   * set points. Refused while a run drives the channel. Remembered across restarts.
   */
  removeCell(channel: string): { channel: string; cell: string | null } {
    const watched = this.bench.supervisor.cellOn(channel);
    this.bench.releaseCell(channel);
    const now = this.bench.clock.wallNow();
    for (const run of this.runs.values()) {
      if (run.stored.channel !== channel || run.stored.cellRemovedMs !== undefined) continue;
      run.stored.cellRemovedMs = now;
      this.options.store?.save(run.stored);
    }
    return { channel, cell: watched?.cell.id ?? null };
  }

  /** Puts every channel into safe state and faults every active run. */
  async emergencyStop(reason = "emergency stop"): Promise<RunInfo[]> {
    const active = [...this.runs.values()].filter((r) => r.engine && !r.engine.isTerminal);
    await Promise.all(active.map((r) => r.engine?.fault(reason)));
    await this.bench.allSafe();
    return active.map((r) => this.info(r.stored.id));
  }

  /** Engines of runs that have not ended. */
  activeRuns(): RunEngine[] {
    return [...this.runs.values()].flatMap((r) => (r.engine && !r.engine.isTerminal ? [r.engine] : []));
  }

  /** Daemon shutdown: every active run becomes `interrupted` (safe state, counters checkpointed) to be resumed after a restart. */
  async interruptAll(reason: string): Promise<void> {
    await Promise.all(this.activeRuns().map((engine) => engine.interrupt(reason)));
  }

  private assertChannelFree(slot: ChannelSlot): void {
    for (const run of this.runs.values()) {
      if (run.stored.channel !== slot.id) continue;
      if (run.stored.state === "faulted" && !run.stored.cleared)
        throw new FaultNotClearedError(slot.id, run.stored.id);
    }
  }

  private newGate(): LogGate {
    return new LogGate(this.bench.config.samplingPeriodMs / 1000);
  }

  private attach(stored: StoredRun): RunEngine {
    const gate = this.newGate();
    const sink = this.options.sink;
    const emit = (event: RunEvent) => this.emit(event);
    let engine: RunEngine | undefined;
    let listenerErrors = 0;
    const listener: RunEngineListener = {
      sample: (record, log) => {
        if (
          sink &&
          gate.admit(
            { tS: record.testTimeS, voltageV: record.voltageV, currentA: record.currentA },
            log.criteria,
            log.forced,
          )
        ) {
          sink.logCell(record);
          // Checkpointed with each logged line (not every sample): the committed checkpoint then
          // describes exactly the last committed sample, at a fraction of the serialisation cost.
          if (engine) sink.setCheckpoint(stored.id, engine.checkpoint());
        }
        emit({ type: "sample", run: stored.id, record });
      },
      step: (change) => emit({ type: "step", run: stored.id, change }),
      stepEnd: (record) => sink?.logStep(record),
      cycle: (summary) => {
        sink?.logCycle(summary);
        emit({ type: "cycle", run: stored.id, summary });
      },
      error: (err, during) => {
        listenerErrors++;
        if (listenerErrors % 1000 === 1)
          this.options.logger?.error(
            { run: stored.id, err, during, errors: listenerErrors },
            "logging or streaming a run's record failed; the run and its safety checks go on",
          );
      },
      state: (event) => {
        sink?.logRunEvent(event);
        this.record(stored, event.state, event.reason, event.tWallMs);
        if (ENDED.has(event.state)) {
          sink?.deleteCheckpoint(stored.id);
          const managed = this.runs.get(stored.id);
          if (managed) setImmediate(() => this.release(managed));
        } else if (engine) sink?.setCheckpoint(stored.id, engine.checkpoint());
        emit({ type: "state", run: stored.id, event });
      },
    };
    engine = this.bench.attachRun(stored.channel, runDefinition(stored), listener);
    this.runs.set(stored.id, { stored, engine, gate, estimate: undefined });
    return engine;
  }

  private emit(event: RunEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private record(
    stored: StoredRun,
    state: RunState,
    reason: string,
    tWallMs = this.bench.clock.wallNow(),
  ): void {
    if (stored.state === state && state !== "running") return;
    stored.state = state;
    stored.reason = reason;
    stored.history.push({ state, tWallMs, reason });
    this.options.store?.save(stored);
  }

  /**
   * Dry-runs the profile on the profile worker for progress and ETA. At most MAX_PENDING_ESTIMATES
   * wait at once, and each pass stops after about 1.2 M simulated samples.
   */
  private estimate(run: ManagedRun, source?: RunRequest["profileSource"]): void {
    const estimator = this.options.estimator;
    if (!estimator) return;
    if (this.pendingEstimates >= MAX_PENDING_ESTIMATES) {
      this.options.logger?.warn(
        { run: run.stored.id, pending: this.pendingEstimates },
        "no ETA for this run: too many runs are waiting for their estimate",
      );
      return;
    }
    const { profile, cell } = run.stored;
    // Start where the cell and the chamber are now, as far as the latest samples tell.
    const slot = this.bench.channel(run.stored.channel);
    const airC = slot.chamberId ? this.bench.chambers.get(slot.chamberId)?.latest?.temperatureC : undefined;
    this.pendingEstimates++;
    const estimated = estimator({
      profile: source ?? { tree: profile },
      cell,
      samples: ESTIMATE_SAMPLES,
      initialSoc: estimateStartSoc(cell, slot.latest),
      ...(airC !== undefined && Number.isFinite(airC) ? { initialChamberC: airC } : {}),
    });
    estimated
      .then(
        (estimate) => {
          if (estimate.state !== "completed")
            this.options.logger?.info(
              { run: run.stored.id, state: estimate.state },
              "no ETA: the dry run did not complete",
            );
          else if (ENDED.has(run.stored.state)) run.estimate = { ...estimate, timeline: NO_TIMELINE };
          else run.estimate = estimate;
        },
        (err: unknown) =>
          this.options.logger?.warn({ run: run.stored.id, err }, "dry-run estimate failed; no ETA"),
      )
      .finally(() => this.pendingEstimates--);
  }

  /**
   * Lets go of an ended run's heavy state: its engine (and the profile tree it runs), its estimate's
   * timeline and its profile's steps. The store keeps the profile; views need only its name.
   */
  private release(run: ManagedRun): void {
    if (!ENDED.has(run.stored.state)) return;
    if (run.engine) run.final = run.engine.status();
    run.engine = undefined;
    if (run.estimate) run.estimate = { ...run.estimate, timeline: NO_TIMELINE };
    run.stored.profile = { ...run.stored.profile, steps: [] };
  }

  private managed(id: string): ManagedRun {
    const run = this.runs.get(id);
    if (!run) throw new UnknownRunError(id);
    return run;
  }

  private info(id: string): RunInfo {
    const run = this.managed(id);
    const status = run.engine?.status() ?? run.final ?? null;
    return {
      id,
      bench: this.bench.config.bench,
      channel: run.stored.channel,
      cell: run.stored.cell.id,
      profile: run.stored.profile.name,
      profileId: run.stored.profileId,
      state: run.stored.state,
      reason: run.stored.reason,
      cleared: run.stored.cleared,
      createdMs: run.stored.createdMs,
      history: run.stored.history,
      status,
      progress: run.estimate && status ? progressOf(run.estimate, status) : null,
    };
  }
}

function runDefinition(stored: StoredRun): RunDefinition {
  return {
    id: stored.id,
    cell: stored.cell,
    profile: stored.profile,
    ...(stored.temperatureOverride === undefined ? {} : { temperatureOverride: stored.temperatureOverride }),
    ...(stored.firstCycleDischargeAh === undefined
      ? {}
      : { firstCycleDischargeAh: stored.firstCycleDischargeAh }),
  };
}

function emptyCheckpoint(runId: string): RunCheckpoint {
  const zero = { chargeAh: 0, dischargeAh: 0, chargeWh: 0, dischargeWh: 0 };
  return {
    runId,
    state: "queued",
    positions: [{ index: 0, iteration: 0 }],
    stepIndex: 0,
    cycleIndex: 1,
    stepElapsedS: 0,
    testTimeS: 0,
    total: zero,
    cycleStart: zero,
    stepStart: zero,
    chamberWithinSinceS: null,
  };
}
