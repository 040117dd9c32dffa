/**
 * The outbox (DESIGN §2): encoded line protocol waits here, in SQLite (WAL), until InfluxDB has it.
 *
 * - `append()` only copies the line into an in-memory buffer (O(1)); nothing touches the disk on the
 *   caller's path.
 * - A timer commits what accumulated, every `commitIntervalMs` (≤ 100 ms), as one transaction: the
 *   lines (grouped into rows of up to `maxRowLines`) and the latest run checkpoints together, so a
 *   crash never leaves a checkpoint that is ahead of, or behind, the data it describes. A crash loses
 *   at most what was appended since the last commit that finished.
 * - The transactions (and the WAL checkpoints) run on a writer thread (outbox-writer.ts): better-sqlite3
 *   is synchronous, and a commit's fsync blocked the sampling loop for 10–120 ms under load. One
 *   commit is in flight at a time; lines appended meanwhile wait for the next. Lines and checkpoints
 *   stay in memory until their commit is confirmed, and a failed commit is retried with the next.
 * - The forwarder takes rows oldest first and deletes them only once InfluxDB accepted them; lines
 *   InfluxDB refused as bad data go to the dead-letter table in the same transaction as the delete.
 *   The newest committed rows stay in their line buffers until then and are sent from there
 *   (committed-tail.ts); older ones (a backlog from before a restart, more than the tail holds) are
 *   read back on the writer thread (reading and joining a batch took up to a millisecond of the
 *   sampling loop, and more for a backlog's large batches).
 *
 * With `synchronous: "normal"` a commit survives a process crash but not a power cut; `"full"`
 * (default) adds an fsync per commit.
 */
import type Database from "better-sqlite3";
import { CommittedTail } from "./committed-tail.js";
import { OutboxError } from "./errors.js";
import { LineBuffer, type LinePart } from "./line-buffer.js";
import { openOutboxDatabase } from "./outbox-database.js";
import type { CommitStored, DeadLetter } from "./outbox-transactions.js";
import { InThreadWriter, type OutboxWriter, ThreadWriter } from "./outbox-writer.js";

export type { DeadLetter } from "./outbox-transactions.js";

/** Checkpoints serialised per loop turn while a commit is prepared. */
const CHECKPOINTS_PER_TURN = 8;

/**
 * Committed rows kept in memory for the forwarder (committed-tail.ts), at most: commits, and the
 * bytes of their buffers. Live, the forwarder has one or two of them in flight. In a burst (a
 * replay, the ingest bench) commits are megabytes each and the forwarder a few behind: with 4
 * commits or 32 MiB, most of the ingest bench's batches were still read back. A longer backlog
 * (InfluxDB away) is read back from SQLite, and the buffers pinned meanwhile stay this few.
 */
export const TAIL_LIMITS = { maxEntries: 16, maxBytes: 64 << 20 } as const;

/** Emptied line buffers kept for reuse: one pending, one committing, one or two the forwarder sends. */
const SPARE_BUFFERS = 4;

/** Lines per InfluxDB write, and the pending lines that start an early commit (one batch's worth). */
export const DEFAULT_BATCH_LINES = 5000;

export interface OutboxOptions {
  /** SQLite file (created when missing). `:memory:` works for tests but survives nothing. */
  path: string;
  /** Group-commit period (default 100 ms, at most 1000 ms). */
  commitIntervalMs?: number;
  /** Lines per stored row (default 1000). */
  maxRowLines?: number;
  /**
   * Pending lines that start a commit without waiting for the timer (default DEFAULT_BATCH_LINES, the
   * forwarder's batch): in a burst (a replay, a fast bench) the forwarder gets rows as soon as a batch is there.
   */
  commitLines?: number;
  /** `full` (default) survives power loss; `normal` survives process crashes only, with cheaper commits. */
  synchronous?: "normal" | "full";
  /** Lines held in memory while commits fail (disk full); beyond it new lines are dropped and counted. */
  maxPendingLines?: number;
  /** Wall clock for row and dead-letter timestamps (default Date.now). */
  wallNow?: () => number;
  /** Called when a commit fails (the lines stay pending and the next tick retries). */
  onCommitError?: (error: OutboxError) => void;
  /** Committed rows kept in memory for the forwarder (default TAIL_LIMITS; committed-tail.ts). */
  tail?: { maxEntries: number; maxBytes: number };
  /** Period of the writer thread's WAL checkpoint (default 1000 ms). */
  checkpointEveryMs?: number;
  /** Called when a WAL checkpoint fails. */
  onCheckpointError?: (message: string) => void;
  /** Called when the writer thread is given up and this thread writes instead (see outbox-writer.ts). */
  onWriterTakeOver?: (why: string) => void;
}

/** Rows the forwarder sends together: whole rows, oldest first. */
export interface OutboxBatch {
  firstId: number;
  lastId: number;
  rows: number;
  points: number;
  /** Wall time the oldest row of the batch was started (how late the batch is). */
  createdMs: number;
  /** The rows' lines joined with "\n" (line-protocol body, UTF-8). */
  body: Buffer;
}

export interface StoredDeadLetter extends DeadLetter {
  id: number;
  createdMs: number;
}

export interface CommitResult {
  lines: number;
  rows: number;
  checkpoints: number;
  durationMs: number;
}

export interface OutboxStats {
  appendedLines: number;
  committedLines: number;
  /** Lines appended but not yet committed (in memory, or in the commit in flight). */
  pendingLines: number;
  /** Lines refused because `maxPendingLines` was reached while commits failed. */
  droppedLines: number;
  commits: number;
  commitErrors: number;
  lastCommitError: string | null;
  /** Duration of the last commit's transaction (on the writer thread), ms. */
  lastCommitMs: number;
  worstCommitMs: number;
  totalCommitMs: number;
  /** Whether the transactions run on the writer thread (false: on the sampling thread). */
  writerThread: boolean;
}

export interface Backlog {
  /** Committed rows not yet accepted by InfluxDB. */
  rows: number;
  /** Committed lines (points) not yet accepted by InfluxDB. */
  points: number;
  /** Wall time the oldest unsent row was started, or null when nothing waits. */
  oldestCreatedMs: number | null;
}

export interface StoredCheckpoint {
  state: unknown;
  updatedMs: number;
}

/** Durable FIFO of encoded lines plus the run checkpoints committed with them. */
export class Outbox {
  private readonly db: Database.Database;
  private readonly writer: OutboxWriter;
  private readonly maxRowLines: number;
  private readonly maxPendingLines: number;
  private readonly wallNow: () => number;
  private readonly onCommitError: ((error: OutboxError) => void) | undefined;
  private readonly commitListeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  /** Lines appended since the last commit was sent. */
  private pending: LineBuffer;
  /** Wall time the first pending line was appended. */
  private pendingSinceMs = 0;
  /** Newest checkpoint per run since the last commit was sent (null: delete it), serialised when sent. */
  private pendingCheckpoints = new Map<string, { state: unknown } | null>();
  /** Checkpoints of the commit being prepared, not serialised yet (see serialiseCheckpoints). */
  private serialising = new Map<string, { state: unknown } | null>();
  /** Lines sent to the writer (or whose commit failed) and not yet confirmed, oldest first. */
  private readonly unconfirmed: LineBuffer[] = [];
  private unconfirmedLines = 0;
  private unconfirmedSinceMs = 0;
  /** Serialised checkpoints not yet confirmed (null: delete). */
  private readonly unconfirmedCheckpoints = new Map<string, string | null>();
  /** Emptied buffers kept for reuse. */
  private readonly spare: LineBuffer[] = [];
  /** Committed rows still in their buffers, for the forwarder. */
  private readonly tail: CommittedTail;
  /** The highest row id given (by the writer's commits and requeues, or stored at open). */
  private newestRowId: number;
  private inFlight: Promise<CommitResult | undefined> | undefined;
  private readonly commitLines: number;
  private earlyCommit: NodeJS.Immediate | undefined;
  private writerIsThread: boolean;
  private closed = false;
  private readonly backlogState: Backlog;
  /** Dead letters stored (see deadLetterCount). */
  private deadLetters: number;
  private readonly counters: Omit<OutboxStats, "writerThread"> = {
    appendedLines: 0,
    committedLines: 0,
    pendingLines: 0,
    droppedLines: 0,
    commits: 0,
    commitErrors: 0,
    lastCommitError: null,
    lastCommitMs: 0,
    worstCommitMs: 0,
    totalCommitMs: 0,
  };

  private constructor(options: OutboxOptions) {
    const interval = options.commitIntervalMs ?? 100;
    if (!(interval > 0 && interval <= 1000))
      throw new OutboxError(`commitIntervalMs must be in (0, 1000] ms, got ${interval}`);
    this.maxRowLines = Math.max(1, Math.floor(options.maxRowLines ?? 1000));
    this.pending = new LineBuffer(this.maxRowLines);
    this.commitLines = Math.max(1, Math.floor(options.commitLines ?? DEFAULT_BATCH_LINES));
    this.maxPendingLines = options.maxPendingLines ?? 1_000_000;
    this.wallNow = options.wallNow ?? Date.now;
    this.onCommitError = options.onCommitError;
    const synchronous = options.synchronous ?? "full";
    try {
      this.db = openOutboxDatabase(options.path, { synchronous, create: true });
    } catch (err) {
      throw new OutboxError(
        `cannot open the outbox at ${options.path}: ${(err as Error).message}; check the \`store\` path and its permissions`,
        { cause: err },
      );
    }
    const db = this.db;

    this.deadLetters = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM dead_letter").get()?.n ?? 0;
    const totals = db
      .prepare<[], { rows: number; points: number | null }>(
        "SELECT count(*) AS rows, sum(points) AS points FROM outbox",
      )
      .get();
    const oldest = db
      .prepare<[], { id: number; created_ms: number }>(
        "SELECT id, created_ms FROM outbox ORDER BY id LIMIT 1",
      )
      .get();
    this.backlogState = {
      rows: totals?.rows ?? 0,
      points: totals?.points ?? 0,
      oldestCreatedMs: oldest?.created_ms ?? null,
    };
    const newest = db.prepare<[], { id: number }>("SELECT max(id) AS id FROM outbox").get()?.id ?? 0;
    this.tail = new CommittedTail(options.tail ?? TAIL_LIMITS, newest, oldest?.id ?? null);
    this.newestRowId = newest;

    if (options.path === ":memory:" || options.path === "") {
      this.writer = new InThreadWriter(db);
      this.writerIsThread = false;
    } else {
      // This connection only reads while the thread writes; it must not checkpoint either.
      db.pragma("wal_autocheckpoint = 0");
      this.writerIsThread = true;
      this.writer = new ThreadWriter({
        path: options.path,
        synchronous,
        checkpointEveryMs: options.checkpointEveryMs ?? 1000,
        takeOver: () => {
          this.writerIsThread = false;
          this.db.pragma("wal_autocheckpoint = 1000");
          return new InThreadWriter(this.db, this.newestRowId);
        },
        onTakeOver: (why) => options.onWriterTakeOver?.(why),
        onCheckpointError: (message) => options.onCheckpointError?.(message),
      });
    }

    this.timer = setInterval(() => {
      if (this.inFlight === undefined) void this.commit();
    }, interval);
    this.timer.unref();
  }

  /** Opens (or creates) the outbox and starts its commit timer and writer thread. */
  static open(options: OutboxOptions): Outbox {
    return new Outbox(options);
  }

  /**
   * Resolves once commits can run: the writer thread has loaded and opened the database (a few
   * hundred ms at start-up; lines appended meanwhile wait in memory), or was given up.
   */
  ready(): Promise<void> {
    return this.writer.ready();
  }

  /** Queues one encoded line for the next group commit. O(1), no I/O. */
  append(line: string): void {
    if (!this.admit()) return;
    this.pending.append(line);
    this.appended();
  }

  /** append() for a line already encoded as UTF-8 (copied here: the caller may reuse `line`). */
  appendBytes(line: Uint8Array): void {
    if (!this.admit()) return;
    this.pending.appendBytes(line);
    this.appended();
  }

  /** Whether a line may join the pending ones (else it is counted as dropped); counts it if so. */
  private admit(): boolean {
    if (this.closed) throw new OutboxError("outbox is closed; lines can no longer be appended");
    if (this.counters.pendingLines >= this.maxPendingLines) {
      this.counters.droppedLines++;
      return false;
    }
    if (this.pending.lines === 0) this.pendingSinceMs = this.wallNow();
    this.counters.pendingLines++;
    this.counters.appendedLines++;
    return true;
  }

  /** After a line joined the pending ones. */
  private appended(): void {
    if (this.pending.lines >= this.commitLines) this.commitEarly();
  }

  /**
   * Starts a commit on the next turn once a batch's worth of lines waits, if none is in flight (else
   * the one in flight starts it when it ends). Not within append(): the caller sets the sample's
   * checkpoint right after its lines, and both belong in the same commit.
   */
  private commitEarly(): void {
    if (this.earlyCommit !== undefined || this.inFlight !== undefined || this.closed) return;
    this.earlyCommit = setImmediate(() => {
      this.earlyCommit = undefined;
      if (this.inFlight === undefined) void this.commit();
    });
  }

  /**
   * Records the latest checkpoint of a run (any JSON value); it is written in the same transaction
   * as the lines appended before it. Only the newest value per run is kept until the commit, and
   * only that one is serialised (a run logging every 10 ms sets many per commit): `state` must be a
   * snapshot that nobody changes afterwards. Call it right after appending a sample's lines, so that
   * a committed checkpoint and the committed data describe the same moment.
   */
  setCheckpoint(run: string, state: unknown): void {
    if (state === undefined || typeof state === "function" || typeof state === "symbol")
      throw new OutboxError(`checkpoint of run ${run} is not JSON-serialisable`);
    this.pendingCheckpoints.set(run, { state });
  }

  /** Removes a run's checkpoint with the next commit (the run ended and needs no resume). */
  deleteCheckpoint(run: string): void {
    this.pendingCheckpoints.set(run, null);
  }

  /** Returns every run's checkpoint, including ones set since the last commit. */
  readCheckpoints(): Map<string, StoredCheckpoint> {
    const result = new Map<string, StoredCheckpoint>();
    const rows = this.db
      .prepare<[], { run: string; state: string; updated_ms: number }>(
        "SELECT run, state, updated_ms FROM checkpoint",
      )
      .all();
    for (const row of rows) result.set(row.run, { state: JSON.parse(row.state), updatedMs: row.updated_ms });
    const now = this.wallNow();
    for (const [run, json] of this.unconfirmedCheckpoints) {
      if (json === null) result.delete(run);
      else result.set(run, { state: JSON.parse(json), updatedMs: now });
    }
    for (const checkpoints of [this.serialising, this.pendingCheckpoints])
      for (const [run, pending] of checkpoints) {
        if (pending === null) result.delete(run);
        else result.set(run, { state: JSON.parse(JSON.stringify(pending.state)), updatedMs: now });
      }
    return result;
  }

  /**
   * Commits what is pending now, after the commit in flight (the timer calls this; call it yourself
   * before shutdown), and resolves once it is durable. Resolves with what was written, or undefined
   * when there was nothing to write or it failed (then everything stays in memory for the next one).
   */
  async commit(): Promise<CommitResult | undefined> {
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.closed) return undefined;
    this.inFlight = this.takePending().then((request) => (request ? this.send(request) : undefined));
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = undefined;
      if (this.pending.lines >= this.commitLines) this.commitEarly();
    }
  }

  /** Moves what is pending into the unconfirmed set and builds the request that commits all of it. */
  private async takePending(): Promise<Parameters<OutboxWriter["commit"]>[0] | undefined> {
    if (this.pending.lines > 0) {
      if (this.unconfirmedLines === 0) this.unconfirmedSinceMs = this.pendingSinceMs;
      this.unconfirmed.push(this.pending);
      this.unconfirmedLines += this.pending.lines;
      this.pending = this.spare.pop() ?? new LineBuffer(this.maxRowLines);
    }
    // Taken together with the lines: checkpoints set from now on describe samples of the next commit.
    this.serialising = this.pendingCheckpoints;
    this.pendingCheckpoints = new Map();
    await this.serialiseCheckpoints(this.serialising);
    if (this.unconfirmedLines === 0 && this.unconfirmedCheckpoints.size === 0) return undefined;
    return {
      parts: this.unconfirmed.map((buffer) => buffer.part()),
      startedMs: this.unconfirmedSinceMs,
      nowMs: this.wallNow(),
      checkpoints: [...this.unconfirmedCheckpoints],
    };
  }

  private async send(request: Parameters<OutboxWriter["commit"]>[0]): Promise<CommitResult | undefined> {
    let stored: CommitStored;
    try {
      stored = await this.writer.commit(request);
    } catch (err) {
      this.counters.commitErrors++;
      const error = new OutboxError(
        `outbox commit failed (${(err as Error).message}); lines stay in memory and the next commit retries`,
        { cause: err },
      );
      this.counters.lastCommitError = error.message;
      this.onCommitError?.(error);
      return undefined;
    }
    // Nothing joins the unconfirmed set while a commit is in flight: all of it is now stored, each
    // buffer's rows under the next ids in turn, and stays in memory for the forwarder until sent.
    const lines = this.unconfirmedLines;
    const { durationMs } = stored;
    this.newestRowId = Math.max(this.newestRowId, stored.lastRowId);
    let rows = 0;
    for (const part of request.parts) rows += part.rows.length;
    if (rows > 0 && stored.lastRowId - stored.firstRowId + 1 === rows) {
      let nextId = stored.firstRowId;
      for (const [i, buffer] of this.unconfirmed.entries()) {
        const part = request.parts[i] as LinePart;
        const held = this.tail.committed(
          buffer,
          part,
          nextId,
          nextId + part.rows.length - 1,
          request.startedMs,
        );
        if (!held) this.recycle(buffer);
        nextId += part.rows.length;
      }
    } else {
      // Nothing stored, or ids that do not follow one another (they cannot be matched to the
      // buffers' rows): the database answers for them.
      if (rows > 0) this.tail.storedElsewhere(stored.lastRowId);
      for (const buffer of this.unconfirmed) this.recycle(buffer);
    }
    this.unconfirmed.length = 0;
    this.unconfirmedLines = 0;
    this.unconfirmedCheckpoints.clear();
    const c = this.counters;
    c.pendingLines -= lines;
    c.committedLines += lines;
    c.commits++;
    c.lastCommitMs = durationMs;
    c.totalCommitMs += durationMs;
    if (durationMs > c.worstCommitMs) c.worstCommitMs = durationMs;
    if (lines > 0) this.noteStored(rows, lines, request.startedMs);
    return { lines, rows, checkpoints: request.checkpoints.length, durationMs };
  }

  /**
   * Serialises `taken` into the unconfirmed set, CHECKPOINTS_PER_TURN at a time with a loop turn in
   * between (64 runs took 0.3–0.9 ms in one piece, a delay for every sampling loop due meanwhile);
   * one that cannot be serialised is dropped and reported.
   */
  private async serialiseCheckpoints(taken: Map<string, { state: unknown } | null>): Promise<void> {
    let inTurn = 0;
    for (const [run, pending] of taken) {
      if (inTurn++ === CHECKPOINTS_PER_TURN) {
        inTurn = 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
      taken.delete(run);
      if (pending === null) {
        this.unconfirmedCheckpoints.set(run, null);
        continue;
      }
      try {
        this.unconfirmedCheckpoints.set(run, JSON.stringify(pending.state));
      } catch (err) {
        this.onCommitError?.(
          new OutboxError(`checkpoint of run ${run} is not JSON-serialisable (${(err as Error).message})`, {
            cause: err,
          }),
        );
      }
    }
  }

  /** Keeps an emptied buffer for the next pending lines (a few: each holds at least INITIAL_BYTES). */
  private recycle(buffer: LineBuffer): void {
    buffer.clear();
    if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
  }

  private noteStored(rows: number, lines: number, startedMs: number): void {
    if (this.backlogState.rows === 0) this.backlogState.oldestCreatedMs = startedMs;
    this.backlogState.rows += rows;
    this.backlogState.points += lines;
    for (const listener of this.commitListeners) listener();
  }

  /** Calls `listener` after every commit that stored lines. Returns a function that unsubscribes. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /**
   * Reads the oldest rows after `afterId` until they hold at least `minPoints` lines (whole rows;
   * at least one). Returns undefined when no committed row waits.
   */
  async readBatch(minPoints: number, afterId = 0): Promise<OutboxBatch | undefined> {
    const held = this.tail.read(afterId, minPoints);
    if (held !== null) return held;
    const read = await this.writer.read({ afterId, minPoints, maxRowLines: this.maxRowLines });
    if (!read) return undefined;
    const { body, ...rest } = read;
    return { ...rest, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  }

  /**
   * Deletes a sent batch (it must be the oldest unacknowledged one) and stores its dead letters,
   * in one transaction.
   */
  async acknowledge(batch: OutboxBatch, deadLetters: DeadLetter[] = []): Promise<void> {
    const { oldestCreatedMs, oldestId } = await this.writer.acknowledge({
      lastId: batch.lastId,
      dead: deadLetters,
      nowMs: this.wallNow(),
    });
    for (const buffer of this.tail.acknowledged(batch.lastId, oldestId)) this.recycle(buffer);
    this.deadLetters += deadLetters.length;
    const b = this.backlogState;
    b.rows = Math.max(0, b.rows - batch.rows);
    b.points = Math.max(0, b.points - batch.points);
    b.oldestCreatedMs = b.rows === 0 ? null : oldestCreatedMs;
  }

  /** Returns the committed, unsent rows and lines, and the wall time the oldest was started. */
  backlog(): Backlog {
    return { ...this.backlogState };
  }

  /** Returns commit counters and timings. */
  stats(): OutboxStats {
    return { ...this.counters, writerThread: this.writerIsThread };
  }

  /**
   * Returns how many dead letters are stored: counted at open, then kept here as this outbox adds
   * and moves them (the status reads it on the sampling thread; a query there took 3 ms beside a drain).
   */
  deadLetterCount(): number {
    return this.deadLetters;
  }

  /** Returns stored dead letters, oldest first. */
  listDeadLetters(limit = 100): StoredDeadLetter[] {
    return this.db
      .prepare<[number], { id: number; created_ms: number; status: number; message: string; line: string }>(
        "SELECT id, created_ms, status, message, line FROM dead_letter ORDER BY id LIMIT ?",
      )
      .all(limit)
      .map((r) => ({
        id: r.id,
        createdMs: r.created_ms,
        status: r.status,
        message: r.message,
        line: r.line,
      }));
  }

  /**
   * Moves dead letters back into the outbox (after fixing what made InfluxDB refuse them, e.g.
   * dropping a conflicting field). Resolves with how many were moved.
   */
  async requeueDeadLetters(ids?: number[]): Promise<number> {
    const startedMs = this.wallNow();
    const { moved, rows, lastRowId } = await this.writer.requeue({
      ids,
      nowMs: startedMs,
      maxRowLines: this.maxRowLines,
    });
    this.newestRowId = Math.max(this.newestRowId, lastRowId);
    this.tail.storedElsewhere(lastRowId);
    this.deadLetters = Math.max(0, this.deadLetters - moved);
    if (moved > 0) this.noteStored(rows, moved, startedMs);
    return moved;
  }

  /**
   * Stops the timer, commits what is pending, stops the writer thread and closes the database
   * (the last connection to close checkpoints and removes the WAL). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    // Until nothing is pending, or a commit fails (then what it held is lost, as in a crash).
    while ((await this.commit()) !== undefined) {}
    this.closed = true;
    clearImmediate(this.earlyCommit);
    this.commitListeners.clear();
    this.tail.clear();
    await this.writer.close();
    this.db.close();
  }

  /** The writer thread while it runs (tests stop it to show that this thread takes over). */
  get writerThread(): { terminate(): Promise<number> } | undefined {
    return this.writer instanceof ThreadWriter ? this.writer.thread : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
