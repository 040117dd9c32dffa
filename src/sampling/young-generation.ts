import type { Logger } from "../log.js";

/**
 * The cap on V8's young generation (each of its two semi-spaces, MiB) the daemon is started with:
 * `node --max-semi-space-size=8`. Every scavenge stops the sampling thread, and under V8's 64-bit
 * default (16 MiB) they were the longer pauses: in two 30 s steadiness rounds per scenario, side by
 * side, the worst pause went from 7.3–14.7 ms to 5.9–10.3 ms and p99 lateness fell in 5 of 6 (README,
 * "Sampling priority and timing"). 64 MiB was far worse (52 ms). Set before the process starts: V8
 * sizes the heap when the isolate is made, so it cannot be changed from inside.
 */
export const SEMI_SPACE_MIB = 8;
export const SEMI_SPACE_FLAG = `--max-semi-space-size=${SEMI_SPACE_MIB}`;

const FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/;

/**
 * The semi-space cap this process was started with, MiB, or undefined for V8's default: from
 * NODE_OPTIONS, then the command line (Node reads them in that order; the last one given wins).
 */
export function semiSpaceCap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? "",
): number | undefined {
  const args = [...nodeOptions.split(/\s+/).filter((a) => a !== ""), ...execArgv];
  let cap: number | undefined;
  for (const [i, arg] of args.entries()) {
    const m = FLAG.exec(arg);
    if (!m) continue;
    const value = Number(m[1] ?? args[i + 1]);
    if (Number.isFinite(value) && value > 0) cap = value;
  }
  return cap;
}

/** Logs, at start-up, a warning when the young generation is not capped at SEMI_SPACE_MIB or below. */
export function logYoungGeneration(logger: Pick<Logger, "info" | "warn">, cap = semiSpaceCap()): void {
  if (cap !== undefined && cap <= SEMI_SPACE_MIB) {
    logger.info({ semiSpaceMiB: cap }, "young generation capped: scavenges stay short");
    return;
  }
  logger.warn(
    { semiSpaceMiB: cap ?? null },
    `V8's young generation is ${cap === undefined ? "at its default (16 MiB on 64-bit)" : `capped at ${cap} MiB`}: each scavenge stops sampling for longer; start node with ${SEMI_SPACE_FLAG} (npm start and the systemd unit do)`,
  );
}
