import type { CellSpec } from "../../drivers/capabilities.js";
import { type Bench, chamberSetpoints, usesChamber } from "../bench/bench.js";
import { ChamberLatchedError, ChamberSetpointRefusedError, ChannelBusyError } from "../bench/bench-errors.js";
import type { Logger } from "../log.js";
import type { Profile } from "../profile/ast.js";
import { type BarrierWait, BatchBarrier } from "./batch-barrier.js";
import {
  BatchChannelsInvalidError,
  BatchChannelsNotInOneChamberError,
  UnknownBatchError,
} from "./batch-errors.js";
import type { BatchStore, StoredBatch } from "./batch-store.js";
import type { RunState } from "./records.js";
import type { RunInfo, RunManager, RunRequest } from "./run-manager.js";

/** One channel of a batch and the cell on it. */
export interface BatchMember {
  channel: string;
  cell: CellSpec;
  temperatureOverride?: string;
}

export interface BatchRequest {
  members: BatchMember[];
  profile: Profile;
  profileId?: string;
  profileSource?: RunRequest["profileSource"];
}

export interface BatchInfo {
  id: string;
  chamber: string;
  profile: string;
  profileId: string | null;
  createdMs: number;
  /** `running` while a run has not ended, `held` while the chamber is latched in safe state, else `ended`. */
  state: "running" | "held" | "ended";
  /** Why the batch is held (the chamber's latch), if it is. */
  held: string | undefined;
  runs: { channel: string; run: RunInfo | undefined; waitsAt: BarrierWait | undefined }[];
}

const ENDED: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

interface LiveBatch {
  stored: StoredBatch;
  barrier: BatchBarrier;
}

/**
 * Batches: one profile on several channels of one chamber. The batch, not any of its runs, owns
 * the chamber; at each chamber step every run waits for the others before the set point is sent,
 * and again once soaked (BatchBarrier, through the engine's ChamberLink). A run that ended stops
 * taking part; a cell fault latches the chamber and holds the others (the bench's safety rule).
 */
export class Batches {
  private readonly batches = new Map<string, LiveBatch>();
  private readonly issued = new Map<string, number>();
  /** The latest state of each batch run, from the run manager's events (the barrier asks at every sample). */
  private readonly states = new Map<string, RunState>();
  private readonly unsubscribe: () => void;

  /**
   * Loads stored batches; those not ended take their chamber again, so that their runs, recovered
   * as `interrupted` afterwards (RunManager.recover), attach as members. Construct before recover.
   */
  constructor(
    private readonly bench: Bench,
    private readonly runs: RunManager,
    private readonly options: { store?: BatchStore; logger?: Logger } = {},
  ) {
    for (const stored of options.store?.all() ?? []) {
      const live = this.live(stored);
      this.batches.set(stored.id, live);
      if (!stored.ended && bench.chambers.has(stored.chamber)) this.reserve(live);
    }
    this.unsubscribe = runs.subscribe((event) => {
      if (event.type !== "state") return;
      this.states.set(event.run, event.event.state);
      if (ENDED.has(event.event.state)) this.onRunEnded(event.run);
    });
  }

  /**
   * Validates the whole batch (channels in one chamber, each free, each cell allowing every set
   * point, the profile fitting each cell and channel), takes the chamber and starts one run per
   * channel. `runIds`: one new run id per member, in order.
   */
  async start(request: BatchRequest, runIds: readonly string[]): Promise<BatchInfo> {
    const chamberId = this.assertStartable(request);
    const id = this.nextId();
    const stored: StoredBatch = {
      id,
      chamber: chamberId,
      createdMs: this.bench.clock.wallNow(),
      profile: request.profile,
      profileId: request.profileId ?? null,
      runs: request.members.map((m, i) => ({ channel: m.channel, run: runIds[i] as string })),
      released: [],
      ended: false,
    };
    const live = this.live(stored);
    this.reserve(live);
    this.batches.set(id, live);
    this.options.store?.save(stored);
    const started: string[] = [];
    try {
      for (const [i, member] of request.members.entries()) {
        const runId = runIds[i] as string;
        await this.runs.create(
          {
            channel: member.channel,
            cell: member.cell,
            profile: request.profile,
            ...(request.profileId === undefined ? {} : { profileId: request.profileId }),
            ...(member.temperatureOverride === undefined
              ? {}
              : { temperatureOverride: member.temperatureOverride }),
            ...(request.profileSource === undefined ? {} : { profileSource: request.profileSource }),
          },
          runId,
        );
        started.push(runId);
      }
    } catch (err) {
      // Nothing half-done stays: the runs already started stop, the chamber is free again.
      for (const run of started)
        await this.runs
          .control(run, "stop")
          .catch((e: unknown) => this.options.logger?.warn({ err: e, run }));
      stored.runs = stored.runs.filter((r) => started.includes(r.run));
      this.end(live);
      throw err;
    }
    return this.get(id);
  }

  get(id: string): BatchInfo {
    const live = this.batches.get(id);
    if (!live) throw new UnknownBatchError(id);
    const { stored, barrier } = live;
    const runs = stored.runs.map(({ channel, run }) => {
      const info = this.runInfo(run);
      const waitsAt = info && !ENDED.has(info.state) ? barrier.waitOf(run) : undefined;
      return { channel, run: info, waitsAt };
    });
    const latched = stored.ended ? undefined : this.bench.chambers.get(stored.chamber)?.latched;
    return {
      id,
      chamber: stored.chamber,
      profile: stored.profile.name,
      profileId: stored.profileId,
      createdMs: stored.createdMs,
      state: stored.ended ? "ended" : latched ? "held" : "running",
      held: latched,
      runs,
    };
  }

  list(): BatchInfo[] {
    return [...this.batches.keys()].map((id) => this.get(id));
  }

  /** Stops every run of the batch that has not ended. */
  async stop(id: string): Promise<BatchInfo> {
    const live = this.batches.get(id);
    if (!live) throw new UnknownBatchError(id);
    for (const { run } of live.stored.runs) {
      const info = this.runInfo(run);
      if (info && !ENDED.has(info.state)) await this.runs.control(run, "stop");
    }
    return this.get(id);
  }

  /** Resumes every paused or interrupted run of the batch (after the chamber's latch was cleared). */
  async resume(id: string): Promise<BatchInfo> {
    const live = this.batches.get(id);
    if (!live) throw new UnknownBatchError(id);
    const chamber = this.bench.chambers.get(live.stored.chamber);
    if (chamber?.latched) throw new ChamberLatchedError(chamber.id, chamber.latched);
    for (const { run } of live.stored.runs) {
      const state = this.runInfo(run)?.state;
      if (state === "paused" || state === "interrupted") await this.runs.control(run, "resume");
    }
    return this.get(id);
  }

  /**
   * After RunManager.recover: a batch whose runs had all ended when the daemon stopped (its end not
   * yet recorded) lets its chamber go.
   */
  reconcile(): void {
    for (const live of this.batches.values()) if (!live.stored.ended) this.endIfDone(live);
  }

  close(): void {
    this.unsubscribe();
  }

  private assertStartable(request: BatchRequest): string {
    const channels = request.members.map((m) => m.channel);
    if (channels.length < 2) throw new BatchChannelsInvalidError(`a batch of ${channels.length} channel`);
    const twice = channels.find((c, i) => channels.indexOf(c) !== i);
    if (twice) throw new BatchChannelsInvalidError(`channel ${twice} is given twice`);
    const slots = channels.map((c) => this.bench.channel(c));
    const chamberId = slots[0]?.chamberId;
    if (!chamberId || slots.some((s) => s.chamberId !== chamberId))
      throw new BatchChannelsNotInOneChamberError(
        slots.map((s) => ({ channel: s.id, chamber: s.chamberId })),
      );
    const chamber = this.bench.chambers.get(chamberId);
    if (chamber?.latched) throw new ChamberLatchedError(chamberId, chamber.latched);
    const setpoints = [...new Set(chamberSetpoints(request.profile.steps))];
    for (const [i, member] of request.members.entries()) {
      const slot = slots[i];
      if (slot?.run && !slot.run.isTerminal)
        throw new ChannelBusyError(slot.id, slot.run.id, slot.run.currentState);
      this.runs.assertStartable({
        channel: member.channel,
        cell: member.cell,
        profile: request.profile,
        ...(member.temperatureOverride === undefined
          ? {}
          : { temperatureOverride: member.temperatureOverride }),
      });
    }
    // Cells resting on the chamber's channels (a batch channel's included, until its new cell mounts).
    for (const setpointC of setpoints) {
      const refusal = this.bench.supervisor.chamberSetpointRefusal(
        chamberId,
        setpointC,
        chamber?.channels ?? [],
      );
      if (refusal) throw new ChamberSetpointRefusedError(refusal);
    }
    return chamberId;
  }

  private live(stored: StoredBatch): LiveBatch {
    const runIds = stored.runs.map((r) => r.run);
    const barrier = new BatchBarrier(
      runIds,
      (run) => {
        const state = this.stateOf(run);
        return state === undefined || !ENDED.has(state);
      },
      stored.released,
      () => {
        stored.released = barrier.passedMeetings();
        this.options.store?.save(stored);
      },
    );
    return { stored, barrier };
  }

  /** The batch owns its chamber when its profile drives it (without chamber steps its runs need not). */
  private reserve(live: LiveBatch): void {
    if (!usesChamber(live.stored.profile.steps)) return;
    this.bench.reserveChamber(live.stored.chamber, {
      id: live.stored.id,
      runs: new Set(live.stored.runs.map((r) => r.run)),
      steps: live.stored.profile.steps,
      barrier: live.barrier,
    });
  }

  private onRunEnded(run: string): void {
    for (const live of this.batches.values())
      if (!live.stored.ended && live.stored.runs.some((r) => r.run === run)) this.endIfDone(live);
  }

  private endIfDone(live: LiveBatch): void {
    const open = live.stored.runs.some(({ run }) => {
      const state = this.stateOf(run);
      return state === undefined || !ENDED.has(state);
    });
    if (!open) this.end(live);
  }

  private end(live: LiveBatch): void {
    live.stored.ended = true;
    this.bench.releaseChamber(live.stored.chamber, live.stored.id);
    this.options.store?.save(live.stored);
  }

  private runInfo(run: string): RunInfo | undefined {
    return this.stateOf(run) === undefined ? undefined : this.runs.get(run);
  }

  /** A batch run's state; undefined while it has not been created. */
  private stateOf(run: string): RunState | undefined {
    const known = this.states.get(run);
    if (known) return known;
    const listed = this.runs.list().find((r) => r.id === run)?.state;
    if (listed && ENDED.has(listed)) this.states.set(run, listed);
    return listed;
  }

  /** `B<yyyymmdd>-<seq>`, like run ids. */
  private nextId(): string {
    const day = new Date(this.bench.clock.wallNow()).toISOString().slice(0, 10).replaceAll("-", "");
    const prefix = `B${day}-`;
    let last = Math.max(this.issued.get(prefix) ?? 0, this.options.store?.lastSequence(prefix) ?? 0);
    for (const id of this.batches.keys())
      if (id.startsWith(prefix)) last = Math.max(last, Number(id.slice(prefix.length)));
    this.issued.set(prefix, last + 1);
    return `${prefix}${String(last + 1).padStart(4, "0")}`;
  }
}
