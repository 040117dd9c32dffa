import type { Bench } from "../bench/bench.js";
import type { Logger } from "../log.js";
import { QueueEntryUnknownError } from "./queue-errors.js";
import type { QueuedRun, QueueStore } from "./queue-store.js";
import type { RunState } from "./records.js";
import type { RunEvent, RunInfo, RunManager, RunRequest } from "./run-manager.js";

/** A channel's queue as the API shows it. */
export interface QueueInfo {
  channel: string;
  /** Why the queue starts nothing (a run did not end well, a restart, a start that failed); undefined: it runs. */
  held: string | undefined;
  /** The run on the channel now, if one has not ended. */
  current: string | undefined;
  runs: RunInfo[];
}

const ENDED: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

/**
 * Why a queue that survived a restart is held: the run before it was interrupted, not completed,
 * and the cells or the bench may have changed while the daemon was down. An operator looks first.
 */
export const RESTART_HOLD =
  "the daemon restarted: the queue waits for an operator (the run before it was interrupted, and the bench may have changed meanwhile)";

/**
 * Runs queued per channel: the next starts when the channel's run ends `completed`. Any other end
 * (stopped, aborted, faulted, interrupted), a start that fails, or a restart holds the queue, with
 * the reason, until an operator resumes or clears it. Each queued run was validated against its
 * cell and channel when queued, and keeps the run id it was given then.
 */
export class RunQueues {
  private readonly queues = new Map<string, QueuedRun[]>();
  private readonly holds = new Map<string, string>();
  /** Channels whose next run is being started (one at a time). */
  private readonly starting = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly bench: Bench,
    private readonly runs: RunManager,
    private readonly options: { store?: QueueStore; logger?: Logger } = {},
  ) {
    for (const [channel, stored] of options.store?.all() ?? []) {
      if (stored.runs.length === 0) continue;
      this.queues.set(channel, stored.runs);
      this.holds.set(channel, stored.held ?? RESTART_HOLD);
      this.save(channel);
    }
    this.unsubscribe = runs.subscribe((event) => this.onRunEvent(event));
  }

  /**
   * Queues a run on its channel after validating it as a run start would (4xx errors now, not at its
   * turn); starts it at once when the channel is free and the queue not held.
   */
  async add(request: RunRequest, id: string): Promise<RunInfo> {
    this.bench.channel(request.channel);
    this.runs.validate(request);
    const queued: QueuedRun = {
      id,
      channel: request.channel,
      createdMs: this.bench.clock.wallNow(),
      cell: request.cell,
      profile: request.profile,
      ...(request.profileId === undefined ? {} : { profileId: request.profileId }),
      ...(request.temperatureOverride === undefined
        ? {}
        : { temperatureOverride: request.temperatureOverride }),
      ...(request.profileSource === undefined ? {} : { profileSource: request.profileSource }),
    };
    const queue = this.queues.get(request.channel) ?? [];
    queue.push(queued);
    this.queues.set(request.channel, queue);
    this.save(request.channel);
    await this.startNext(request.channel);
    return this.info(id);
  }

  /** A queued run, or the run it became. */
  info(id: string): RunInfo {
    const entry = this.find(id);
    if (entry) return this.entryInfo(entry.run, entry.position);
    return this.runs.get(id);
  }

  /** Every queued run, as runs in state `queued`. */
  list(): RunInfo[] {
    return [...this.queues.values()].flatMap((queue) => queue.map((run, i) => this.entryInfo(run, i)));
  }

  /** The ids of queued runs (run ids handed out and not yet used by a run). */
  ids(): string[] {
    return [...this.queues.values()].flatMap((queue) => queue.map((run) => run.id));
  }

  queue(channel: string): QueueInfo {
    this.bench.channel(channel);
    const run = this.bench.channel(channel).run;
    return {
      channel,
      held: this.holds.get(channel),
      current: run && !run.isTerminal ? run.id : undefined,
      runs: (this.queues.get(channel) ?? []).map((r, i) => this.entryInfo(r, i)),
    };
  }

  /** Takes a queued run out of its queue (it never starts). */
  cancel(id: string): RunInfo {
    const entry = this.find(id);
    if (!entry)
      throw new QueueEntryUnknownError(
        id,
        this.runs.list().some((r) => r.id === id),
      );
    const info = this.entryInfo(entry.run, entry.position);
    const queue = this.queues.get(entry.run.channel) ?? [];
    queue.splice(entry.position, 1);
    if (queue.length === 0) {
      this.queues.delete(entry.run.channel);
      this.holds.delete(entry.run.channel);
    }
    this.save(entry.run.channel);
    return { ...info, reason: "cancelled by operator" };
  }

  /** Empties a channel's queue (and lifts its hold). */
  clear(channel: string): QueueInfo {
    this.bench.channel(channel);
    this.queues.delete(channel);
    this.holds.delete(channel);
    this.save(channel);
    return this.queue(channel);
  }

  /**
   * Lifts a channel's hold: its next run starts now if the channel is free, else when the run on it
   * completes. A start that is refused holds the queue again and throws why.
   */
  async resume(channel: string): Promise<QueueInfo> {
    this.bench.channel(channel);
    this.holds.delete(channel);
    this.save(channel);
    const failure = await this.startNext(channel);
    if (failure) throw failure;
    return this.queue(channel);
  }

  close(): void {
    this.unsubscribe();
  }

  private onRunEvent(event: RunEvent): void {
    if (event.type !== "state") return;
    const { channel, state, reason, run } = event.event;
    if (!ENDED.has(state) && state !== "interrupted") return;
    if (!this.queues.has(channel) || this.holds.has(channel)) return;
    if (state !== "completed") {
      const ended = state === "interrupted" ? "was interrupted" : `ended ${state}`;
      this.hold(channel, `run ${run} ${ended}${reason ? ` (${reason})` : ""}`);
      return;
    }
    // After the run's own handling of its end (its engine is still finishing this task).
    setImmediate(() => {
      void this.startNext(channel);
    });
  }

  private hold(channel: string, reason: string): void {
    this.holds.set(channel, reason);
    this.save(channel);
    this.options.logger?.warn({ channel, reason }, "run queue held; resume or clear it");
  }

  /** Starts the channel's next run if it may; returns why a start was refused (the queue is then held). */
  private async startNext(channel: string): Promise<Error | undefined> {
    const queue = this.queues.get(channel);
    const next = queue?.[0];
    if (!queue || !next || this.holds.has(channel) || this.starting.has(channel)) return undefined;
    const run = this.bench.channel(channel).run;
    if (run && !run.isTerminal) return undefined;
    this.starting.add(channel);
    queue.shift();
    try {
      await this.runs.create(requestOf(next), next.id);
      if (queue.length === 0) this.queues.delete(channel);
      this.save(channel);
      return undefined;
    } catch (err) {
      queue.unshift(next);
      const error = err instanceof Error ? err : new Error(String(err));
      this.hold(channel, `queued run ${next.id} could not start: ${error.message}`);
      return error;
    } finally {
      this.starting.delete(channel);
    }
  }

  private find(id: string): { run: QueuedRun; position: number } | undefined {
    for (const queue of this.queues.values()) {
      const position = queue.findIndex((r) => r.id === id);
      if (position >= 0) return { run: queue[position] as QueuedRun, position };
    }
    return undefined;
  }

  private entryInfo(run: QueuedRun, position: number): RunInfo {
    const held = this.holds.get(run.channel);
    const reason = `queued on ${run.channel}, position ${position + 1}${held ? `; the queue is held: ${held}` : ""}`;
    return {
      id: run.id,
      bench: this.bench.config.bench,
      channel: run.channel,
      cell: run.cell.id,
      profile: run.profile.name,
      profileId: run.profileId ?? null,
      state: "queued",
      reason,
      cleared: false,
      createdMs: run.createdMs,
      history: [{ state: "queued", tWallMs: run.createdMs, reason: `queued on ${run.channel}` }],
      status: null,
      progress: null,
    };
  }

  private save(channel: string): void {
    this.options.store?.saveChannel(channel, this.queues.get(channel) ?? [], this.holds.get(channel));
  }
}

function requestOf(run: QueuedRun): RunRequest {
  return {
    channel: run.channel,
    cell: run.cell,
    profile: run.profile,
    ...(run.profileId === undefined ? {} : { profileId: run.profileId }),
    ...(run.temperatureOverride === undefined ? {} : { temperatureOverride: run.temperatureOverride }),
    ...(run.profileSource === undefined ? {} : { profileSource: run.profileSource }),
  };
}
