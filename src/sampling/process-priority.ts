import { getPriority, setPriority } from "node:os";

/**
 * Nice value the daemon asks for: its sampling loop and safety checks come before other work on
 * the host (the profile workers run at +10). Lowering one's nice needs CAP_SYS_NICE (root, or
 * systemd's `Nice=-10`); without it the daemon runs at the priority it was started with.
 */
export const SAMPLING_NICE = -10;

export type PriorityOutcome =
  | { raised: true; nice: number }
  | { raised: false; nice: number; reason: string };

/** Raises this process's CPU priority to SAMPLING_NICE if allowed; never throws. */
export function raiseSamplingPriority(): PriorityOutcome {
  const before = getPriority(0);
  if (before <= SAMPLING_NICE) return { raised: true, nice: before };
  try {
    setPriority(0, SAMPLING_NICE);
    return { raised: true, nice: getPriority(0) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return { raised: false, nice: before, reason: code };
  }
}
