/**
 * Clocks are injected everywhere time matters so that loops, profiles and watchdogs run on a
 * virtual clock in tests and dry runs. Only the serial/TCP boundary uses real timers directly.
 *
 * `now()` is monotonic milliseconds since an arbitrary origin (test time, integration, step timing).
 * `wallNow()` is UTC epoch milliseconds (the InfluxDB timestamp); it may jump, `now()` never does.
 */
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

/** Real time scaled by `speed` (for `--speed N` on simulated benches); wall time advances at the same rate. */
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

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
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
  private readonly sleepers: Sleeper[] = [];
  private seq = 0;
  private autoScheduled = false;

  constructor(options: { startMs?: number; wallOriginMs?: number; auto?: boolean } = {}) {
    this.t = options.startMs ?? 0;
    this.wallOrigin = options.wallOriginMs ?? Date.UTC(2026, 0, 1);
    this.auto = options.auto ?? false;
    this.speed = this.auto ? Number.POSITIVE_INFINITY : 1;
  }

  private readonly auto: boolean;

  now(): number {
    return this.t;
  }
  wallNow(): number {
    return Math.round(this.wallOrigin + this.t);
  }

  sleepUntil(monoMs: number, signal?: AbortSignal): Promise<void> {
    if (monoMs <= this.t || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => {
        this.remove(sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        at: monoMs,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.insert(sleeper);
      this.scheduleAuto();
    });
  }

  /** Number of tasks currently asleep. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward to `monoMs`, waking due sleepers in order and letting each settle. */
  async advanceTo(monoMs: number): Promise<void> {
    for (;;) {
      const next = this.sleepers[0];
      if (!next || next.at > monoMs) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await settle();
    }
    this.t = Math.max(this.t, monoMs);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }

  private insert(s: Sleeper): void {
    let i = this.sleepers.length;
    while (i > 0) {
      const prev = this.sleepers[i - 1] as Sleeper;
      if (prev.at < s.at || (prev.at === s.at && prev.seq < s.seq)) break;
      i--;
    }
    this.sleepers.splice(i, 0, s);
  }

  private remove(s: Sleeper): void {
    const i = this.sleepers.indexOf(s);
    if (i >= 0) this.sleepers.splice(i, 1);
  }

  private scheduleAuto(): void {
    if (!this.auto || this.autoScheduled) return;
    this.autoScheduled = true;
    setImmediate(() => {
      this.autoScheduled = false;
      const next = this.sleepers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.resolve();
      if (this.sleepers.length > 0) this.scheduleAuto();
    });
  }
}

/** Lets pending promise continuations and immediates run (a woken task reaches its next await). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
