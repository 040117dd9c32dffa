/**
 * The outbox's transactions and the forwarder's batch reads, run by whichever thread writes
 * (outbox-writer.ts): normally the writer thread, else the sampling thread. Their inputs and
 * results are plain data, so they cross to the thread as messages.
 */
import type Database from "better-sqlite3";
import { LineBuffer, type LinePart } from "./line-buffer.js";
import type { ToWriter, WriterResult } from "./outbox-messages.js";

/** A request a writer runs (every message but close). */
export type WriterRequest = Exclude<ToWriter, { type: "close" }>;

const NEWLINE = 0x0a;

/** A line InfluxDB refused as bad data, with what the server said. */
export interface DeadLetter {
  line: string;
  status: number;
  message: string;
}

/** Rows of lines to store, as the line buffers hold them (shared memory, not copied), and checkpoints. */
export interface CommitRequest {
  parts: LinePart[];
  /** Wall time the oldest line was appended: every row's `created_ms`. */
  startedMs: number;
  /** Wall time of the commit: the checkpoints' `updated_ms`. */
  nowMs: number;
  /** Run → checkpoint JSON, or null to delete it. */
  checkpoints: [string, string | null][];
}

export interface AcknowledgeRequest {
  /** Every row up to this id is deleted. */
  lastId: number;
  dead: DeadLetter[];
  nowMs: number;
}

export interface AcknowledgeResult {
  /** Wall time the oldest row left was started, or null when the outbox is empty. */
  oldestCreatedMs: number | null;
  /** Id of the oldest row left, or null when the outbox is empty. */
  oldestId: number | null;
}

/** What a commit stored: its rows' ids, consecutive (0 and 0 when it stored checkpoints only). */
export interface CommitStored {
  durationMs: number;
  firstRowId: number;
  lastRowId: number;
}

export interface ReadRequest {
  /** Whole rows after this id, oldest first, until they hold at least `minPoints` lines (at least one row). */
  afterId: number;
  minPoints: number;
  /** The outbox's lines per row (how many rows one query fetches). */
  maxRowLines: number;
}

/** Rows read for one InfluxDB write. */
export interface ReadResult {
  firstId: number;
  lastId: number;
  rows: number;
  points: number;
  /** `created_ms` of the first row. */
  createdMs: number;
  /** The rows' lines joined with "\n", in a SharedArrayBuffer (see sharedBytes). */
  body: Uint8Array;
}

export interface RequeueRequest {
  /** Dead letters to move back; all of them when absent. */
  ids?: number[];
  nowMs: number;
  maxRowLines: number;
}

export interface RequeueResult {
  moved: number;
  rows: number;
  /** Id of the last row it stored (0 when it moved nothing). */
  lastRowId: number;
}

export class OutboxTransactions {
  private readonly commitTx: (request: CommitRequest) => { firstRowId: number; lastRowId: number };
  private readonly acknowledgeTx: (request: AcknowledgeRequest) => AcknowledgeResult;
  private readonly requeueTx: (request: RequeueRequest) => RequeueResult;
  private readonly selectRows: Database.Statement<
    [number, number],
    { id: number; created_ms: number; points: number; body: Uint8Array | string }
  >;

  /** The id the next stored row gets. */
  private nextRowId: number;

  /**
   * @param idFloor  ids up to this one may have been given already (by a writer this one takes over
   *   from): they are not given again, even where their rows were deleted
   */
  constructor(db: Database.Database, idFloor = 0) {
    const insertRow = db.prepare<[number, number, number, Uint8Array]>(
      "INSERT INTO outbox (id, created_ms, points, body) VALUES (?, ?, ?, ?)",
    );
    // SQLite would give a new row the highest id stored plus one, and so an id again once its row was
    // deleted: a forwarder reading on after a batch it sent would then skip the row that took it.
    // Ids given here only grow while the outbox is open.
    const newest = db.prepare<[], { id: number | null }>("SELECT max(id) AS id FROM outbox").get()?.id ?? 0;
    this.nextRowId = Math.max(newest, idFloor) + 1;
    const upsertCheckpoint = db.prepare<[string, string, number]>(
      "INSERT INTO checkpoint (run, state, updated_ms) VALUES (?, ?, ?) " +
        "ON CONFLICT(run) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
    );
    const deleteCheckpoint = db.prepare<[string]>("DELETE FROM checkpoint WHERE run = ?");
    const deleteRowsUpTo = db.prepare<[number]>("DELETE FROM outbox WHERE id <= ?");
    const insertDeadLetter = db.prepare<[number, number, string, string]>(
      "INSERT INTO dead_letter (created_ms, status, message, line) VALUES (?, ?, ?, ?)",
    );
    const selectDeadLetter = db.prepare<[number], { id: number; line: string }>(
      "SELECT id, line FROM dead_letter WHERE id = ?",
    );
    const selectDeadLetters = db.prepare<[], { id: number; line: string }>(
      "SELECT id, line FROM dead_letter ORDER BY id",
    );
    const deleteDeadLetter = db.prepare<[number]>("DELETE FROM dead_letter WHERE id = ?");
    const selectOldest = db.prepare<[], { id: number; created_ms: number }>(
      "SELECT id, created_ms FROM outbox ORDER BY id LIMIT 1",
    );
    this.selectRows = db.prepare(
      "SELECT id, created_ms, points, body FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
    );

    /** Inserts the rows in order; returns the first and last id given (0, 0 for none). */
    const storeRows = (request: Omit<CommitRequest, "checkpoints" | "nowMs">) => {
      let firstRowId = 0;
      let lastRowId = 0;
      for (const part of request.parts)
        for (const row of part.rows) {
          const id = this.nextRowId++;
          insertRow.run(id, request.startedMs, row.lines, part.bytes.subarray(row.start, row.end));
          if (firstRowId === 0) firstRowId = id;
          lastRowId = id;
        }
      return { firstRowId, lastRowId };
    };
    this.commitTx = db.transaction((request: CommitRequest) => {
      const ids = storeRows(request);
      for (const [run, state] of request.checkpoints) {
        if (state === null) deleteCheckpoint.run(run);
        else upsertCheckpoint.run(run, state, request.nowMs);
      }
      return ids;
    });
    this.acknowledgeTx = db.transaction((request: AcknowledgeRequest): AcknowledgeResult => {
      for (const d of request.dead) insertDeadLetter.run(request.nowMs, d.status, d.message, d.line);
      deleteRowsUpTo.run(request.lastId);
      const oldest = selectOldest.get();
      return { oldestCreatedMs: oldest?.created_ms ?? null, oldestId: oldest?.id ?? null };
    });
    this.requeueTx = db.transaction((request: RequeueRequest): RequeueResult => {
      const letters = request.ids
        ? request.ids.flatMap((id) => selectDeadLetter.all(id))
        : selectDeadLetters.all();
      if (letters.length === 0) return { moved: 0, rows: 0, lastRowId: 0 };
      const buffer = new LineBuffer(request.maxRowLines);
      for (const letter of letters) {
        buffer.append(letter.line);
        deleteDeadLetter.run(letter.id);
      }
      const part = buffer.part();
      const { lastRowId } = storeRows({ parts: [part], startedMs: request.nowMs });
      return { moved: letters.length, rows: part.rows.length, lastRowId };
    });
  }

  /** Runs one request and returns its result (a failed one gives no ids away). */
  run(message: WriterRequest): WriterResult {
    const nextRowId = this.nextRowId;
    try {
      return this.runOne(message);
    } catch (err) {
      this.nextRowId = nextRowId;
      throw err;
    }
  }

  private runOne(message: WriterRequest): WriterResult {
    switch (message.type) {
      case "commit": {
        const started = performance.now();
        const ids = this.commitTx(message.request);
        return { durationMs: performance.now() - started, ...ids } satisfies CommitStored;
      }
      case "acknowledge":
        return this.acknowledgeTx(message.request);
      case "requeue":
        return this.requeueTx(message.request);
      case "read":
        return this.read(message.request);
    }
  }

  /** Reads the rows of the next batch (a read, outside any transaction: WAL gives it the last commit). */
  read(request: ReadRequest): ReadResult | undefined {
    const bodies: Uint8Array[] = [];
    let bytes = 0;
    let points = 0;
    let firstId = 0;
    let createdMs = 0;
    let lastId = request.afterId;
    const rowsPerRead = Math.max(1, Math.ceil(request.minPoints / request.maxRowLines) + 1);
    while (points < request.minPoints) {
      const rows = this.selectRows.all(lastId, rowsPerRead);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (points >= request.minPoints) break;
        if (firstId === 0) {
          firstId = row.id;
          createdMs = row.created_ms;
        }
        const body = typeof row.body === "string" ? Buffer.from(row.body) : row.body;
        bodies.push(body);
        bytes += body.length;
        points += row.points;
        lastId = row.id;
      }
      if (rows.length < rowsPerRead) break;
    }
    if (bodies.length === 0) return undefined;
    const body = sharedBytes(bytes + bodies.length - 1);
    let at = 0;
    for (const part of bodies) {
      if (at > 0) body[at++] = NEWLINE;
      body.set(part, at);
      at += part.length;
    }
    return { firstId, lastId, rows: bodies.length, points, createdMs, body };
  }
}

/**
 * Bytes that cross between threads without a copy: a message shares a SharedArrayBuffer. Copying a
 * batch of 100–300 KiB into a message cost the sending thread up to 1.3 ms at the 99th percentile,
 * against 0.2–0.4 ms shared; and unlike a transferred buffer it stays readable by the sender, which
 * may have to send it again (a writer thread that died, a failed write).
 */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}
