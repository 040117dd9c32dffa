/**
 * Says when a simulated bench cannot keep its `--speed`: the paced clock slows the simulation down
 * rather than skipping ticks, and this turns its figures into one warning when the achieved speed
 * drops below BEHIND_RATIO of the target, and one notice when it is back.
 */
import type { PaceStats } from "../../drivers/paced-clock.js";

export const BEHIND_RATIO = 0.9;
/** Back to "keeping up" only above this, so a speed hovering at the threshold does not flap. */
const RECOVERED_RATIO = 0.95;

export type PaceChange =
  | { kind: "behind"; stats: PaceStats }
  | { kind: "recovered"; stats: PaceStats }
  | undefined;

export class PaceMonitor {
  private behind = false;

  /** Feeds the latest figures; returns a change worth logging, if any. */
  observe(stats: PaceStats): PaceChange {
    const ratio = stats.achievedSpeed / stats.targetSpeed;
    if (!this.behind && ratio < BEHIND_RATIO) {
      this.behind = true;
      return { kind: "behind", stats };
    }
    if (this.behind && ratio >= RECOVERED_RATIO) {
      this.behind = false;
      return { kind: "recovered", stats };
    }
    return undefined;
  }
}

/** The log line's text for a change. */
export function paceMessage(change: NonNullable<PaceChange>): string {
  const { achievedSpeed, targetSpeed } = change.stats;
  return change.kind === "behind"
    ? `simulation behind: running at ${achievedSpeed.toFixed(1)}× of --speed ${targetSpeed} (the host is too busy); no tick is skipped, simulated time slows down`
    : `simulation back at --speed ${targetSpeed} (${achievedSpeed.toFixed(1)}×)`;
}
