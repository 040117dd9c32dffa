import type { Logger } from "../log.js";

/**
 * The daemon runs with V8's memory reducer off: `node --no-memory-reducer`. When the allocation rate
 * falls, as it does in a daemon that mostly waits for its next sample, the reducer runs full
 * collections back to back to shrink the heap, and their final pauses stop the sampling thread for
 * longest. Beside two CPU burners, during 15 parallel exports, they were pairs of 24–53 ms and
 * 10–28 ms, and a 20 ms sampling loop missed ticks in 2 of 5 runs; with the reducer off, 0 of 5
 * (README, "Sampling priority and timing"); memory stays within the 24 h bench's target without it.
 * Node refuses the flag in NODE_OPTIONS: it belongs on the command line, before the script.
 */
export const NO_MEMORY_REDUCER_FLAG = "--no-memory-reducer";

const FLAG = /^--(no-)?memory[-_]reducer$/;

/** Whether this process was started with the memory reducer off (the last of the two spellings wins). */
export function memoryReducerOff(execArgv: readonly string[] = process.execArgv): boolean {
  let off = false;
  for (const arg of execArgv) {
    const m = FLAG.exec(arg);
    if (m) off = m[1] !== undefined;
  }
  return off;
}

/** Logs, at start-up, a warning naming the flag when the memory reducer is on. */
export function logMemoryReducer(logger: Pick<Logger, "info" | "warn">, off = memoryReducerOff()): void {
  if (off) {
    logger.info("V8's memory reducer off: no back-to-back full collections when sampling is quiet");
    return;
  }
  logger.warn(
    `V8's memory reducer is on: when sampling is quiet it runs full collections back to back, each stopping sampling for tens of ms on a busy host; start node with ${NO_MEMORY_REDUCER_FLAG} (npm start and the systemd unit do)`,
  );
}
