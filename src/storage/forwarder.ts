/**
 * The forwarder (DESIGN §2) moves committed outbox rows to InfluxDB, oldest first, one batch of
 * about `batchLines` lines at a time, and deletes them only after InfluxDB accepted them.
 *
 * - Nothing can be concluded from the reply (server down, timeout, 5xx, auth, missing database):
 *   the same batch is retried after an exponential back-off with jitter, capped at `backoff.maxMs`,
 *   for as long as it takes. The outbox spools meanwhile; nothing is dropped.
 * - 400/422 (bad data): InfluxDB 1.x stored the good points and refused the rest without saying which
 *   lines those were. The batch is bisected: each half is written again (rewriting an identical point
 *   is idempotent in InfluxDB: same series, timestamp and fields replace themselves), halves that
 *   are refused are split again, and a single refused line becomes a dead letter with the server's
 *   message. The dead letters and the deletion of the batch are one transaction, so a crash in the
 *   middle replays the batch (idempotent) and never duplicates a dead letter.
 * - 413 (body too large): the batch is split the same way.
 */
import { type Clock, SystemClock } from "../../drivers/clock.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import type { LineWriter, WriteOutcome } from "./line-writer.js";
import { DEFAULT_BATCH_LINES, type DeadLetter, type Outbox, type OutboxBatch } from "./outbox.js";

/** What the forwarder reports (part of the storage status). */
export interface ForwarderStatus {
  running: boolean;
  /** Whether InfluxDB answered the last request at all; null before the first attempt. */
  reachable: boolean | null;
  /** Whether the schema step succeeded (or is not managed here). */
  schemaReady: boolean;
  writtenPoints: number;
  writtenBatches: number;
  /** HTTP requests made, bisection halves included. */
  requests: number;
  /** Attempts that failed and will be retried (network, 5xx, auth, missing database). */
  writeErrors: number;
  consecutiveFailures: number;
  /** Whether the last batch read was a backlog's, sent at the catch-up rate. */
  catchingUp: boolean;
  /** The catch-up rate, points per second; null: a backlog goes unpaced. */
  catchUpPointsPerSecond: number | null;
  /**
   * The pace of the last backlog batch, points per second: the catch-up rate, or CATCH_UP_LIVE_MARGIN
   * times the rate live points are appended when that is higher; null while not catching up.
   */
  catchUpPacePointsPerSecond: number | null;
  /** Lines refused as bad data since start-up (the outbox keeps them as dead letters). */
  deadLetters: number;
  /** Batches that needed bisecting. */
  bisectedBatches: number;
  lastSuccessMs: number | null;
  lastError: { atMs: number; status: number | null; message: string } | null;
  /** Wall time of the next retry while backing off, else null. */
  nextRetryMs: number | null;
}

/** Events the storage layer logs and counts; all optional. */
export interface ForwarderEvents {
  onWriteFailed?(outcome: Extract<WriteOutcome, { kind: "failed" }>, retryInMs: number): void;
  onRecovered?(afterFailures: number): void;
  onDeadLetters?(letters: DeadLetter[]): void;
  onSchemaFailed?(error: Error, retryInMs: number | null): void;
  /** A batch was delivered (its `createdMs` tells how late it is). */
  onDelivered?(batch: OutboxBatch, deadLetters: number): void;
  /** Something unexpected failed (outbox read/update, a writer that threw); retried after `retryInMs`. */
  onError?(error: Error, retryInMs: number): void;
}

/**
 * Two writes in flight: while InfluxDB parses one batch the next is already on its way, so the
 * server never waits for a round trip. Raw posting to influxd 1.6 on loopback measured 108–132k
 * points/s with one write in flight and 142–213k with two (test/bench/ingest.ts reports both).
 */
export const DEFAULT_CONCURRENCY = 2;

/**
 * Rows older than this when they are read are a backlog (InfluxDB was away, or the daemon was
 * down): they go at the catch-up rate. Newer rows, the live stream, are sent as fast as they come.
 */
export const CATCH_UP_AFTER_MS = 10_000;

/**
 * Pace of a backlog, points per second, live points caught behind it included. Unpaced, an hour's
 * backlog of 64 × 10 Hz went at 115,000 points/s with influxd on both cores of a 2-core host, and
 * the sampling wake-ups beside it reached p99 3.1 ms with 57 missed periods; at 25,000 points/s the
 * same backlog drained in 126 s beside 64 × 100 Hz of live samples, at p99 1.15 ms and 22 missed
 * (test/bench/drain.ts, one run each, side by side).
 */
export const DEFAULT_CATCH_UP_POINTS_PER_SECOND = 25_000;

/**
 * A backlog goes at least this many times as fast as live points are appended (measured over
 * LIVE_RATE_WINDOW_MS), whatever the catch-up rate: at a rate below the live one it would never end,
 * and the outbox would grow until the disk is full.
 */
export const CATCH_UP_LIVE_MARGIN = 2;
export const LIVE_RATE_WINDOW_MS = 5_000;

/** The range `influx.catchUpPointsPerSecond` accepts. */
export const CATCH_UP_POINTS_PER_SECOND = { min: 1_000, max: 10_000_000 } as const;

export interface ForwarderOptions {
  outbox: Outbox;
  writer: LineWriter;
  /**
   * Makes sure the database exists; run before the first write and after "database not found".
   * Reject with `{ serverAnswered: true }` on the error when InfluxDB answered (e.g. no permission):
   * writing is then tried anyway.
   */
  ensureSchema?: () => Promise<void>;
  /** Clock for back-off sleeps and status timestamps (default SystemClock). */
  clock?: Clock;
  /** Lines per batch (default DEFAULT_BATCH_LINES). */
  batchLines?: number;
  /**
   * Batches in flight at once (default DEFAULT_CONCURRENCY). In-flight batches share one back-off
   * and are acknowledged in order.
   */
  concurrency?: number;
  /**
   * Points per second for rows older than CATCH_UP_AFTER_MS (default: unpaced). The sampling
   * thread shares the host with InfluxDB and this process's writer threads; a backlog sent flat out
   * takes the cores from it.
   */
  catchUpPointsPerSecond?: number;
  backoff?: BackoffOptions;
  events?: ForwarderEvents;
}

interface Delivery {
  dead: DeadLetter[];
  bisected: boolean;
}

type SendResult = Delivery | undefined | { error: unknown };

/** Drains the outbox into InfluxDB. `start()` runs it in the background; `stop()` ends it. */
export class Forwarder {
  private readonly outbox: Outbox;
  private readonly writer: LineWriter;
  private readonly ensureSchema: (() => Promise<void>) | undefined;
  private readonly clock: Clock;
  private readonly batchLines: number;
  private readonly concurrency: number;
  private readonly catchUpPointsPerSecond: number | undefined;
  /** Monotonic time the next catch-up batch may go. */
  private catchUpAt = Number.NEGATIVE_INFINITY;
  /** Where the current live-rate window started, and the rate the last full window measured. */
  private liveWindow: { atMs: number; lines: number; pointsPerSecond: number } | undefined;
  private readonly backoff: Backoff;
  private readonly events: ForwarderEvents;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly state: ForwarderStatus;

  constructor(options: ForwarderOptions) {
    this.outbox = options.outbox;
    this.writer = options.writer;
    this.ensureSchema = options.ensureSchema;
    this.clock = options.clock ?? new SystemClock();
    this.batchLines = Math.max(1, options.batchLines ?? DEFAULT_BATCH_LINES);
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    const rate = options.catchUpPointsPerSecond;
    if (rate !== undefined && !(rate > 0))
      throw new RangeError(`forwarder: catch-up rate must be > 0 points/s, got ${rate}`);
    this.catchUpPointsPerSecond = rate;
    this.backoff = new Backoff(options.backoff);
    this.events = options.events ?? {};
    this.state = {
      running: false,
      reachable: null,
      schemaReady: this.ensureSchema === undefined,
      writtenPoints: 0,
      writtenBatches: 0,
      requests: 0,
      writeErrors: 0,
      consecutiveFailures: 0,
      catchingUp: false,
      catchUpPointsPerSecond: rate ?? null,
      catchUpPacePointsPerSecond: null,
      deadLetters: 0,
      bisectedBatches: 0,
      lastSuccessMs: null,
      lastError: null,
      nextRetryMs: null,
    };
  }

  /** Starts forwarding in the background. */
  start(): void {
    if (this.loop !== undefined) return;
    const abort = new AbortController();
    this.abort = abort;
    this.state.running = true;
    this.unsubscribe = this.outbox.onCommit(() => this.wake?.());
    this.loop = this.run(abort.signal).finally(() => {
      this.state.running = false;
    });
  }

  /**
   * Stops forwarding. With `drainTimeoutMs`, first keeps sending until the outbox is empty or the
   * time is up. A batch in flight when the stop comes is not acknowledged; it is sent again on the
   * next start (idempotent).
   */
  async stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.loop === undefined) return;
    if (options.drainTimeoutMs && options.drainTimeoutMs > 0) await this.drain(options.drainTimeoutMs);
    this.abort?.abort();
    this.wake?.();
    await this.loop;
    this.unsubscribe?.();
    this.loop = undefined;
    this.abort = undefined;
  }

  /** Resolves true once the outbox holds nothing committed or pending, false after `timeoutMs` (real time). */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await this.outbox.commit();
      if (this.outbox.backlog().rows === 0 && this.outbox.stats().pendingLines === 0) return true;
      if (performance.now() >= deadline || this.loop === undefined) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Returns a snapshot of the forwarder's counters and state. */
  status(): ForwarderStatus {
    return { ...this.state, lastError: this.state.lastError ? { ...this.state.lastError } : null };
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pump(signal);
      } catch (err) {
        // Unexpected (the outbox could not be read or updated, a writer threw): nothing unacknowledged
        // was deleted, so those rows are sent again after a pause.
        const error = err instanceof Error ? err : new Error(String(err));
        this.recordError(null, `forwarder: ${error.message}`);
        const wait = this.backoff.next();
        this.events.onError?.(error, wait);
        await this.sleep(wait, signal);
      }
    }
  }

  private async pump(signal: AbortSignal): Promise<void> {
    // Batches in flight, oldest first. They are acknowledged in this order, because acknowledging
    // deletes every row up to the batch's last id.
    const window: { batch: OutboxBatch; result: Promise<SendResult> }[] = [];
    // Acknowledgements run on the outbox's writer thread, one after the other, while the next batch
    // is already read and sent: InfluxDB does not wait for the delete's fsync. Reading goes on
    // after the last batch sent (`afterId`), so rows being deleted are never read again.
    const acks = new AckChain();
    let afterId = 0;
    try {
      while (!signal.aborted) {
        acks.throwIfFailed();
        if (!this.state.schemaReady) {
          await this.prepareSchema(signal);
          continue;
        }
        while (window.length < this.concurrency) {
          const batch = await this.outbox.readBatch(this.batchLines, afterId);
          if (!batch) break;
          await this.pace(batch, signal);
          if (signal.aborted) break;
          afterId = batch.lastId;
          window.push({ batch, result: this.send(batch, signal).catch((error: unknown) => ({ error })) });
        }
        const head = window.shift();
        if (!head) {
          afterId = 0;
          if (acks.pending > 0) {
            // A commit may land meanwhile, and its wake-up would find no idle pump: read again.
            await acks.settled();
            continue;
          }
          await this.idle(signal);
          continue;
        }
        const result = await head.result;
        if (result === undefined) return;
        if ("error" in result) throw result.error;
        acks.add(() => this.acknowledge(head.batch, result));
      }
    } finally {
      // Requests still in flight settle; their rows stay in the outbox and are sent again.
      await Promise.all(window.map((w) => w.result));
      await acks.settled();
    }
  }

  /** Waits until a backlog's batch may go at the catch-up rate; a live batch goes at once. */
  private async pace(batch: OutboxBatch, signal: AbortSignal): Promise<void> {
    const live = this.livePointsPerSecond();
    const rate = this.catchUpPointsPerSecond;
    this.state.catchingUp = rate !== undefined && this.clock.wallNow() - batch.createdMs > CATCH_UP_AFTER_MS;
    if (!this.state.catchingUp || rate === undefined) {
      this.state.catchUpPacePointsPerSecond = null;
      return;
    }
    const pace = Math.max(rate, CATCH_UP_LIVE_MARGIN * live);
    this.state.catchUpPacePointsPerSecond = pace;
    const wait = this.catchUpAt - this.clock.now();
    if (wait > 0) await this.sleep(wait, signal, false);
    this.catchUpAt = Math.max(this.catchUpAt, this.clock.now()) + (batch.points / pace) * 1000;
  }

  /** Lines appended to the outbox per second over the last full LIVE_RATE_WINDOW_MS (0 before one). */
  private livePointsPerSecond(): number {
    const now = this.clock.now();
    const lines = this.outbox.stats().appendedLines;
    const w = this.liveWindow;
    if (w === undefined) {
      this.liveWindow = { atMs: now, lines, pointsPerSecond: 0 };
      return 0;
    }
    if (now - w.atMs >= LIVE_RATE_WINDOW_MS) {
      w.pointsPerSecond = ((lines - w.lines) / (now - w.atMs)) * 1000;
      w.atMs = now;
      w.lines = lines;
    }
    return w.pointsPerSecond;
  }

  private async prepareSchema(signal: AbortSignal): Promise<void> {
    try {
      await (this.ensureSchema as () => Promise<void>)();
      this.state.schemaReady = true;
      this.state.reachable = true;
    } catch (err) {
      const error = err as Error & { serverAnswered?: boolean };
      if (error.serverAnswered) {
        // InfluxDB answered but refused (permissions, a 2.x/3.x server): try writing anyway.
        this.state.schemaReady = true;
        this.state.reachable = true;
        this.recordError(null, error.message);
        this.events.onSchemaFailed?.(error, null);
        return;
      }
      this.state.reachable = false;
      this.recordError(null, error.message);
      const wait = this.backoff.next();
      this.events.onSchemaFailed?.(error, wait);
      await this.sleep(wait, signal);
    }
  }

  /** Sends one batch until every line is either stored or a dead letter; undefined when stopped first. */
  private async send(batch: OutboxBatch, signal: AbortSignal): Promise<Delivery | undefined> {
    const pending: { body: Buffer | string; lines?: string[] }[] = [{ body: batch.body }];
    const dead: DeadLetter[] = [];
    let bisected = false;
    while (pending.length > 0) {
      if (signal.aborted) return undefined;
      const part = pending[pending.length - 1] as { body: Buffer | string; lines?: string[] };
      this.state.requests++;
      const outcome = await this.writer.write(part.body);
      if (outcome.kind === "failed") {
        await this.afterFailure(outcome, signal);
        continue;
      }
      this.afterAnswer();
      pending.pop();
      if (outcome.kind === "written") continue;
      const lines = part.lines ?? part.body.toString().split("\n");
      if (lines.length === 1) {
        dead.push({ line: lines[0] as string, status: outcome.status, message: outcome.message });
        continue;
      }
      bisected = true;
      const mid = Math.ceil(lines.length / 2);
      const left = lines.slice(0, mid);
      const right = lines.slice(mid);
      pending.push({ body: right.join("\n"), lines: right }, { body: left.join("\n"), lines: left });
    }
    return { dead, bisected };
  }

  private async acknowledge(batch: OutboxBatch, { dead, bisected }: Delivery): Promise<void> {
    await this.outbox.acknowledge(batch, dead);
    const s = this.state;
    s.writtenBatches++;
    s.writtenPoints += batch.points - dead.length;
    s.deadLetters += dead.length;
    if (bisected) s.bisectedBatches++;
    if (dead.length > 0) this.events.onDeadLetters?.(dead);
    this.events.onDelivered?.(batch, dead.length);
  }

  private afterAnswer(): void {
    const s = this.state;
    const failures = s.consecutiveFailures;
    s.reachable = true;
    s.consecutiveFailures = 0;
    s.nextRetryMs = null;
    s.lastSuccessMs = this.clock.wallNow();
    this.backoff.reset();
    if (failures > 0) this.events.onRecovered?.(failures);
  }

  private async afterFailure(
    outcome: Extract<WriteOutcome, { kind: "failed" }>,
    signal: AbortSignal,
  ): Promise<void> {
    const s = this.state;
    s.reachable = outcome.status !== null;
    s.writeErrors++;
    this.recordError(outcome.status, outcome.message);
    const wait = this.backoff.next();
    this.events.onWriteFailed?.(outcome, wait);
    await this.sleep(wait, signal);
    if (outcome.databaseMissing && this.ensureSchema && !signal.aborted) {
      this.state.schemaReady = false;
      await this.prepareSchema(signal);
    }
  }

  private recordError(status: number | null, message: string): void {
    this.state.consecutiveFailures++;
    this.state.lastError = { atMs: this.clock.wallNow(), status, message };
  }

  /** Waits `ms` or until stopped; `retry` says it is a back-off (shown as the next retry's time). */
  private async sleep(ms: number, signal: AbortSignal, retry = true): Promise<void> {
    if (signal.aborted) return;
    if (retry) this.state.nextRetryMs = this.clock.wallNow() + ms;
    // A signal per sleep: VirtualClock leaves its abort listener on the signal after waking, which
    // would pile up on the long-lived stop signal over a long outage.
    const local = new AbortController();
    const forward = () => local.abort();
    signal.addEventListener("abort", forward, { once: true });
    try {
      await this.clock.sleepUntil(this.clock.now() + ms, local.signal);
    } finally {
      signal.removeEventListener("abort", forward);
      if (retry) this.state.nextRetryMs = null;
    }
  }

  /** Waits for the next commit that stores lines (or the stop). */
  private idle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = () => {
        this.wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Acknowledgements run one after the other; the first failure is kept for the pump to throw. */
class AckChain {
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  /** Acknowledgements added and not yet finished. */
  pending = 0;

  add(acknowledge: () => Promise<void>): void {
    this.pending++;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failure) await acknowledge();
      } catch (error) {
        this.failure = { error };
      } finally {
        this.pending--;
      }
    });
  }

  /** Resolves once every acknowledgement added so far has finished (never rejects). */
  settled(): Promise<void> {
    return this.tail;
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
