/**
 * Who runs the outbox's write transactions. Normally a thread of its own (ThreadWriter): a commit's
 * fsync and a WAL checkpoint take milliseconds to tens of milliseconds under load, and on the
 * sampling thread they delayed every sampling loop by as much. If that thread cannot open the
 * database, or dies, the outbox's own thread takes over (InThreadWriter) and the requests the
 * thread had not answered are run again there: each is idempotent (rows written twice reach
 * InfluxDB twice, which stores a point once; deletes and checkpoint upserts repeat harmlessly), so
 * nothing is lost.
 */

import type { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { OutboxError } from "./errors.js";
import type { OutboxSynchronous } from "./outbox-database.js";
import type { FromWriter, OutboxWorkerData, ToWriter, WriterResult } from "./outbox-messages.js";
import {
  type AcknowledgeRequest,
  type AcknowledgeResult,
  type CommitRequest,
  type CommitStored,
  OutboxTransactions,
  type ReadRequest,
  type ReadResult,
  type RequeueRequest,
  type RequeueResult,
  type WriterRequest,
} from "./outbox-transactions.js";
import { siblingWorker, startWorker } from "./start-worker.js";

/**
 * Runs write transactions and batch reads, in the order they were asked for; each promise settles
 * once the transaction is durable (or the read done) or has failed.
 */
export interface OutboxWriter {
  /** Resolves with the transaction's duration and the ids of the rows it stored. */
  commit(request: CommitRequest): Promise<CommitStored>;
  acknowledge(request: AcknowledgeRequest): Promise<AcknowledgeResult>;
  requeue(request: RequeueRequest): Promise<RequeueResult>;
  read(request: ReadRequest): Promise<ReadResult | undefined>;
  /** Resolves once transactions can run (the thread has opened the database, or was given up). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The typed requests, each one message to `run` (on this thread or on the writer thread). */
abstract class RequestWriter implements OutboxWriter {
  protected abstract run(message: WriterRequest): Promise<WriterResult>;
  abstract ready(): Promise<void>;
  abstract close(): Promise<void>;

  commit(request: CommitRequest): Promise<CommitStored> {
    return this.run({ type: "commit", id: 0, request }) as Promise<CommitStored>;
  }

  acknowledge(request: AcknowledgeRequest): Promise<AcknowledgeResult> {
    return this.run({ type: "acknowledge", id: 0, request }) as Promise<AcknowledgeResult>;
  }

  requeue(request: RequeueRequest): Promise<RequeueResult> {
    return this.run({ type: "requeue", id: 0, request }) as Promise<RequeueResult>;
  }

  read(request: ReadRequest): Promise<ReadResult | undefined> {
    return this.run({ type: "read", id: 0, request }) as Promise<ReadResult | undefined>;
  }
}

/** Runs the transactions on the calling thread (`:memory:` outboxes, and the fallback). */
export class InThreadWriter extends RequestWriter {
  private readonly transactions: OutboxTransactions;

  /** `idFloor`: see OutboxTransactions (the highest row id the writer taken over from gave). */
  constructor(db: Database.Database, idFloor = 0) {
    super();
    this.transactions = new OutboxTransactions(db, idFloor);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {}

  /** Runs one request here (what the thread would have done). */
  async run(message: WriterRequest): Promise<WriterResult> {
    return this.transactions.run(message);
  }
}

export interface ThreadWriterOptions {
  path: string;
  synchronous: OutboxSynchronous;
  checkpointEveryMs: number;
  /** Builds the writer that takes over on this thread (it also turns SQLite's auto-checkpoint back on). */
  takeOver: () => InThreadWriter;
  /** Called once when the thread is given up, with why. */
  onTakeOver: (why: string) => void;
  onCheckpointError: (message: string) => void;
}

interface Waiting {
  message: WriterRequest;
  resolve: (value: WriterResult) => void;
  reject: (error: Error) => void;
}

export class ThreadWriter extends RequestWriter {
  private worker: Worker | undefined;
  private fallback: InThreadWriter | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private readonly loaded: Promise<void>;
  private markLoaded: () => void = () => {};

  constructor(private readonly options: ThreadWriterOptions) {
    super();
    this.loaded = new Promise((resolve) => {
      this.markLoaded = resolve;
    });
    const data: OutboxWorkerData = {
      path: options.path,
      synchronous: options.synchronous,
      checkpointEveryMs: options.checkpointEveryMs,
    };
    const worker = startWorker(siblingWorker("outbox-worker", import.meta.url), data);
    worker.unref();
    worker.on("message", (message: FromWriter) => this.receive(message));
    worker.on("error", (err) => this.takeOver(`the outbox writer thread failed: ${err.message}`));
    worker.on("exit", (code) => {
      if (this.closing === undefined) this.takeOver(`the outbox writer thread stopped (exit code ${code})`);
    });
    this.worker = worker;
  }

  /** The writer thread, while it runs (tests stop it to show the take-over). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  ready(): Promise<void> {
    return this.loaded;
  }

  /** Lets the thread finish what it was sent, close its connection and exit. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.ref();
      worker.postMessage({ type: "close", id: this.nextId++ } satisfies ToWriter);
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
      this.worker = undefined;
      // Anything it left unanswered (it was terminated) runs here.
      if (this.waiting.size > 0) this.takeOver("the outbox writer thread did not finish before closing");
    })();
    return this.closing;
  }

  protected run(message: WriterRequest): Promise<WriterResult> {
    if (this.fallback) return this.fallback.run(message);
    if (this.closing !== undefined) return Promise.reject(new OutboxError("the outbox writer is closed"));
    const id = this.nextId++;
    const numbered = { ...message, id };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { message: numbered, resolve, reject });
      this.worker?.postMessage(numbered satisfies ToWriter);
    });
  }

  private receive(message: FromWriter): void {
    if (message.type === "ready") {
      this.markLoaded();
      return;
    }
    if (message.type === "open-failed") {
      this.takeOver(`the outbox writer thread cannot open the database: ${message.message}`);
      return;
    }
    if (message.type === "checkpoint-failed") {
      this.options.onCheckpointError(`WAL checkpoint failed: ${message.message}`);
      return;
    }
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    if (message.type === "done") waiting.resolve(message.result);
    else waiting.reject(new OutboxError(message.message));
  }

  /** Gives the thread up for good and runs what it had not answered here, in the order it was sent. */
  private takeOver(why: string): void {
    if (this.fallback) return;
    const worker = this.worker;
    this.worker = undefined;
    if (worker && this.closing === undefined) void worker.terminate();
    const fallback = this.options.takeOver();
    this.fallback = fallback;
    this.markLoaded();
    this.options.onTakeOver(why);
    const unanswered = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of unanswered) {
      fallback
        .run(w.message)
        .then(w.resolve, (err: unknown) =>
          w.reject(err instanceof Error ? err : new OutboxError(String(err))),
        );
    }
  }
}
