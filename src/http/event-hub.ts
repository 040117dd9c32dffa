/**
 * Live events for Server-Sent Events clients. One subscription to the run manager feeds every
 * connected client: samples decimated per run (default one per second of real time; the latest
 * sample before a step, cycle or state event is always sent first, so each step ends on its true
 * last values), step changes, cycles and state changes. Every event gets an id from one increasing
 * counter and is kept in a bounded ring per run and in a bench-wide ring, so a client that
 * reconnects with Last-Event-ID gets what it missed: at most a bounded replay (REPLAY_MAX_EVENTS,
 * REPLAY_MAX_BYTES), the newest events; what lies beyond is reported as a gap.
 */

import type { CellRecord } from "../run/records.js";
import type { RunEvent, RunManager } from "../run/run-manager.js";
import { cycleView, isTerminalState, recordView, stateView, stepView } from "./views.js";

/** Most events one Last-Event-ID replay sends (the newest ones; older ones are a gap). */
export const REPLAY_MAX_EVENTS = 512;
/** Most bytes of SSE text one Last-Event-ID replay sends. */
export const REPLAY_MAX_BYTES = 128 * 1024;

export interface ReplayLimits {
  maxEvents?: number;
  maxBytes?: number;
}

export interface Replay {
  /** Events after the id asked for, oldest first, within the limits. */
  events: LiveEvent[];
  /** Some events after the id asked for are not in `events` (dropped from the ring, or past the limits). */
  gap: boolean;
}

export type LiveEventType = "sample" | "step" | "state" | "cycle";

export interface LiveEvent {
  id: number;
  run: string;
  type: LiveEventType;
  terminal: boolean;
  /** The event as SSE text, ready to write (`id:`, `event:`, `data:`, blank line). */
  text: string;
}

export interface EventHubOptions {
  /** Samples per second per run on the live streams (default 1). 0 or Infinity: every sample. */
  sampleRateHz?: number;
  /** Events kept per run for Last-Event-ID (default 512). */
  runBuffer?: number;
  /** Events kept for the bench-wide stream (default 4096). */
  benchBuffer?: number;
  /** Ended runs whose buffers are kept (default 64). */
  keepEndedRuns?: number;
  /** Real-time milliseconds for decimation (default performance.now). */
  now?: () => number;
  /** Receives errors of live clients (they never reach the run manager). */
  onError?: (err: unknown) => void;
  /** Progress of a run to attach to its samples (fraction, remaining seconds). */
  progress?: (run: string) => { fraction: number; remaining_s: number } | null;
}

interface RunChannel {
  ring: Ring<LiveEvent>;
  listeners: Set<(e: LiveEvent) => void>;
  lastSampleAt: number;
  /** The latest sample not yet sent (decimated away). */
  pending: CellRecord | undefined;
  ended: boolean;
  /** Id of the newest event pushed out of the ring (0 when none was). */
  droppedThrough: number;
}

/** A fixed-size ring buffer, oldest first out. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array(Math.max(1, capacity));
  }

  /** Appends an item; returns the item it pushed out, if the ring was full. */
  push(item: T): T | undefined {
    const cap = this.items.length;
    const slot = (this.start + this.count) % cap;
    const evicted = this.count === cap ? this.items[slot] : undefined;
    this.items[slot] = item;
    if (this.count < cap) this.count++;
    else this.start = (this.start + 1) % cap;
    return evicted;
  }

  /** The item `i` places from the newest (0: the newest), or undefined beyond the oldest. */
  fromNewest(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.start + this.count - 1 - i) % this.items.length];
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.items.length] as T);
    return out;
  }

  get size(): number {
    return this.count;
  }
}

export class EventHub {
  private nextId = 1;
  private readonly runs = new Map<string, RunChannel>();
  private readonly benchRing: Ring<LiveEvent>;
  private benchDroppedThrough = 0;
  private readonly benchListeners = new Set<(e: LiveEvent) => void>();
  private unsubscribe: (() => void) | undefined;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly manager: Pick<RunManager, "subscribe">,
    private readonly options: EventHubOptions = {},
  ) {
    const rate = options.sampleRateHz ?? 1;
    this.minIntervalMs = rate > 0 && Number.isFinite(rate) ? 1000 / rate : 0;
    this.now = options.now ?? (() => performance.now());
    this.benchRing = new Ring(options.benchBuffer ?? 4096);
  }

  start(): void {
    if (this.unsubscribe) return;
    // Live clients must never disturb the run that feeds them: nothing thrown here reaches the engine.
    this.unsubscribe = this.manager.subscribe((e) => {
      try {
        this.onRunEvent(e);
      } catch (err) {
        this.options.onError?.(err);
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Id of the last event handed out (0 before the first). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Listens to one run's events; returns the function that removes the listener. */
  listenRun(run: string, listener: (e: LiveEvent) => void): () => void {
    const channel = this.channel(run);
    channel.listeners.add(listener);
    return () => channel.listeners.delete(listener);
  }

  /** Listens to every run's events; returns the function that removes the listener. */
  listenBench(listener: (e: LiveEvent) => void): () => void {
    this.benchListeners.add(listener);
    return () => this.benchListeners.delete(listener);
  }

  /** Number of connected listeners (per-run and bench-wide). */
  get listenerCount(): number {
    let n = this.benchListeners.size;
    for (const c of this.runs.values()) n += c.listeners.size;
    return n;
  }

  /**
   * Buffered events of a run after `afterId`, within `limits` (default REPLAY_MAX_EVENTS and
   * REPLAY_MAX_BYTES): the newest ones, found walking back from the newest, so the cost is bounded
   * by the limits, not by the ring or the id asked for.
   */
  replayRun(run: string, afterId: number, limits: ReplayLimits = {}): Replay {
    const channel = this.runs.get(run);
    if (!channel) return { events: [], gap: false };
    return replayOf(channel.ring, channel.droppedThrough, afterId, limits);
  }

  replayBench(afterId: number, limits: ReplayLimits = {}): Replay {
    return replayOf(this.benchRing, this.benchDroppedThrough, afterId, limits);
  }

  /** The run's buffered terminal event, if it has ended while this hub listened. */
  terminalEvent(run: string): LiveEvent | undefined {
    return this.runs
      .get(run)
      ?.ring.toArray()
      .find((e) => e.terminal);
  }

  private channel(run: string): RunChannel {
    let channel = this.runs.get(run);
    if (!channel) {
      channel = {
        ring: new Ring(this.options.runBuffer ?? 512),
        listeners: new Set(),
        lastSampleAt: Number.NEGATIVE_INFINITY,
        pending: undefined,
        ended: false,
        droppedThrough: 0,
      };
      this.runs.set(run, channel);
    }
    return channel;
  }

  private onRunEvent(event: RunEvent): void {
    const channel = this.channel(event.run);
    switch (event.type) {
      case "sample": {
        const t = this.now();
        if (t - channel.lastSampleAt >= this.minIntervalMs) {
          channel.lastSampleAt = t;
          channel.pending = undefined;
          this.publish(channel, event.run, "sample", this.sampleData(event.run, event.record), false);
        } else {
          channel.pending = event.record;
        }
        return;
      }
      case "step":
        this.flushPending(channel, event.run);
        this.publish(channel, event.run, "step", stepView(event.change), false);
        return;
      case "cycle":
        this.flushPending(channel, event.run);
        this.publish(channel, event.run, "cycle", cycleView(event.summary), false);
        return;
      case "state": {
        this.flushPending(channel, event.run);
        const terminal = isTerminalState(event.event.state);
        this.publish(channel, event.run, "state", stateView(event.event), terminal);
        if (terminal) this.ended(event.run, channel);
        return;
      }
    }
  }

  private sampleData(run: string, record: CellRecord) {
    let progress: { fraction: number; remaining_s: number } | null = null;
    try {
      progress = this.options.progress?.(run) ?? null;
    } catch {
      progress = null;
    }
    return { run, channel: record.channel, ...recordView(record), progress };
  }

  private flushPending(channel: RunChannel, run: string): void {
    const record = channel.pending;
    if (!record) return;
    channel.pending = undefined;
    channel.lastSampleAt = this.now();
    this.publish(channel, run, "sample", this.sampleData(run, record), false);
  }

  private publish(
    channel: RunChannel,
    run: string,
    type: LiveEventType,
    data: unknown,
    terminal: boolean,
  ): void {
    const id = this.nextId++;
    const event: LiveEvent = {
      id,
      run,
      type,
      terminal,
      text: `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`,
    };
    const dropped = channel.ring.push(event);
    if (dropped) channel.droppedThrough = dropped.id;
    const benchDropped = this.benchRing.push(event);
    if (benchDropped) this.benchDroppedThrough = benchDropped.id;
    for (const listener of [...channel.listeners, ...this.benchListeners]) {
      try {
        listener(event);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }

  /** Keeps the buffers of the most recently ended runs only. */
  private ended(run: string, channel: RunChannel): void {
    channel.ended = true;
    const keep = this.options.keepEndedRuns ?? 64;
    const ended = [...this.runs.entries()].filter(([, c]) => c.ended && c.listeners.size === 0);
    for (const [id] of ended.slice(0, Math.max(0, ended.length - keep))) if (id !== run) this.runs.delete(id);
  }
}

function replayOf(
  ring: Ring<LiveEvent>,
  droppedThrough: number,
  afterId: number,
  limits: ReplayLimits,
): Replay {
  const maxEvents = limits.maxEvents ?? REPLAY_MAX_EVENTS;
  const maxBytes = limits.maxBytes ?? REPLAY_MAX_BYTES;
  const events: LiveEvent[] = [];
  let bytes = 0;
  let truncated = false;
  for (let i = 0; ; i++) {
    const e = ring.fromNewest(i);
    if (e === undefined || e.id <= afterId) break;
    const size = Buffer.byteLength(e.text);
    if (events.length >= maxEvents || bytes + size > maxBytes) {
      truncated = true;
      break;
    }
    events.push(e);
    bytes += size;
  }
  events.reverse();
  return { events, gap: truncated || droppedThrough > afterId };
}
