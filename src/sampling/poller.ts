import type { Clock } from "../../drivers/clock.js";

export interface PollerStats {
  ticks: number;
  /** Deadlines skipped because a tick overran into the next period. */
  missed: number;
  /** Lateness of the last wake-up after its deadline, ms. */
  lastLatenessMs: number;
  maxLatenessMs: number;
}

export interface PollerOptions {
  name: string;
  periodMs: number;
  clock: Clock;
  /** One acquisition; errors are reported through onError and never stop the loop. */
  tick: (deadlineMs: number) => Promise<void>;
  onError: (err: unknown) => void;
  /** Called with each wake-up's lateness (for the lateness histogram). */
  onLateness?: (ms: number) => void;
  /** Offset of the deadlines within the period, 0 ≤ phase < period (default 0): t0 + phase + k·period. */
  phaseMs?: number;
}

/**
 * Runs `tick` on absolute deadlines t0 + phase + k·period (no setInterval drift). A tick that overruns
 * skips the deadlines it missed rather than bunching up to catch up, and counts them.
 */
export class Poller {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly phaseMs: number;
  readonly stats: PollerStats = { ticks: 0, missed: 0, lastLatenessMs: 0, maxLatenessMs: 0 };

  constructor(private readonly options: PollerOptions) {
    if (!(options.periodMs > 0)) throw new RangeError(`poller ${options.name}: period must be > 0 ms`);
    this.phaseMs = options.phaseMs ?? 0;
    if (!(this.phaseMs >= 0 && this.phaseMs < options.periodMs))
      throw new RangeError(
        `poller ${options.name}: phase must be in [0, ${options.periodMs}) ms, got ${this.phaseMs}`,
      );
  }

  get name(): string {
    return this.options.name;
  }

  start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.run();
  }

  /** Stops after the tick in progress; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { clock, periodMs } = this.options;
    const signal = this.abort.signal;
    const t0 = clock.now() + this.phaseMs;
    let k = 0;
    while (!signal.aborted) {
      const deadline = t0 + k * periodMs;
      await clock.sleepUntil(deadline, signal);
      if (signal.aborted) break;
      const lateness = Math.max(0, clock.now() - deadline);
      this.stats.lastLatenessMs = lateness;
      this.stats.maxLatenessMs = Math.max(this.stats.maxLatenessMs, lateness);
      this.options.onLateness?.(lateness);
      try {
        await this.options.tick(deadline);
      } catch (err) {
        this.options.onError(err);
      }
      this.stats.ticks++;
      const nextK = Math.max(k + 1, Math.ceil((clock.now() - t0) / periodMs));
      this.stats.missed += nextK - (k + 1);
      k = nextK;
    }
  }
}
