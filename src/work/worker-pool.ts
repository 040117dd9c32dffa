/**
 * Heavy request work (profile parsing, validation, dry runs, estimates) runs here, on worker
 * threads, never on the sampling loop. Each worker runs one task at a time under a memory limit and
 * a deadline: a task that runs out of either costs only its worker, which is replaced.
 */
import { Worker } from "node:worker_threads";
import { CellbenchError } from "../../protocols/cellbench-error.js";

export interface WorkerPoolOptions {
  /** Worker threads (default 1: the other core belongs to the sampling loop). */
  workers?: number;
  /** Old-generation heap of each worker, MiB (default 512). */
  maxHeapMb?: number;
  /** Tasks waiting for a worker at most; beyond that, SERVER_BUSY (default 16). */
  maxQueued?: number;
}

/** A task failed in the worker: the error it threw, with its code, message and issues. */
export class WorkerTaskError extends CellbenchError {
  constructor(
    code: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(code, message);
  }
}

/** What a worker posts back for a task. */
export type TaskReply =
  | { id: number; ok: true; value: unknown }
  | {
      id: number;
      ok: false;
      error: { code: string; message: string; issues?: { path: string; message: string }[] };
    };

interface Task {
  id: number;
  kind: string;
  input: unknown;
  timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly maxHeapMb: number;
  private readonly maxQueued: number;

  constructor(
    private readonly entry: URL,
    options: WorkerPoolOptions = {},
  ) {
    this.size = Math.max(1, options.workers ?? 1);
    this.maxHeapMb = options.maxHeapMb ?? 512;
    this.maxQueued = options.maxQueued ?? 16;
  }

  /** Tasks running and waiting. */
  get load(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.task).length, queued: this.queue.length };
  }

  /** Runs `kind` on a worker; rejects with the task's own error, or a WorkerTaskError. */
  run<T>(kind: string, input: unknown, timeoutMs: number): Promise<T> {
    if (this.closed) return Promise.reject(new WorkerTaskError("SERVER_BUSY", "the daemon is shutting down"));
    if (this.queue.length >= this.maxQueued)
      return Promise.reject(
        new WorkerTaskError(
          "SERVER_BUSY",
          `${this.queue.length} profile tasks are already waiting for the profile worker; retry in a few seconds`,
        ),
      );
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        kind,
        input,
        timeoutMs,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0))
      task.reject(new WorkerTaskError("SERVER_BUSY", "the daemon is shutting down"));
    await Promise.all(
      this.slots.splice(0).map((slot) => {
        if (slot.timer) clearTimeout(slot.timer);
        slot.task?.reject(new WorkerTaskError("SERVER_BUSY", "the daemon is shutting down"));
        return slot.worker.terminate();
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift() as Task;
      slot.task = task;
      slot.timer = setTimeout(() => {
        this.fail(
          slot as Slot,
          new WorkerTaskError(
            "PROFILE_TOO_COSTLY",
            `checking this profile took longer than ${task.timeoutMs / 1000} s and was stopped; make it simpler (fewer steps, shorter drive cycles)`,
          ),
        );
      }, task.timeoutMs);
      slot.worker.postMessage({ id: task.id, kind: task.kind, input: task.input });
    }
  }

  private spawn(): Slot {
    const typescript = this.entry.pathname.endsWith(".ts");
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: {
        entry: this.entry.href,
        // Under tsx (npm start, the tests) the worker registers the same TypeScript loader first.
        tsx: typescript ? import.meta.resolve("tsx/esm/api") : null,
      },
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    worker.unref();
    const slot: Slot = { worker, task: undefined, timer: undefined };
    worker.on("message", (reply: TaskReply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      this.settle(slot);
      if (reply.ok) task.resolve(reply.value);
      else task.reject(new WorkerTaskError(reply.error.code, reply.error.message, reply.error.issues));
      this.dispatch();
    });
    worker.on("error", (err: Error & { code?: string }) => {
      const memory = err.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.fail(
        slot,
        new WorkerTaskError(
          memory ? "PROFILE_TOO_COSTLY" : "INTERNAL",
          memory
            ? `checking this profile needed more than ${this.maxHeapMb} MiB and was stopped; make it simpler (fewer steps, shorter drive cycles)`
            : `the profile worker failed: ${err.message}`,
        ),
      );
    });
    worker.on("exit", () => {
      if (this.slots.includes(slot))
        this.fail(slot, new WorkerTaskError("INTERNAL", "the profile worker exited unexpectedly"));
    });
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
  }

  /** Rejects the slot's task, discards its worker (it may be stuck or out of memory) and goes on. */
  private fail(slot: Slot, err: Error): void {
    const task = slot.task;
    this.settle(slot);
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    void slot.worker.terminate().catch(() => undefined);
    task?.reject(err);
    if (!this.closed) this.dispatch();
  }
}

/** Loads the worker's module (through tsx when it is TypeScript); CommonJS, as eval workers are. */
const BOOT = `
const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();
`;
