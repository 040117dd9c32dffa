import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "../log.js";

/** Linux scheduling policies, as field 41 of /proc/<pid>/task/<tid>/stat reports them. */
const SCHED_FIFO = 1;

/** The range `sampling.realtime_priority` accepts (SCHED_FIFO priorities). */
export const REALTIME_PRIORITY = { min: 1, max: 99 } as const;

export type RealtimeOutcome =
  | { applied: true; priority: number }
  | { applied: false; priority: number; reason: string };

/** What runs chrt: spawnSync in production; a test may hand in another. */
export type RunCommand = (
  command: string,
  args: string[],
) => { status: number | null; stderr: string; error?: Error };

const runChrt: RunCommand = (command, args) => {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 5_000 });
  return { status: r.status, stderr: r.stderr ?? "", ...(r.error ? { error: r.error } : {}) };
};

/** The scheduling policy of this process's main thread (where the sampling loop runs); undefined off Linux. */
export function mainThreadPolicy(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
  } catch {
    return undefined;
  }
}

/**
 * Puts the main thread, where the sampling loop and the safety checks run, under SCHED_FIFO at
 * `priority`: a timer that is due then preempts every ordinary thread on the host, including this
 * process's own helper threads (a nice value only weighs shares; under load wake-ups still came
 * 2–5 ms late). Node has no call for it, so util-linux's `chrt` sets it, with reset-on-fork: the
 * threads and processes started afterwards (profile workers, the export thread) run as ordinary
 * threads and cannot inherit it. Linux keeps 5 % of each CPU for other work (sched_rt_runtime_us),
 * so a runaway loop cannot lock the host. Needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least
 * `priority` (systemd's LimitRTPRIO=; the kernel then lets the thread's owner set it); a container
 * needs a real-time budget.
 * Never throws: the outcome says whether the kernel now reports SCHED_FIFO for the thread.
 */
export function requestRealtimePriority(priority: number, run: RunCommand = runChrt): RealtimeOutcome {
  if (!Number.isInteger(priority) || priority < REALTIME_PRIORITY.min || priority > REALTIME_PRIORITY.max)
    return {
      applied: false,
      priority,
      reason: `priority must be an integer from ${REALTIME_PRIORITY.min} to ${REALTIME_PRIORITY.max}`,
    };
  const r = run("chrt", ["--fifo", "--reset-on-fork", "--pid", String(priority), String(process.pid)]);
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return {
      applied: false,
      priority,
      reason: code === "ENOENT" ? "chrt not found (install util-linux)" : r.error.message,
    };
  }
  if (r.status !== 0)
    return { applied: false, priority, reason: r.stderr.trim() || `chrt exited with ${r.status}` };
  if (mainThreadPolicy() !== SCHED_FIFO)
    return { applied: false, priority, reason: "chrt succeeded but the kernel does not report SCHED_FIFO" };
  return { applied: true, priority };
}

/** Puts the main thread back under the ordinary policy (SCHED_OTHER); a bench does so between scenarios. */
export function dropRealtimePriority(run: RunCommand = runChrt): boolean {
  const r = run("chrt", ["--other", "--pid", "0", String(process.pid)]);
  return r.status === 0 && mainThreadPolicy() !== SCHED_FIFO;
}

/** Logs the outcome at start-up: info when applied, a warning with what to grant when not. */
export function logRealtime(logger: Pick<Logger, "info" | "warn">, outcome: RealtimeOutcome): void {
  if (outcome.applied)
    logger.info(
      { priority: outcome.priority },
      "sampling thread runs under SCHED_FIFO (sampling.realtime_priority)",
    );
  else
    logger.warn(
      { priority: outcome.priority, reason: outcome.reason },
      `could not give the sampling thread real-time priority; sampling goes on at its nice value (allow it: LimitRTPRIO=${outcome.priority} or more and no RestrictRealtime= in the systemd unit, as examples/systemd/cellbench.service has, or CAP_SYS_NICE; or remove sampling.realtime_priority)`,
    );
}
