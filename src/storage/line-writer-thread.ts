/**
 * The forwarder's HTTP writes on a thread of their own. Building a request, writing a batch of up to
 * a few hundred KiB to the socket and reading the answer took 0.3–1 ms of the sampling thread per
 * write, in one piece, and allocated for it; here the sampling thread only copies the body into a
 * message. If the thread cannot start or dies, the writes go on from this thread (HttpLineWriter)
 * and the ones it had not answered are sent again: InfluxDB stores a point written twice once.
 */
import type { Worker } from "node:worker_threads";
import type { InfluxTarget } from "./influx-target.js";
import { HttpLineWriter, type LineWriter, type WriteOutcome } from "./line-writer.js";
import type { FromLineWriter, ToLineWriter } from "./line-writer-messages.js";
import { siblingWorker, startWorker } from "./start-worker.js";

export interface ThreadLineWriterOptions {
  /** Called once when the thread is given up and this thread writes instead, with why. */
  onTakeOver?: (why: string) => void;
}

interface Waiting {
  body: Buffer | string;
  resolve: (outcome: WriteOutcome) => void;
}

export class ThreadLineWriter implements LineWriter {
  private worker: Worker | undefined;
  private fallback: HttpLineWriter | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly target: InfluxTarget,
    private readonly options: ThreadLineWriterOptions = {},
  ) {
    const worker = startWorker(siblingWorker("line-writer-worker", import.meta.url), target);
    worker.unref();
    worker.on("message", (message: FromLineWriter) => this.receive(message));
    worker.on("error", (err) => this.takeOver(`the InfluxDB writer thread failed: ${err.message}`));
    worker.on("exit", (code) => {
      if (!this.closed) this.takeOver(`the InfluxDB writer thread stopped (exit code ${code})`);
    });
    this.worker = worker;
  }

  /** The thread, while it runs (tests stop it to show the take-over). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  write(body: Buffer | string): Promise<WriteOutcome> {
    if (this.fallback) return this.fallback.write(body);
    if (this.closed)
      return Promise.resolve({
        kind: "failed",
        status: null,
        message: "the InfluxDB writer is closed",
        databaseMissing: false,
      });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { body, resolve });
      this.worker?.postMessage({ type: "write", id, body } satisfies ToLineWriter);
    });
  }

  /** Ends the thread (writes it had not answered are reported failed: the forwarder sends them again). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fallback?.close();
    const worker = this.worker;
    this.worker = undefined;
    worker?.postMessage({ type: "close" } satisfies ToLineWriter);
    for (const waiting of this.waiting.values())
      waiting.resolve({
        kind: "failed",
        status: null,
        message: "the InfluxDB writer was closed before InfluxDB answered",
        databaseMissing: false,
      });
    this.waiting.clear();
  }

  private receive(message: FromLineWriter): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    waiting.resolve(message.outcome);
  }

  private takeOver(why: string): void {
    if (this.fallback || this.closed) return;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
    const fallback = new HttpLineWriter(this.target);
    this.fallback = fallback;
    this.options.onTakeOver?.(why);
    const unanswered = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of unanswered) void fallback.write(w.body).catch(writeFailure).then(w.resolve);
  }
}

/** A write that threw (a request Node refused to build, e.g. a header it will not send): nothing was sent, try again later. */
export function writeFailure(err: unknown): WriteOutcome {
  return {
    kind: "failed",
    status: null,
    message: `the write could not be sent: ${err instanceof Error ? err.message : String(err)}`,
    databaseMissing: false,
  };
}
