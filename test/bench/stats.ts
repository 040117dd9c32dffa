/** Small helpers the benches share: percentiles, forced garbage collection, waiting. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

let collect: (() => void) | undefined;

/**
 * A full garbage collection: node's gc() when started with --expose-gc, else the same function
 * fetched through V8's flags (works under `tsx`, which takes no node flags in the script line).
 */
export function forceGc(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
  }
  collect();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits (real time, bounded) until `condition` holds. */
export async function until(condition: () => boolean, timeoutMs: number, what: string, pollMs = 10) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench: ${what} not within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** Where a bench writes its table lines (stdout for the table, stderr in JSON mode). */
export type Out = (line?: string) => void;
