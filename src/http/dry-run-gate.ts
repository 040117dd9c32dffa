import { DryRunBusyError } from "./http-errors.js";

/**
 * Lets a few dry runs simulate at once and a few more wait; beyond that, requests are refused
 * (503 with Retry-After) instead of piling up CPU work behind the bench's own sampling.
 */
export class DryRunGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxConcurrent = 1,
    private readonly maxQueued = 4,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new DryRunBusyError(5);
      // A finishing task hands its slot straight to the first waiter.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
