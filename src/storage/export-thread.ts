/**
 * The daemon's side of the export thread (export-worker.ts): one worker thread, started on the
 * first export, runs every export; each export comes back as an async generator of UTF-8 chunks
 * whose pace the consumer sets (the thread produces at most EXPORT_WINDOW_BYTES ahead of it).
 */
import type { Worker } from "node:worker_threads";
import type { BdfExportOptions } from "./bdf-export.js";
import { ExportQueryError } from "./errors.js";
import type { ExportJob, FromExportThread, ToExportThread } from "./export-messages.js";
import type { InfluxTarget } from "./influx-target.js";
import { siblingWorker, startWorker } from "./start-worker.js";

interface Pending {
  /** Messages not yet taken by the generator. */
  inbox: FromExportThread[];
  wake: (() => void) | undefined;
}

export class ExportThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loaded: Promise<void> | undefined;

  /**
   * Starts the thread now and resolves once it has loaded: the daemon does at start-up, so the first
   * export does not pay for loading its code.
   */
  ready(): Promise<void> {
    this.ensureWorker();
    return this.loaded ?? Promise.resolve();
  }

  /** Streams one export; `onPlan` and `signal` as in BdfExportOptions. */
  async *run(target: InfluxTarget, options: BdfExportOptions): AsyncGenerator<Uint8Array, void, undefined> {
    const { onPlan, signal, ...job } = options;
    if (signal?.aborted) throw new ExportQueryError("export aborted");
    const id = this.nextId++;
    const pending: Pending = { inbox: [], wake: undefined };
    this.pending.set(id, pending);
    const worker = this.ensureWorker();
    const send = (message: ToExportThread) => worker.postMessage(message);
    const onAbort = () => send({ type: "abort", id });
    signal?.addEventListener("abort", onAbort, { once: true });
    let ended = false;
    try {
      send({ type: "start", id, target, job: job satisfies ExportJob });
      for (;;) {
        const message = pending.inbox.shift();
        if (!message) {
          await new Promise<void>((resolve) => {
            pending.wake = resolve;
          });
          continue;
        }
        if (message.type === "plan") onPlan?.(message.plan);
        else if (message.type === "chunk") {
          yield message.bytes;
          send({ type: "ack", id, bytes: message.bytes.byteLength });
        } else if (message.type === "end") {
          ended = true;
          if (signal?.aborted) throw new ExportQueryError("export aborted");
          return;
        } else if (message.type === "error") {
          ended = true;
          throw new ExportQueryError(message.message);
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // A consumer that stopped early (client gone) stops the export in the thread too.
      if (!ended && this.worker === worker) send({ type: "abort", id });
      this.pending.delete(id);
    }
  }

  /** Stops the thread; exports in progress end with an error. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(siblingWorker("export-worker", import.meta.url));
    worker.unref();
    this.loaded = new Promise((resolve) => {
      const onReady = (message: FromExportThread) => {
        if (message.type !== "ready") return;
        worker.off("message", onReady);
        resolve();
      };
      worker.on("message", onReady);
      worker.once("exit", () => resolve());
    });
    worker.on("message", (message: FromExportThread) => {
      if (message.type !== "ready") this.deliver(message.id, message);
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id] of this.pending)
        this.deliver(id, { type: "error", id, code: "EXPORT_QUERY_FAILED", message: why });
    };
    worker.on("error", (err) => fail(`the export thread failed: ${err.message}`));
    worker.on("exit", (code) => fail(`the export thread stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }

  private deliver(id: number, message: FromExportThread): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    pending.inbox.push(message);
    const wake = pending.wake;
    pending.wake = undefined;
    wake?.();
  }
}
