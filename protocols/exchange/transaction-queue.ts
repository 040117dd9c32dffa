/** Below this, waits spin on the event loop instead of a timer (see sleep()). */
const PRECISE_WAIT_MS = 2;

/** Pacing state of one party on a line (one instrument, one Modbus unit). */
export interface QueueOwner {
  /** Minimum time between the end of one of its transactions and the start of its next. */
  readonly minGapMs: number;
  /** Shown in diagnostics. */
  readonly label: string;
}

interface OwnerState {
  readyAt: number;
}

interface QueuedTask {
  owner: QueueOwner;
  task: () => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Runs transactions on one line strictly one at a time. Each owner keeps its own order and its own
 * minimum gap; while one owner waits out its gap, a ready owner behind it goes first, so a slow
 * controller on a shared RS-485 bus does not stall the fast ones. `lineGapMs` is the silence every
 * transaction leaves before the next one on the line (Modbus RTU t3.5).
 */
export class TransactionQueue {
  private readonly tasks: QueuedTask[] = [];
  private readonly owners = new WeakMap<QueueOwner, OwnerState>();
  private lineReadyAt = 0;
  private pumping = false;
  private wake: (() => void) | undefined;

  /**
   * `quietSince(startedAt)`: when the line last carried a byte of the transaction that started at
   * `startedAt` (its reply's last chunk), from which the gaps count; default: when the task settled,
   * which is later by however long the reply took to be parsed and handed back.
   */
  constructor(
    private readonly lineGapMs = 0,
    private readonly quietSince?: (startedAt: number) => number,
  ) {}

  /** Queues `task` for `owner` and settles with its outcome. */
  run<T>(owner: QueueOwner, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({ owner, task, resolve: resolve as (value: unknown) => void, reject });
      this.wake?.();
      void this.pump();
    });
  }

  /** Rejects every task that has not started yet. */
  rejectWaiting(error: unknown): void {
    for (const queued of this.tasks.splice(0)) queued.reject(error);
  }

  /** Number of tasks not yet started. */
  get waiting(): number {
    return this.tasks.length;
  }

  private state(owner: QueueOwner): OwnerState {
    let state = this.owners.get(owner);
    if (state === undefined) {
      state = { readyAt: 0 };
      this.owners.set(owner, state);
    }
    return state;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.tasks.length > 0) {
        const now = performance.now();
        const seen = new Set<QueueOwner>();
        let pick = -1;
        let soonest = Number.POSITIVE_INFINITY;
        for (let i = 0; i < this.tasks.length; i++) {
          const owner = this.tasks[i]!.owner;
          if (seen.has(owner)) continue;
          seen.add(owner);
          const readyAt = Math.max(this.state(owner).readyAt, this.lineReadyAt);
          if (readyAt <= now) {
            pick = i;
            break;
          }
          soonest = Math.min(soonest, readyAt);
        }
        if (pick < 0) {
          await this.sleep(soonest - now);
          continue;
        }
        const [queued] = this.tasks.splice(pick, 1);
        if (queued === undefined) continue;
        const started = performance.now();
        try {
          queued.resolve(await queued.task());
        } catch (error) {
          queued.reject(error);
        }
        const end = Math.min(performance.now(), this.quietSince?.(started) ?? Number.POSITIVE_INFINITY);
        this.state(queued.owner).readyAt = end + queued.owner.minGapMs;
        this.lineReadyAt = end + this.lineGapMs;
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Waits about `ms`. Node's timers fire up to a millisecond early or late and never sooner than
   * 1 ms, which alone costs a third of the RTU throughput at 115200 baud (t3.5 = 1.75 ms): the timer
   * covers all but the last two milliseconds, and the pump loop re-checks readiness on each
   * event-loop turn for the rest.
   */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        if (immediate) clearImmediate(immediate);
        this.wake = undefined;
        resolve();
      };
      if (ms >= PRECISE_WAIT_MS + 1) timer = setTimeout(done, ms - PRECISE_WAIT_MS);
      else immediate = setImmediate(done);
      this.wake = done;
    });
  }
}
