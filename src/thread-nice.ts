import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The errno behind an os.getPriority/setPriority failure (they throw ERR_SYSTEM_ERROR, errno in `info`). */
export function errnoOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { info?: { code?: string } };
  return e.info?.code ?? e.code ?? String(err);
}

/** This process's threads (Linux: /proc/self/task); elsewhere the process itself (0). */
function threadIds(): number[] {
  try {
    return readdirSync("/proc/self/task").map(Number).filter(Number.isInteger);
  } catch {
    return [0];
  }
}

/**
 * Gives every thread of this process the nice value `nice`; throws when one may not be changed
 * (EACCES: raising priority needs CAP_SYS_NICE). On Linux a nice value belongs to a thread and
 * setpriority changes only the one it names: V8's garbage-collector and compiler threads, started
 * before, would keep theirs, and a collection's stop-the-world pause waits for them (pauses of
 * 80 ms measured beside two CPU burners with only the main thread raised). Threads started later
 * inherit the value of the thread that starts them.
 */
export function setNiceOfEveryThread(nice: number): void {
  for (const tid of threadIds()) {
    try {
      if (getPriority(tid) !== nice) setPriority(tid, nice);
    } catch (err) {
      if (errnoOf(err) !== "ESRCH") throw err; // ESRCH: that thread has ended meanwhile
    }
  }
}
