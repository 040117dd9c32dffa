/** Messages between the outbox (sampling thread) and its writer thread (outbox-worker.ts). */
import type { OutboxSynchronous } from "./outbox-database.js";
import type {
  AcknowledgeRequest,
  CommitRequest,
  RequeueRequest,
  RequeueResult,
} from "./outbox-transactions.js";

export interface OutboxWorkerData {
  path: string;
  synchronous: OutboxSynchronous;
  /** Period of the WAL checkpoint the writer runs between commits. */
  checkpointEveryMs: number;
}

export type ToWriter =
  | { type: "commit"; id: number; request: CommitRequest }
  | { type: "acknowledge"; id: number; request: AcknowledgeRequest }
  | { type: "requeue"; id: number; request: RequeueRequest }
  | { type: "close"; id: number };

export type FromWriter =
  | { type: "ready" }
  /** The database could not be opened in the thread: the outbox writes on its own thread instead. */
  | { type: "open-failed"; message: string }
  | { type: "done"; id: number; durationMs: number; result?: RequeueResult }
  | { type: "failed"; id: number; message: string }
  | { type: "checkpoint-failed"; message: string };
