/**
 * Waits until nothing has arrived for `quietMs` (judged by `lastReceivedAt`, a performance.now()
 * time), but no longer than `maxWaitMs` in total, so a device that never stops talking cannot stall
 * the line. Returns true when the line went quiet.
 */
export async function waitForQuietLine(
  lastReceivedAt: () => number,
  quietMs: number,
  maxWaitMs: number,
): Promise<boolean> {
  const start = performance.now();
  for (;;) {
    const now = performance.now();
    const quietFor = now - lastReceivedAt();
    if (quietFor >= quietMs) return true;
    if (now - start >= maxWaitMs) return false;
    const wait = Math.min(quietMs - quietFor, maxWaitMs - (now - start));
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait)));
  }
}
