/**
 * Lets the API handle at most one request per event-loop turn, and at most `perSecond` requests a
 * second from all clients together. Requests that arrive together (one client per connection,
 * several connections) are otherwise handled back to back in one poll phase, and a sampling deadline
 * that falls due meanwhile waits for all of them: libuv runs due timers only between phases. Each
 * admitted request runs in its own check phase (setImmediate), so a due sample waits for one
 * request's handler at most. The rate bounds the API's share of the sampling thread, and with it
 * the garbage its requests leave for the collector to pause that thread for: a client hammering
 * GET /api/v1/bench on loopback got 2,200 requests a second through, with 2 ms collector pauses
 * and missed sampling periods; beyond the rate, requests wait their turn (in arrival order), none
 * is refused.
 */

/** Requests a second the API handles by default (http.requestsPerSecond). */
export const DEFAULT_REQUESTS_PER_SECOND = 250;

export class TurnGate {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private admittedCount = 0;
  /** Admissions that may run back to back (one per turn) before the rate paces them: 50 ms worth. */
  private readonly burst: number;
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number = DEFAULT_REQUESTS_PER_SECOND,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0)) throw new RangeError(`requests per second must be > 0, got ${perSecond}`);
    this.burst = Math.max(1, Math.ceil(perSecond / 20));
    this.tokens = this.burst;
    this.refilledAt = now();
  }

  /** Requests admitted so far. */
  get admitted(): number {
    return this.admittedCount;
  }

  /** Calls `next` in a later turn of the loop, one caller per turn, in arrival order, within the rate. */
  pass(next: () => void): void {
    this.waiting.push(next);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.admitOne);
    }
  }

  /** Requests waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private readonly admitLater = (): void => {
    setImmediate(this.admitOne);
  };

  private readonly admitOne = (): void => {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) {
      // The handler runs from the check phase all the same: a timer callback would run it among the
      // sampling loops' timers that fall due in the same timers phase.
      setTimeout(this.admitLater, ((1 - this.tokens) * 1000) / this.perSecond);
      return;
    }
    const next = this.waiting.shift();
    // Scheduled from inside the check phase, the next admission runs in the next turn, after its timers.
    if (this.waiting.length > 0) setImmediate(this.admitOne);
    else this.scheduled = false;
    if (next) {
      this.tokens -= 1;
      this.admittedCount++;
      next();
    }
  };
}
