/**
 * Shutdown must finish even when an instrument hangs mid-call: each of its steps waits for the
 * devices at most this long (real time), then goes on to the next, reporting what it left behind.
 */
export const SHUTDOWN_STEP_MS = 3000;

/** Resolves with true once every promise has settled, or with false after `ms` (real time). */
export function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void Promise.allSettled(promises).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
