/**
 * Which of the sampling loop's delays were the host's. A sentinel process (host-stall-sentinel.mjs), at
 * a CPU priority above every thread of the daemon, wakes every millisecond; when it too could not run,
 * the whole host stalled (a hypervisor taking the vCPU, the kernel), and the loop's delay at that moment
 * is no request's doing. The attack tests measure the loop with those moments taken out; a delay the
 * sentinel did not share stays the attack's.
 */

import { type ChildProcess, fork, spawnSync } from "node:child_process";
import { getPriority } from "node:os";
import { fileURLToPath } from "node:url";

/** Gaps shorter than this in the sentinel's 1 ms wake-ups are timer jitter, not stalls. */
export const HOST_STALL_MIN_MS = 2;

/** One moment the sentinel could not run: from `fromMs` (monotonic clock) for `ms`. */
export interface HostStall {
  fromMs: number;
  ms: number;
}

/** Milliseconds on the monotonic clock, the same in every process of the host. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Time within [fromMs, toMs] during which the sentinel was stalled. */
export function stalledWithin(stalls: readonly HostStall[], fromMs: number, toMs: number): number {
  let total = 0;
  for (const s of stalls) total += Math.max(0, Math.min(toMs, s.fromMs + s.ms) - Math.max(fromMs, s.fromMs));
  return total;
}

/** A sampling loop's wake-up: when, how late, and the deadlines each loop had skipped by then. */
export interface WakeUp extends MissedSnapshot {
  latenessMs: number;
}

export interface StallAttribution {
  /** Each wake-up's lateness less the time the host stalled within it. */
  latenessMs: number[];
  /** Deadlines skipped while the host stalled for at least half the skipped time. */
  hostMissed: number;
  /** Deadlines skipped that the host does not account for. */
  missed: number;
}

/** The loops' skipped deadlines at one moment (a wake-up, or a window's end). */
export interface MissedSnapshot {
  atMs: number;
  missedByLoop: Readonly<Record<string, number>>;
}

/**
 * Splits the loops' delays into the host's and the rest. A wake-up's lateness loses the time the host
 * stalled within it. Deadlines first seen skipped at snapshot j were skipped by a tick that ended after
 * snapshot j-1 and began at most (skipped + 1) periods before it; they are the host's when the host
 * stalled in that span for at least half the skipped time.
 */
export function attributeStalls(
  wakeUps: readonly WakeUp[],
  end: MissedSnapshot,
  stalls: readonly HostStall[],
  periodMs: number,
  missedBefore: Readonly<Record<string, number>>,
): StallAttribution {
  const latenessMs = wakeUps.map(
    (w) => w.latenessMs - Math.min(w.latenessMs, stalledWithin(stalls, w.atMs - w.latenessMs, w.atMs)),
  );
  let hostMissed = 0;
  let missed = 0;
  let previous: MissedSnapshot | undefined;
  for (const snapshot of [...wakeUps, end]) {
    for (const [loop, count] of Object.entries(snapshot.missedByLoop)) {
      const skipped = count - (previous?.missedByLoop[loop] ?? missedBefore[loop] ?? 0);
      if (skipped <= 0) continue;
      const fromMs = (previous?.atMs ?? snapshot.atMs - periodMs) - (skipped + 1) * periodMs;
      if (stalledWithin(stalls, fromMs, snapshot.atMs) >= (skipped * periodMs) / 2) hostMissed += skipped;
      else missed += skipped;
    }
    previous = snapshot;
  }
  return { latenessMs, hostMissed, missed };
}

/** The running sentinel: the host stalls it has reported, and its CPU priority against ours. */
export class HostStallWatch {
  readonly stalls: HostStall[] = [];

  private constructor(
    private readonly child: ChildProcess,
    /** The sentinel's nice value. */
    readonly nice: number,
  ) {
    child.on("message", (m: { type?: string; fromMs?: number; ms?: number }) => {
      if (m.type === "stall" && typeof m.fromMs === "number" && typeof m.ms === "number")
        this.stalls.push({ fromMs: m.fromMs, ms: m.ms });
    });
  }

  /**
   * Whether the sentinel outranks `loopNice` (the sampling thread's nice value): only then can no thread
   * of the daemon be what stalled it. A sentinel that could not be raised above it (no CAP_SYS_NICE)
   * excuses nothing: every delay stays the attack's.
   */
  outranks(loopNice: number): boolean {
    return this.nice < loopNice;
  }

  /**
   * Puts the sentinel under SCHED_FIFO at `priority`: above a sampling thread that runs under
   * SCHED_FIFO (which no nice value outranks). True when chrt did so.
   */
  raiseRealtime(priority: number): boolean {
    return (
      spawnSync("chrt", ["--fifo", "--pid", String(priority), String(this.pid)], { timeout: 5_000 })
        .status === 0
    );
  }

  /** Starts the sentinel; resolves once it runs, with its priority known. */
  static async start(minStallMs = HOST_STALL_MIN_MS): Promise<HostStallWatch> {
    const script = fileURLToPath(new URL("./host-stall-sentinel.mjs", import.meta.url));
    // No loader or flags of the test process: the sentinel is plain JavaScript.
    const child = fork(script, [String(minStallMs)], {
      execArgv: [],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const nice = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the host-stall sentinel did not start in 10 s")),
        10_000,
      );
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the host-stall sentinel exited (${code})`)));
      child.on("message", (m: { type?: string; nice?: number }) => {
        if (m.type !== "ready") return;
        clearTimeout(timer);
        resolve(typeof m.nice === "number" ? m.nice : getPriority(0));
      });
    });
    child.removeAllListeners("exit");
    return new HostStallWatch(child, nice);
  }

  /** Resolves once every stall the sentinel saw until now has arrived. */
  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the host-stall sentinel did not answer in 10 s")),
        10_000,
      );
      const onMessage = (m: { type?: string }) => {
        if (m.type !== "flushed") return;
        clearTimeout(timer);
        this.child.off("message", onMessage);
        resolve();
      };
      this.child.on("message", onMessage);
      this.child.send({ type: "flush" });
    });
  }

  /** The sentinel's process id (for tests that stop the whole host). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }
}
