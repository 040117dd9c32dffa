import type { Logger } from "../log.js";

/**
 * The cap on V8's young generation (each of its two semi-spaces, MiB) the daemon is started with:
 * `node --max-semi-space-size=8`. Every scavenge stops the sampling thread. Under V8's 64-bit
 * default of 16 MiB they took up to 12–14 ms in the benches' 64-channel rig at 100 Hz, and wake-ups
 * delayed by them kept the 99th-percentile lateness above 1 ms; capped at 8 MiB, the longest was 4.6–9.9 ms
 * (`npm run bench -- --only steadiness`, README). 64 MiB made them worse still (52 ms). Set before the
 * process starts: V8 sizes the heap when the isolate is made, so it cannot be changed from inside.
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
