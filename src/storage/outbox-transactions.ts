/**
 * The outbox's write transactions, run by whichever thread writes (outbox-writer.ts): normally the
 * writer thread, else the sampling thread. Their inputs are plain data, so they cross to the
 * thread as messages.
 */
import type Database from "better-sqlite3";
import { LineBuffer } from "./line-buffer.js";

/** A line InfluxDB refused as bad data, with what the server said. */
export interface DeadLetter {
  line: string;
  status: number;
  message: string;
}

/** Rows of lines to store (each row's body is `bytes` from the previous row's end to its `end`) and checkpoints. */
export interface CommitRequest {
  bytes: Uint8Array;
  rows: { end: number; lines: number }[];
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
  private readonly acknowledgeTx: (request: AcknowledgeRequest) => void;
  private readonly requeueTx: (request: RequeueRequest) => RequeueResult;

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

    const storeRows = (request: Omit<CommitRequest, "checkpoints" | "nowMs">) => {
      let start = 0;
      for (const row of request.rows) {
        insertRow.run(request.startedMs, row.lines, request.bytes.subarray(start, row.end));
        start = row.end;
      }
    };
    this.commitTx = db.transaction((request: CommitRequest) => {
      storeRows(request);
      for (const [run, state] of request.checkpoints) {
        if (state === null) deleteCheckpoint.run(run);
        else upsertCheckpoint.run(run, state, request.nowMs);
      }
    });
    this.acknowledgeTx = db.transaction((request: AcknowledgeRequest) => {
      for (const d of request.dead) insertDeadLetter.run(request.nowMs, d.status, d.message, d.line);
      deleteRowsUpTo.run(request.lastId);
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
      const packed = packRows([buffer]);
      storeRows({ ...packed, startedMs: request.nowMs });
      return { moved: letters.length, rows: packed.rows.length };
    });
  }

  commit(request: CommitRequest): void {
    this.commitTx(request);
  }

  acknowledge(request: AcknowledgeRequest): void {
    this.acknowledgeTx(request);
  }

  requeue(request: RequeueRequest): RequeueResult {
    return this.requeueTx(request);
  }
}

/** Copies the rows of `buffers` (in order) into one compact array, as a commit request carries them. */
export function packRows(buffers: readonly LineBuffer[]): Pick<CommitRequest, "bytes" | "rows"> {
  const views = buffers.flatMap((b) => b.rowViews());
  let total = 0;
  for (const v of views) total += v.body.length;
  const bytes = new Uint8Array(total);
  const rows: CommitRequest["rows"] = [];
  let end = 0;
  for (const v of views) {
    bytes.set(v.body, end);
    end += v.body.length;
    rows.push({ end, lines: v.lines });
  }
  return { bytes, rows };
}
