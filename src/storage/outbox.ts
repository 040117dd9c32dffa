/**
 * The outbox (DESIGN §2): encoded line protocol waits here, in SQLite (WAL), until InfluxDB has it.
 *
 * - `append()` only copies the line into an in-memory buffer (O(1)); nothing touches the disk on the
 *   caller's path.
 * - A timer commits what accumulated, every `commitIntervalMs` (≤ 100 ms), as one transaction: the
 *   lines (grouped into rows of up to `maxRowLines`) and the latest run checkpoints together, so a
 *   crash never leaves a checkpoint that is ahead of, or behind, the data it describes. A crash loses
 *   at most what was appended since the last commit.
 * - The forwarder reads rows oldest first and deletes them only once InfluxDB accepted them; lines
 *   InfluxDB refused as bad data go to the dead-letter table in the same transaction as the delete.
 *
 * better-sqlite3 is synchronous: a commit blocks the event loop for its duration (measured in
 * `stats()`; see test/bench/ingest.ts). WAL checkpoints, the slow part, run on a worker thread
 * (wal-checkpointer.ts). With `synchronous: "normal"` a commit survives a process crash but not a
 * power cut; `"full"` (default) adds an fsync per commit.
 */
import Database from "better-sqlite3";
import { OutboxError } from "./errors.js";
import { LineBuffer } from "./line-buffer.js";
import { WalCheckpointer } from "./wal-checkpointer.js";

export interface OutboxOptions {
  /** SQLite file (created when missing). `:memory:` works for tests but survives nothing. */
  path: string;
  /** Group-commit period (default 100 ms, at most 1000 ms). */
  commitIntervalMs?: number;
  /** Lines per stored row (default 1000). */
  maxRowLines?: number;
  /** `full` (default) survives power loss; `normal` survives process crashes only, with cheaper commits. */
  synchronous?: "normal" | "full";
  /** Lines held in memory while commits fail (disk full); beyond it new lines are dropped and counted. */
  maxPendingLines?: number;
  /** Wall clock for row and dead-letter timestamps (default Date.now). */
  wallNow?: () => number;
  /** Called when a commit fails (the lines stay pending and the next tick retries). */
  onCommitError?: (error: OutboxError) => void;
  /** Period of the off-thread WAL checkpoint (default 1000 ms). */
  checkpointEveryMs?: number;
  /** Called when the checkpoint worker fails (SQLite then checkpoints inside commits again). */
  onCheckpointError?: (message: string) => void;
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

/** A line InfluxDB refused as bad data, with what the server said. */
export interface DeadLetter {
  line: string;
  status: number;
  message: string;
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
  /** Lines appended but not yet committed (in memory). */
  pendingLines: number;
  /** Lines refused because `maxPendingLines` was reached while commits failed. */
  droppedLines: number;
  commits: number;
  commitErrors: number;
  lastCommitError: string | null;
  lastCommitMs: number;
  worstCommitMs: number;
  totalCommitMs: number;
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

const SCHEMA_VERSION = 1;
const NEWLINE = Buffer.from("\n");

type StoredBody = Buffer | string;

/** Durable FIFO of encoded lines plus the run checkpoints committed with them. */
export class Outbox {
  private readonly db: Database.Database;
  private readonly maxRowLines: number;
  private readonly maxPendingLines: number;
  private readonly wallNow: () => number;
  private readonly onCommitError: ((error: OutboxError) => void) | undefined;
  private readonly commitListeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly pending: LineBuffer;
  /** Wall time the first pending line was appended. */
  private pendingSinceMs = 0;
  /** Newest checkpoint per run since the last commit (null: delete it), serialised only at the commit. */
  private readonly pendingCheckpoints = new Map<string, { state: unknown } | null>();
  private closed = false;
  private readonly backlogState: Backlog;
  private readonly counters: OutboxStats = {
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

  private readonly insertRow: Database.Statement<[number, number, Buffer]>;
  private readonly upsertCheckpoint: Database.Statement<[string, string, number]>;
  private readonly deleteCheckpointRow: Database.Statement<[string]>;
  private readonly selectRows: Database.Statement<
    [number, number],
    { id: number; created_ms: number; points: number; body: StoredBody }
  >;
  private readonly deleteRowsUpTo: Database.Statement<[number]>;
  private readonly insertDeadLetter: Database.Statement<[number, number, string, string]>;
  private readonly selectOldest: Database.Statement<[], { created_ms: number }>;
  private readonly commitTx: (
    rows: { body: Buffer; lines: number }[],
    startedMs: number,
    checkpoints: [string, string | null][],
  ) => void;
  private readonly acknowledgeTx: (lastId: number, dead: DeadLetter[]) => void;

  private constructor(options: OutboxOptions) {
    const interval = options.commitIntervalMs ?? 100;
    if (!(interval > 0 && interval <= 1000))
      throw new OutboxError(`commitIntervalMs must be in (0, 1000] ms, got ${interval}`);
    this.maxRowLines = Math.max(1, Math.floor(options.maxRowLines ?? 1000));
    this.pending = new LineBuffer(this.maxRowLines);
    this.maxPendingLines = options.maxPendingLines ?? 1_000_000;
    this.wallNow = options.wallNow ?? Date.now;
    this.onCommitError = options.onCommitError;
    try {
      this.db = new Database(options.path);
      // Large pages: rows are tens to hundreds of kB of text; 64 kB pages halve the commit time.
      // Takes effect only when the file is created.
      this.db.pragma("page_size = 65536");
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      this.db.pragma("busy_timeout = 5000");
      this.db.pragma("journal_size_limit = 67108864");
      migrate(this.db);
    } catch (err) {
      throw new OutboxError(
        `cannot open the outbox at ${options.path}: ${(err as Error).message}; check the \`store\` path and its permissions`,
        { cause: err },
      );
    }
    const db = this.db;
    this.insertRow = db.prepare("INSERT INTO outbox (created_ms, points, body) VALUES (?, ?, ?)");
    this.upsertCheckpoint = db.prepare(
      "INSERT INTO checkpoint (run, state, updated_ms) VALUES (?, ?, ?) " +
        "ON CONFLICT(run) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
    );
    this.deleteCheckpointRow = db.prepare("DELETE FROM checkpoint WHERE run = ?");
    this.selectRows = db.prepare(
      "SELECT id, created_ms, points, body FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
    );
    this.deleteRowsUpTo = db.prepare("DELETE FROM outbox WHERE id <= ?");
    this.insertDeadLetter = db.prepare(
      "INSERT INTO dead_letter (created_ms, status, message, line) VALUES (?, ?, ?, ?)",
    );
    this.selectOldest = db.prepare("SELECT created_ms FROM outbox ORDER BY id LIMIT 1");

    this.commitTx = db.transaction(
      (
        rows: { body: Buffer; lines: number }[],
        startedMs: number,
        checkpoints: [string, string | null][],
      ) => {
        for (const row of rows) this.insertRow.run(startedMs, row.lines, row.body);
        const now = this.wallNow();
        for (const [run, state] of checkpoints) {
          if (state === null) this.deleteCheckpointRow.run(run);
          else this.upsertCheckpoint.run(run, state, now);
        }
      },
    );
    this.acknowledgeTx = db.transaction((lastId: number, dead: DeadLetter[]) => {
      const now = this.wallNow();
      for (const d of dead) this.insertDeadLetter.run(now, d.status, d.message, d.line);
      this.deleteRowsUpTo.run(lastId);
    });

    const totals = db
      .prepare<[], { rows: number; points: number | null }>(
        "SELECT count(*) AS rows, sum(points) AS points FROM outbox",
      )
      .get();
    this.backlogState = {
      rows: totals?.rows ?? 0,
      points: totals?.points ?? 0,
      oldestCreatedMs: this.selectOldest.get()?.created_ms ?? null,
    };

    if (options.path !== ":memory:" && options.path !== "") {
      db.pragma("wal_autocheckpoint = 0");
      this.checkpointer = new WalCheckpointer(options.path, options.checkpointEveryMs ?? 1000, (message) => {
        if (this.closed) return;
        this.db.pragma("wal_autocheckpoint = 1000");
        options.onCheckpointError?.(message);
      });
    }

    this.timer = setInterval(() => this.commit(), interval);
    this.timer.unref();
  }

  /** Opens (or creates) the outbox and starts its commit timer. */
  static open(options: OutboxOptions): Outbox {
    return new Outbox(options);
  }

  /** Queues one encoded line for the next group commit. O(1), no I/O. */
  append(line: string): void {
    if (this.closed) throw new OutboxError("outbox is closed; lines can no longer be appended");
    if (this.pending.lines >= this.maxPendingLines) {
      this.counters.droppedLines++;
      return;
    }
    if (this.pending.lines === 0) this.pendingSinceMs = this.wallNow();
    this.pending.append(line);
    this.counters.pendingLines++;
    this.counters.appendedLines++;
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
    for (const [run, pending] of this.pendingCheckpoints) {
      if (pending === null) result.delete(run);
      else result.set(run, { state: JSON.parse(JSON.stringify(pending.state)), updatedMs: this.wallNow() });
    }
    return result;
  }

  /**
   * Commits pending lines and checkpoints now (the timer calls this; call it yourself before
   * shutdown). Returns what was written, or undefined when there was nothing to write or it failed.
   */
  commit(): CommitResult | undefined {
    if (this.closed) return undefined;
    const lines = this.pending.lines;
    if (lines === 0 && this.pendingCheckpoints.size === 0) return undefined;
    const checkpoints = this.serialisedCheckpoints();
    const rows = this.pending.rowViews();
    const started = performance.now();
    try {
      this.commitTx(rows, this.pendingSinceMs, checkpoints);
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
    const durationMs = performance.now() - started;
    const startedMs = this.pendingSinceMs;
    this.pending.clear();
    this.pendingCheckpoints.clear();
    const c = this.counters;
    c.pendingLines -= lines;
    c.committedLines += lines;
    c.commits++;
    c.lastCommitMs = durationMs;
    c.totalCommitMs += durationMs;
    if (durationMs > c.worstCommitMs) c.worstCommitMs = durationMs;
    if (lines > 0) this.noteStored(rows.length, lines, startedMs);
    return { lines, rows: rows.length, checkpoints: checkpoints.length, durationMs };
  }

  /** The pending checkpoints as JSON; one that cannot be serialised is dropped and reported, never retried. */
  private serialisedCheckpoints(): [string, string | null][] {
    const out: [string, string | null][] = [];
    for (const [run, pending] of this.pendingCheckpoints) {
      if (pending === null) {
        out.push([run, null]);
        continue;
      }
      try {
        out.push([run, JSON.stringify(pending.state)]);
      } catch (err) {
        this.pendingCheckpoints.delete(run);
        this.onCommitError?.(
          new OutboxError(`checkpoint of run ${run} is not JSON-serialisable (${(err as Error).message})`, {
            cause: err,
          }),
        );
      }
    }
    return out;
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
  readBatch(minPoints: number, afterId = 0): OutboxBatch | undefined {
    const parts: Buffer[] = [];
    let rowCount = 0;
    let points = 0;
    let firstId = 0;
    let createdMs = 0;
    let lastId = afterId;
    const rowsPerRead = Math.max(1, Math.ceil(minPoints / this.maxRowLines) + 1);
    while (points < minPoints) {
      const rows = this.selectRows.all(lastId, rowsPerRead);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (points >= minPoints) break;
        if (firstId === 0) {
          firstId = row.id;
          createdMs = row.created_ms;
        }
        if (parts.length > 0) parts.push(NEWLINE);
        parts.push(typeof row.body === "string" ? Buffer.from(row.body) : row.body);
        rowCount++;
        points += row.points;
        lastId = row.id;
      }
      if (rows.length < rowsPerRead) break;
    }
    if (parts.length === 0) return undefined;
    const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    return { firstId, lastId, rows: rowCount, points, createdMs, body };
  }

  /**
   * Deletes a sent batch (it must be the oldest unacknowledged one) and stores its dead letters,
   * in one transaction.
   */
  acknowledge(batch: OutboxBatch, deadLetters: DeadLetter[] = []): void {
    this.acknowledgeTx(batch.lastId, deadLetters);
    const b = this.backlogState;
    b.rows = Math.max(0, b.rows - batch.rows);
    b.points = Math.max(0, b.points - batch.points);
    b.oldestCreatedMs = b.rows === 0 ? null : (this.selectOldest.get()?.created_ms ?? null);
  }

  /** Returns the committed, unsent rows and lines, and the wall time the oldest was started. */
  backlog(): Backlog {
    return { ...this.backlogState };
  }

  /** Returns commit counters and timings. */
  stats(): OutboxStats {
    return { ...this.counters };
  }

  /** Returns how many dead letters are stored. */
  deadLetterCount(): number {
    return this.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM dead_letter").get()?.n ?? 0;
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
   * dropping a conflicting field). Returns how many were moved.
   */
  requeueDeadLetters(ids?: number[]): number {
    const letters = ids
      ? ids.flatMap((id) =>
          this.db
            .prepare<[number], { id: number; line: string }>("SELECT id, line FROM dead_letter WHERE id = ?")
            .all(id),
        )
      : this.db
          .prepare<[], { id: number; line: string }>("SELECT id, line FROM dead_letter ORDER BY id")
          .all();
    if (letters.length === 0) return 0;
    const startedMs = this.wallNow();
    const buffer = new LineBuffer(this.maxRowLines);
    for (const l of letters) buffer.append(l.line);
    const rows = buffer.rowViews();
    const remove = this.db.prepare<[number]>("DELETE FROM dead_letter WHERE id = ?");
    this.db.transaction(() => {
      for (const l of letters) remove.run(l.id);
      this.commitTx(rows, startedMs, []);
    })();
    this.noteStored(rows.length, letters.length, startedMs);
    return letters.length;
  }

  /**
   * Stops the timer, commits what is pending, stops the checkpoint worker and closes the database
   * (the last connection to close checkpoints and removes the WAL). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.commit();
    this.closed = true;
    this.commitListeners.clear();
    await this.checkpointer?.stop();
    this.db.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(`outbox schema version ${version} is newer than this cellbench (${SCHEMA_VERSION})`);
  if (version === SCHEMA_VERSION) return;
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      points INTEGER NOT NULL,
      body BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS checkpoint (
      run TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS dead_letter (
      id INTEGER PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      status INTEGER NOT NULL,
      message TEXT NOT NULL,
      line TEXT NOT NULL
    );
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}
