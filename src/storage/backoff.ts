/**
 * Exponential back-off with jitter: the n-th consecutive failure waits a random time in
 * [cap/2, cap], cap = min(maxMs, initialMs · factor^(n-1)) ("equal jitter": never hammers the
 * server, never waits longer than maxMs, and spreads benches that lost InfluxDB at the same moment).
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Uniform [0, 1) source; injected in tests. */
  random?: () => number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1))
      throw new RangeError("back-off needs 0 < initialMs <= maxMs and factor >= 1");
  }

  /** Consecutive failures since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next attempt, in ms. */
  next(): number {
    this.failures++;
    const cap = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.failures - 1, 64));
    return cap / 2 + this.random() * (cap / 2);
  }

  /** Records a success: the next failure starts from `initialMs` again. */
  reset(): void {
    this.failures = 0;
  }
}
