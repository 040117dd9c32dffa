/**
 * Freshness watchdog (DESIGN §6): a source without a fresh sample for `timeoutMs` is reported
 * stale once, and again only after it has been fresh in between.
 */
export class Watchdog {
  private readonly lastFresh = new Map<string, number>();
  private readonly tripped = new Set<string>();

  constructor(readonly timeoutMs: number) {
    if (!(timeoutMs > 0)) throw new RangeError(`watchdog timeout must be > 0 ms, got ${timeoutMs}`);
  }

  /** Starts watching `id` from `nowMs` (a source that never answers trips after the timeout). */
  watch(id: string, nowMs: number): void {
    if (!this.lastFresh.has(id)) this.lastFresh.set(id, nowMs);
  }

  fresh(id: string, tMonoMs: number): void {
    this.lastFresh.set(id, tMonoMs);
    this.tripped.delete(id);
  }

  /**
   * Watches `id` afresh from `nowMs` if it is silent (a run starts on it): it trips again after the
   * timeout unless a sample comes. A source that is fresh keeps its last sample time.
   */
  rearm(id: string, nowMs: number): void {
    if (!this.tripped.has(id)) return;
    this.tripped.delete(id);
    this.lastFresh.set(id, nowMs);
  }

  /** Returns the ids that just went stale at `nowMs`, with how long they have been silent. */
  check(nowMs: number): { id: string; silentMs: number }[] {
    const stale: { id: string; silentMs: number }[] = [];
    for (const [id, last] of this.lastFresh) {
      const silentMs = nowMs - last;
      if (silentMs > this.timeoutMs && !this.tripped.has(id)) {
        this.tripped.add(id);
        stale.push({ id, silentMs });
      }
    }
    return stale;
  }
}

/** Default watchdog timeout: 5 sample periods, at least 1 s (DESIGN §6). */
export function defaultWatchdogMs(samplingPeriodMs: number): number {
  return Math.max(1000, 5 * samplingPeriodMs);
}
