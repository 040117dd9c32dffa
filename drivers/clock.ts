/**
 * Clocks are injected everywhere time matters so that loops, profiles and watchdogs run on a
 * virtual clock in tests and dry runs. Only the serial/TCP boundary uses real timers directly.
 *
 * `now()` is monotonic milliseconds since an arbitrary origin (test time, integration, step timing).
 * `wallNow()` is UTC epoch milliseconds (the InfluxDB timestamp); it may jump, `now()` never does.
 */
import { Sleepers } from "./sleepers.js";

export interface Clock {
  now(): number;
  wallNow(): number;
  /** Resolves once `now() >= monoMs`; resolves at once when that is already true. */
  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void>;
  /** Speed factor relative to real time (1 for real clocks, N for `--speed N`, Infinity for as-fast-as-possible). */
  readonly speed: number;
}

/** Real time: performance.now() and Date.now(). */
export class SystemClock implements Clock {
  readonly speed = 1;
  now(): number {
    return performance.now();
  }
  wallNow(): number {
    return Date.now();
  }
  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    return sleepReal(monoMs - this.now(), signal);
  }
}

/**
 * Real time scaled by `speed`; wall time advances at the same rate. For an emulator's physics only:
 * a stall of the host is a jump of N× its length, so nothing that samples or watches may run on it
 * (a simulated bench runs on `PacedClock`).
 */
export class ScaledClock implements Clock {
  private readonly realOrigin = performance.now();
  private readonly wallOrigin: number;

  constructor(
    readonly speed: number,
    wallOrigin: number = Date.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`speed must be a positive finite number, got ${speed}`);
    this.wallOrigin = wallOrigin;
  }
  now(): number {
    return (performance.now() - this.realOrigin) * this.speed;
  }
  wallNow(): number {
    return Math.round(this.wallOrigin + this.now());
  }
  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    return sleepReal((monoMs - this.now()) / this.speed, signal);
  }
}

function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Discrete-event virtual clock. Time only moves when asked:
 * - `advanceTo(t)` / `advanceBy(ms)` wake every sleeper due on the way, in deadline order, letting
 *   each woken task run to its next sleep before the next one wakes;
 * - with `auto: true`, whenever every task is asleep the clock jumps to the earliest deadline
 *   (as-fast-as-possible simulation, used by dry runs and high-speed tests).
 */
export class VirtualClock implements Clock {
  readonly speed: number;
  private t: number;
  private readonly wallOrigin: number;
  private readonly sleepers = new Sleepers(() => this.scheduleAuto());
  private autoScheduled = false;
  private readonly auto: boolean;

  constructor(options: { startMs?: number; wallOriginMs?: number; auto?: boolean } = {}) {
    this.t = options.startMs ?? 0;
    this.wallOrigin = options.wallOriginMs ?? Date.UTC(2026, 0, 1);
    this.auto = options.auto ?? false;
    this.speed = this.auto ? Number.POSITIVE_INFINITY : 1;
  }

  now(): number {
    return this.t;
  }
  wallNow(): number {
    return Math.round(this.wallOrigin + this.t);
  }

  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    if (monoMs <= this.t || signal?.aborted) return Promise.resolve();
    return this.sleepers.add(monoMs, signal);
  }

  /** Number of tasks currently asleep. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward to `monoMs`, waking due sleepers in order and letting each settle. */
  async advanceTo(monoMs: number): Promise<void> {
    for (;;) {
      const at = this.sleepers.wakeNext(monoMs);
      if (at === undefined) break;
      this.t = Math.max(this.t, at);
      await settle();
    }
    this.t = Math.max(this.t, monoMs);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }

  private scheduleAuto(): void {
    if (!this.auto || this.autoScheduled) return;
    this.autoScheduled = true;
    setImmediate(() => {
      this.autoScheduled = false;
      const at = this.sleepers.nextAt;
      if (at === undefined) return;
      this.t = Math.max(this.t, at);
      this.sleepers.wakeNext(at);
      if (this.sleepers.length > 0) this.scheduleAuto();
    });
  }
}

/** Lets pending promise continuations and immediates run (a woken task reaches its next await). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
