/** Tasks asleep on a simulated clock, in deadline order (ties in arrival order). */
interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

export class Sleepers {
  private readonly queue: Sleeper[] = [];
  private seq = 0;

  constructor(private readonly onAdded: () => void) {}

  get length(): number {
    return this.queue.length;
  }

  /** Deadline of the earliest sleeper, if any. */
  get nextAt(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Resolves when `wakeDue` reaches `at`, or at once when `signal` aborts (the sleeper is dropped). */
  add(at: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => {
        this.remove(sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        at,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.insert(sleeper);
      this.onAdded();
    });
  }

  /** Removes and wakes the earliest sleeper if it is due by `t`; returns its deadline, or undefined. */
  wakeNext(t: number): number | undefined {
    const next = this.queue[0];
    if (!next || next.at > t) return undefined;
    this.queue.shift();
    next.resolve();
    return next.at;
  }

  private insert(s: Sleeper): void {
    let i = this.queue.length;
    while (i > 0) {
      const prev = this.queue[i - 1] as Sleeper;
      if (prev.at < s.at || (prev.at === s.at && prev.seq < s.seq)) break;
      i--;
    }
    this.queue.splice(i, 0, s);
  }

  private remove(s: Sleeper): void {
    const i = this.queue.indexOf(s);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
