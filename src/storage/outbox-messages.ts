/** Messages between the outbox (sampling thread) and its writer thread (outbox-worker.ts). */
import type { OutboxSynchronous } from "./outbox-database.js";
import type {
  AcknowledgeRequest,
  AcknowledgeResult,
  CommitRequest,
  CommitStored,
  ReadRequest,
  ReadResult,
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
  | { type: "read"; id: number; request: ReadRequest }
  | { type: "close"; id: number };

/** What a request resolves with. */
export type WriterResult = CommitStored | AcknowledgeResult | RequeueResult | ReadResult | undefined;

export type FromWriter =
  | { type: "ready" }
  /** The database could not be opened in the thread: the outbox writes on its own thread instead. */
  | { type: "open-failed"; message: string }
  /** `result`: the request's. */
  | { type: "done"; id: number; result: WriterResult }
  | { type: "failed"; id: number; message: string }
  | { type: "checkpoint-failed"; message: string };
