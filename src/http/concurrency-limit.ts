import { type BusyCode, BusyError } from "./http-errors.js";

export interface ConcurrencyLimitOptions {
  /** What is limited, as the error names it: "profile checks", "exports", "event streams". */
  what: string;
  /** Most at once per token. */
  perToken: number;
  /** Most at once in total. */
  total: number;
  /** Most waiting for a slot in total (0: refuse at once when full). */
  maxQueued?: number;
  /** Retry-After of a refusal, seconds. */
  retryAfterS?: number;
  /** Code of a refusal beyond the total (default SERVER_BUSY). */
  totalCode?: BusyCode;
}

/**
 * Bounds how many of one kind of request work at once, per token and in total. Beyond the token's
 * share it answers 429 (that token is asking too much); beyond the total, after a short bounded
 * queue, 503 (the daemon is busy). Nothing waits without bound.
 */
export class ConcurrencyLimit {
  private total = 0;
  private readonly perToken = new Map<string, number>();
  private readonly waiting: { token: string; admit: () => void }[] = [];

  constructor(private readonly options: ConcurrencyLimitOptions) {}

  /** Holders right now (total, and for one token). */
  inUse(token?: string): number {
    return token === undefined ? this.total : (this.perToken.get(token) ?? 0);
  }

  /** Takes a slot now or throws BusyError; the returned function gives it back (once). */
  acquire(token: string): () => void {
    this.checkToken(token);
    if (this.total >= this.options.total) throw this.busy("total");
    return this.take(token);
  }

  /** Runs `task` in a slot, waiting in the bounded queue for one when all are taken. */
  async run<T>(token: string, task: () => Promise<T>): Promise<T> {
    this.checkToken(token);
    let release: () => void;
    if (this.total < this.options.total) release = this.take(token);
    else {
      if (this.waiting.length >= (this.options.maxQueued ?? 0)) throw this.busy("total");
      // The waiter counts against its token at once, so one token cannot fill the queue.
      this.perToken.set(token, this.inUse(token) + 1);
      await new Promise<void>((admit) => this.waiting.push({ token, admit }));
      this.perToken.set(token, this.inUse(token) - 1);
      release = this.take(token);
    }
    try {
      return await task();
    } finally {
      release();
    }
  }

  private checkToken(token: string): void {
    if (this.inUse(token) >= this.options.perToken) throw this.busy("token");
  }

  private take(token: string): () => void {
    this.total++;
    this.perToken.set(token, this.inUse(token) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = this.inUse(token) - 1;
      if (left > 0) this.perToken.set(token, left);
      else this.perToken.delete(token);
      this.waiting.shift()?.admit();
    };
  }

  private busy(scope: "token" | "total"): BusyError {
    const { what, perToken, total, maxQueued = 0, retryAfterS = 5, totalCode = "SERVER_BUSY" } = this.options;
    return scope === "token"
      ? new BusyError(
          "TOO_MANY_CONCURRENT",
          `this token already has ${perToken} ${what} in progress (the most one token may have); wait for one to finish`,
          retryAfterS,
        )
      : new BusyError(
          totalCode,
          `the daemon is serving its maximum of ${total} ${what} at once, with ${maxQueued} waiting; retry in ${retryAfterS} s`,
          retryAfterS,
        );
  }
}
