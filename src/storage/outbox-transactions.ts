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
}

export class OutboxTransactions {
  private readonly commitTx: (request: CommitRequest) => void;
  private readonly acknowledgeTx: (request: AcknowledgeRequest) => AcknowledgeResult;
  private readonly requeueTx: (request: RequeueRequest) => RequeueResult;
  private readonly selectRows: Database.Statement<
    [number, number],
    { id: number; created_ms: number; points: number; body: Uint8Array | string }
  >;

  constructor(db: Database.Database) {
    const insertRow = db.prepare<[number, number, Uint8Array]>(
      "INSERT INTO outbox (created_ms, points, body) VALUES (?, ?, ?)",
    );
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
    const selectOldest = db.prepare<[], { created_ms: number }>(
      "SELECT created_ms FROM outbox ORDER BY id LIMIT 1",
    );
    this.selectRows = db.prepare(
      "SELECT id, created_ms, points, body FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
    );

    const storeRows = (request: Omit<CommitRequest, "checkpoints" | "nowMs">) => {
      for (const part of request.parts) {
        let start = 0;
        for (const row of part.rows) {
          insertRow.run(request.startedMs, row.lines, part.bytes.subarray(start, row.end));
          start = row.end;
        }
      }
    };
    this.commitTx = db.transaction((request: CommitRequest) => {
      storeRows(request);
      for (const [run, state] of request.checkpoints) {
        if (state === null) deleteCheckpoint.run(run);
        else upsertCheckpoint.run(run, state, request.nowMs);
      }
    });
    this.acknowledgeTx = db.transaction((request: AcknowledgeRequest): AcknowledgeResult => {
      for (const d of request.dead) insertDeadLetter.run(request.nowMs, d.status, d.message, d.line);
      deleteRowsUpTo.run(request.lastId);
      return { oldestCreatedMs: selectOldest.get()?.created_ms ?? null };
    });
    this.requeueTx = db.transaction((request: RequeueRequest): RequeueResult => {
      const letters = request.ids
        ? request.ids.flatMap((id) => selectDeadLetter.all(id))
        : selectDeadLetters.all();
      if (letters.length === 0) return { moved: 0, rows: 0 };
      const buffer = new LineBuffer(request.maxRowLines);
      for (const letter of letters) {
        buffer.append(letter.line);
        deleteDeadLetter.run(letter.id);
      }
      const part = buffer.part();
      storeRows({ parts: [part], startedMs: request.nowMs });
      return { moved: letters.length, rows: part.rows.length };
    });
  }

  /** Runs one request: a commit gives its duration (ms), the others their result. */
  run(message: WriterRequest): WriterResult {
    switch (message.type) {
      case "commit": {
        const started = performance.now();
        this.commitTx(message.request);
        return performance.now() - started;
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
