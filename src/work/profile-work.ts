import type { ProfileTasks } from "./task-types.js";
import { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";

/** Deadlines of the profile tasks: parsing is quick; dry runs are bounded by their sample budget. */
export const TASK_TIMEOUT_MS: Readonly<Record<keyof ProfileTasks, number>> = {
  parse: 15_000,
  check: 60_000,
  estimate: 120_000,
};

/**
 * The profile workers, as the API and the run manager call them: one for requests (parse, check),
 * one for run estimates, so a request never waits behind a long estimate.
 */
export class ProfileWork {
  private readonly requests: WorkerPool;
  private readonly estimates: WorkerPool;

  /** `warm`: start the workers now (the daemon does, at start-up) rather than on first use. */
  constructor(options: WorkerPoolOptions & { warm?: boolean } = {}) {
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const entry = new URL(`./profile-worker.${ext}`, import.meta.url);
    this.requests = new WorkerPool(entry, options);
    this.estimates = new WorkerPool(entry, { ...options, workers: 1 });
    if (options.warm) {
      this.requests.warm();
      this.estimates.warm();
    }
  }

  run<K extends keyof ProfileTasks>(kind: K, input: ProfileTasks[K][0]): Promise<ProfileTasks[K][1]> {
    const pool = kind === "estimate" ? this.estimates : this.requests;
    return pool.run<ProfileTasks[K][1]>(kind, input, TASK_TIMEOUT_MS[kind]);
  }

  /** Starts the workers and resolves once they have loaded. */
  async ready(): Promise<void> {
    await Promise.all([this.requests.ready(), this.estimates.ready()]);
  }

  get load(): { running: number; queued: number } {
    const a = this.requests.load;
    const b = this.estimates.load;
    return { running: a.running + b.running, queued: a.queued + b.queued };
  }

  async close(): Promise<void> {
    await Promise.all([this.requests.close(), this.estimates.close()]);
  }
}
