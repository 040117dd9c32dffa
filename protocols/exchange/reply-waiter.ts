import { startReplyTimer } from "./reply-timer.js";

interface Pending<T> {
  accept: (item: T) => boolean;
  resolve(item: T): void;
  reject(error: unknown): void;
  cancelTimer(): void;
}

export interface WaitOptions<T> {
  timeoutMs: number;
  /** Builds the error naming what was awaited (`Timeout after 200 ms [unit=1 fc=03 addr=100 n=1]`). */
  timeoutError: () => Error;
  /** Returns true for an item that answers this wait; others are left to the caller. Default: any. */
  accept?: (item: T) => boolean;
}

/**
 * The one request/response correlation helper: at most one outstanding wait, settled by the first
 * accepted item, by `fail`, or by its timeout. Items offered while nothing waits are refused, so a
 * caller can count and discard them (late and unsolicited replies).
 */
export class ReplyWaiter<T> {
  private pending: Pending<T> | undefined;

  /** Starts waiting; call before sending the request so no fast reply is missed. */
  wait(options: WaitOptions<T>): Promise<T> {
    if (this.pending)
      throw new Error("ReplyWaiter: a wait is already outstanding (transactions must be queued)");
    return new Promise<T>((resolve, reject) => {
      const pending: Pending<T> = {
        accept: options.accept ?? (() => true),
        resolve,
        reject,
        cancelTimer: startReplyTimer(options.timeoutMs, () => {
          if (this.pending !== pending) return;
          this.pending = undefined;
          reject(options.timeoutError());
        }),
      };
      this.pending = pending;
    });
  }

  /** Offers an arrived item; returns true when it settled the outstanding wait. */
  offer(item: T): boolean {
    const pending = this.pending;
    if (pending === undefined || !pending.accept(item)) return false;
    this.pending = undefined;
    pending.cancelTimer();
    pending.resolve(item);
    return true;
  }

  /** Rejects the outstanding wait, if any; returns whether there was one. */
  fail(error: unknown): boolean {
    const pending = this.pending;
    if (pending === undefined) return false;
    this.pending = undefined;
    pending.cancelTimer();
    pending.reject(error);
    return true;
  }

  get waiting(): boolean {
    return this.pending !== undefined;
  }
}
