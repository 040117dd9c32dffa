/**
 * Bounded waits on instruments (real time): a device that hangs mid-call must not keep a run from
 * latching its fault, nor the daemon from shutting down. Shutdown steps wait this long each, then
 * go on to the next, reporting what they left behind.
 */
export const SHUTDOWN_STEP_MS = 3000;

/** How long a run that is ending waits for its channel to confirm safe state before it ends anyway. */
export const SAFE_STATE_WAIT_MS = 3000;

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
