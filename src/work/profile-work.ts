import type { ProfileTasks } from "./task-types.js";
import { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";

/** Deadlines of the profile tasks: parsing is quick; dry runs are bounded by their sample budget. */
export const TASK_TIMEOUT_MS: Readonly<Record<keyof ProfileTasks, number>> = {
  parse: 15_000,
  check: 60_000,
  estimate: 120_000,
};

/** The profile worker, as the API and the run manager call it. */
export class ProfileWork {
  private readonly pool: WorkerPool;

  constructor(options: WorkerPoolOptions = {}) {
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    this.pool = new WorkerPool(new URL(`./profile-worker.${ext}`, import.meta.url), options);
  }

  run<K extends keyof ProfileTasks>(kind: K, input: ProfileTasks[K][0]): Promise<ProfileTasks[K][1]> {
    return this.pool.run<ProfileTasks[K][1]>(kind, input, TASK_TIMEOUT_MS[kind]);
  }

  get load(): { running: number; queued: number } {
    return this.pool.load;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
