/**
 * Lets the API handle at most one request per event-loop turn. Requests that arrive together (one
 * client per connection, several connections) are otherwise handled back to back in one poll
 * phase, and a sampling deadline that falls due meanwhile waits for all of them: libuv runs due
 * timers only between phases. Each admitted request runs in its own check phase (setImmediate), so
 * a due sample waits for one request's handler at most.
 */
export class TurnGate {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private admittedCount = 0;

  /** Requests admitted so far. */
  get admitted(): number {
    return this.admittedCount;
  }

  /** Calls `next` in a later turn of the loop, one caller per turn, in arrival order. */
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

  private readonly admitOne = (): void => {
    const next = this.waiting.shift();
    // Scheduled from inside the check phase, the next admission runs in the next turn, after its timers.
    if (this.waiting.length > 0) setImmediate(this.admitOne);
    else this.scheduled = false;
    if (next) {
      this.admittedCount++;
      next();
    }
  };
}
