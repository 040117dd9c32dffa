/**
 * Simulated time paced against real time, for a bench whose devices are all simulated (`--speed N`).
 *
 * Time is discrete: it moves only from one sleeper's deadline to the next (for a bench, one
 * sampling period per tick), and only after the tasks woken at the previous deadline have had their
 * promise continuations and pending I/O run (a simulated device answers within them). Each step is due N× faster than its simulated length in real time. A host that
 * falls behind (a GC pause, a busy CPU) slows the simulation down instead of jumping it ahead: a
 * tick is never skipped, so a 600 ms stall is one late tick, not a minute of simulated silence that
 * trips every watchdog. Short lags (timer granularity) are caught up; longer ones are given up and
 * counted, and `stats()` reports the speed achieved.
 *
 * `wallNow()` is simulated wall time: the wall clock at start plus simulated time elapsed.
 */
import type { Clock } from "./clock.js";
import { Sleepers } from "./sleepers.js";

/** Lag behind the pace that is caught up by stepping without waiting; beyond it the pace restarts from now. */
export const CATCH_UP_MS = 50;
/** Real time over which the achieved speed is measured. */
const SPEED_WINDOW_MS = 5000;
const MARK_EVERY_MS = 500;

export interface PaceStats {
  targetSpeed: number;
  /** Simulated ms per real ms over the last few seconds of stepping (the target until measured). */
  achievedSpeed: number;
  /** Times the host fell more than CATCH_UP_MS behind and the simulation slowed down. */
  slowdowns: number;
  /** Real time lost to those slowdowns, ms. */
  lostRealMs: number;
}

export class PacedClock implements Clock {
  private t = 0;
  private wallOrigin: number;
  private readonly sleepers = new Sleepers(() => this.schedule());
  /** Real time and simulated time at which the current pace started. */
  private realMark = performance.now();
  private simMark = 0;
  private cancelTimer: (() => void) | undefined;
  private timerFor: number | undefined;
  private settling = false;
  private readonly marks: { real: number; sim: number }[] = [];
  private slowdowns = 0;
  private lostRealMs = 0;

  constructor(
    readonly speed: number,
    options: { wallOriginMs?: number } = {},
  ) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`speed must be a positive finite number, got ${speed}`);
    this.wallOrigin = options.wallOriginMs ?? Date.now();
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return Math.round(this.wallOrigin + this.t);
  }

  /**
   * Moves the simulated wall clock on so that it reads after `wallMs` (a restart of a bench whose
   * earlier runs were stamped in simulated time ahead of the real clock): timestamps never go back.
   */
  continueWallAfter(wallMs: number): void {
    if (this.wallNow() <= wallMs) this.wallOrigin = wallMs + 1 - this.t;
  }

  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    if (monoMs <= this.t || signal?.aborted) return Promise.resolve();
    return this.sleepers.add(monoMs, signal);
  }

  stats(): PaceStats {
    const first = this.marks[0];
    const realNow = performance.now();
    const achievedSpeed =
      first && realNow - first.real >= MARK_EVERY_MS
        ? (this.t - first.sim) / (realNow - first.real)
        : this.speed;
    return { targetSpeed: this.speed, achievedSpeed, slowdowns: this.slowdowns, lostRealMs: this.lostRealMs };
  }

  private dueReal(simMs: number): number {
    return this.realMark + (simMs - this.simMark) / this.speed;
  }

  private schedule(): void {
    if (this.settling) return;
    const at = this.sleepers.nextAt;
    if (at === undefined) return;
    if (this.cancelTimer) {
      if (this.timerFor !== undefined && this.timerFor <= at) return;
      this.cancelTimer();
    }
    const delay = this.dueReal(at) - performance.now();
    this.timerFor = at;
    if (delay >= 1) {
      const timer = setTimeout(() => this.step(), delay);
      this.cancelTimer = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.step());
      this.cancelTimer = () => clearImmediate(immediate);
    }
  }

  private step(): void {
    this.cancelTimer = undefined;
    this.timerFor = undefined;
    const at = this.sleepers.nextAt;
    if (at === undefined) return;
    const realNow = performance.now();
    const lag = realNow - this.dueReal(at);
    if (lag > CATCH_UP_MS) {
      this.slowdowns++;
      this.lostRealMs += lag;
      this.realMark = realNow;
      this.simMark = at;
    }
    this.t = Math.max(this.t, at);
    while (this.sleepers.wakeNext(this.t) !== undefined) {}
    this.mark(realNow);
    // The woken tasks run to their next sleep (promise continuations, then pending I/O) first.
    this.settling = true;
    setImmediate(() => {
      this.settling = false;
      this.schedule();
    });
  }

  private mark(realNow: number): void {
    const last = this.marks[this.marks.length - 1];
    if (last && realNow - last.real < MARK_EVERY_MS) return;
    this.marks.push({ real: realNow, sim: this.t });
    while (this.marks.length > 2 && realNow - (this.marks[1] as { real: number }).real >= SPEED_WINDOW_MS)
      this.marks.shift();
  }
}
