import { getPriority } from "node:os";
import type { Logger } from "../log.js";
import { errnoOf, setNiceOfEveryThread } from "../thread-nice.js";

/**
 * Nice value the daemon asks for: its sampling loop and safety checks come before other work on
 * the host (the profile workers run at +10). Lowering one's nice needs CAP_SYS_NICE (root, or
 * systemd's `Nice=-10`); without it the daemon runs at the priority it was started with.
 */
export const SAMPLING_NICE = -10;

export type PriorityOutcome =
  | { raised: true; nice: number }
  | { raised: false; nice: number; reason: string };

/**
 * Raises every thread of this process to SAMPLING_NICE if allowed (all of them: setNiceOfEveryThread
 * says why); never throws.
 */
export function raiseSamplingPriority(): PriorityOutcome {
  const before = getPriority(0);
  if (before <= SAMPLING_NICE) return { raised: true, nice: before };
  try {
    setNiceOfEveryThread(SAMPLING_NICE);
    return { raised: true, nice: getPriority(0) };
  } catch (err) {
    return { raised: false, nice: before, reason: errnoOf(err) };
  }
}

/** Logs the outcome at start-up: info when raised, a warning with what to grant when not. */
export function logPriority(logger: Pick<Logger, "info" | "warn">, outcome: PriorityOutcome): void {
  if (outcome.raised) logger.info({ nice: outcome.nice }, "sampling at raised CPU priority");
  else
    logger.warn(
      { nice: outcome.nice, reason: outcome.reason },
      `could not raise the CPU priority to nice ${SAMPLING_NICE}; on a busy host sampling may be late (grant CAP_SYS_NICE, or set Nice=${SAMPLING_NICE} in the systemd unit)`,
    );
}
