/**
 * Heavy request work (profile parsing, validation, dry runs, estimates) runs here, in worker
 * processes, never on the sampling loop. Each worker runs one task at a time under a memory limit
 * and a deadline: a task that runs out of either costs only its worker, which is replaced. Workers
 * run at a lower CPU priority (WORKER_NICE), so on a busy host the sampling loop gets the CPU first.
 */
import { type ChildProcess, fork } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { CellbenchError } from "../../protocols/cellbench-error.js";

export interface WorkerPoolOptions {
  /** Worker processes (default 1: the other core belongs to the sampling loop). */
  workers?: number;
  /** Old-generation heap of each worker, MiB (default 512). */
  maxHeapMb?: number;
  /** Tasks waiting for a worker at most; beyond that, SERVER_BUSY (default 16). */
  maxQueued?: number;
  /** CPU priority of the workers (default WORKER_NICE: below the daemon's, so sampling comes first). */
  nice?: number;
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
  worker: ChildProcess;
  /** The worker has loaded its code and said so; only then do tasks go to it (and their deadlines run). */
  ready: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** A worker that has not loaded its code by then is replaced (a host too busy to start one). */
const START_TIMEOUT_MS = 120_000;
/** Worker priority: below the daemon's, so its sampling loop gets the CPU first, but not starved. */
export const WORKER_NICE = 10;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private readonly readyWaiters: (() => void)[] = [];
  private closed = false;
  private readonly size: number;
  private readonly maxHeapMb: number;
  private readonly maxQueued: number;
  private readonly nice: number;

  constructor(
    private readonly entry: URL,
    options: WorkerPoolOptions = {},
  ) {
    this.size = Math.max(1, options.workers ?? 1);
    this.maxHeapMb = options.maxHeapMb ?? 512;
    this.maxQueued = options.maxQueued ?? 16;
    this.nice = options.nice ?? WORKER_NICE;
  }

  /**
   * Starts every worker now: forking copies the daemon's page tables (about 20 ms of its loop), so
   * it happens at start-up rather than in the middle of a request.
   */
  warm(): void {
    while (!this.closed && this.slots.length < this.size) this.spawn();
  }

  /** Starts every worker and resolves once all have loaded (start-up, and tests that measure). */
  async ready(): Promise<void> {
    this.warm();
    while (!this.closed && !(this.slots.length === this.size && this.slots.every((s) => s.ready)))
      await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  /** Process ids of the workers started. */
  get pids(): number[] {
    return this.slots.flatMap((s) => (s.worker.pid === undefined ? [] : [s.worker.pid]));
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
        return stop(slot.worker);
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      if (this.slots.length < this.size) this.spawn();
      const slot = this.slots.find((s) => s.ready && !s.task);
      if (!slot) return;
      const task = this.queue.shift() as Task;
      slot.task = task;
      slot.timer = setTimeout(() => {
        this.fail(
          slot,
          new WorkerTaskError(
            "PROFILE_TOO_COSTLY",
            `checking this profile took longer than ${task.timeoutMs / 1000} s and was stopped; make it simpler (fewer steps, shorter drive cycles)`,
          ),
        );
      }, task.timeoutMs);
      slot.worker.send({ id: task.id, kind: task.kind, input: task.input });
    }
  }

  private spawn(): Slot {
    // Under tsx (npm start, the tests) the worker loads the same TypeScript loader first.
    const typescript = this.entry.pathname.endsWith(".ts");
    // The worker lowers all its own threads to `nice` (the argument); setting it here too lowers
    // its main thread before its code has even loaded.
    const worker = fork(fileURLToPath(this.entry), [String(this.nice)], {
      execArgv: [
        `--max-old-space-size=${this.maxHeapMb}`,
        ...(typescript ? ["--import", import.meta.resolve("tsx")] : []),
      ],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    try {
      if (worker.pid !== undefined) setPriority(worker.pid, this.nice);
    } catch {
      // Not allowed here: the worker runs at normal priority.
    }
    // A pool nobody closed never keeps the process alive.
    worker.unref();
    worker.channel?.unref();
    const slot: Slot = { worker, ready: false, task: undefined, timer: undefined };
    slot.timer = setTimeout(
      () => this.fail(slot, new WorkerTaskError("INTERNAL", "a profile worker did not start within 120 s")),
      START_TIMEOUT_MS,
    );
    slot.timer.unref();
    worker.on("message", (reply: TaskReply | { ready: true }) => {
      if ("ready" in reply) {
        this.settle(slot);
        slot.ready = true;
        for (const wake of this.readyWaiters.splice(0)) wake();
        this.dispatch();
        return;
      }
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      this.settle(slot);
      if (reply.ok) task.resolve(reply.value);
      else task.reject(new WorkerTaskError(reply.error.code, reply.error.message, reply.error.issues));
      this.dispatch();
    });
    worker.on("error", (err: Error) => {
      this.fail(slot, new WorkerTaskError("INTERNAL", `the profile worker failed: ${err.message}`));
    });
    worker.on("exit", (code, signal) => {
      if (!this.slots.includes(slot)) return;
      // V8 aborts (SIGABRT, or exit code 134) when the heap limit is reached.
      const memory = signal === "SIGABRT" || code === 134;
      this.fail(
        slot,
        new WorkerTaskError(
          memory ? "PROFILE_TOO_COSTLY" : "INTERNAL",
          memory
            ? `checking this profile needed more than ${this.maxHeapMb} MiB and was stopped; make it simpler (fewer steps, shorter drive cycles)`
            : `the profile worker exited unexpectedly (${signal ?? `code ${code}`})`,
        ),
      );
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
    slot.worker.kill("SIGKILL");
    task?.reject(err);
    if (!this.closed) this.dispatch();
  }
}

/** Kills a worker and resolves once it is gone. */
function stop(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once("exit", () => resolve());
    worker.kill("SIGKILL");
  });
}
