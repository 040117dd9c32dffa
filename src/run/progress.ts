import type { DryRunEstimate } from "../engine/dry-run.js";
import type { RunStatus } from "../engine/run-engine.js";
import { expectedElapsedS } from "../engine/step-timeline.js";

export interface RunProgress {
  /** 0..1 of the estimated total. */
  fraction: number;
  /** Estimated seconds remaining, corrected by how the run has kept pace with the estimate so far. */
  remainingS: number;
  estimatedTotalS: number;
}

/**
 * Places a running run on its dry-run timeline: the estimate's start of the current step plus the
 * time spent in it. Runs that deviate from the estimate (a cold chamber slows a soak, a cell holds
 * less charge) get their remaining time scaled by actual/expected pace.
 */
export function progressOf(
  estimate: Pick<DryRunEstimate, "durationS" | "timeline">,
  status: RunStatus,
): RunProgress {
  const total = Math.max(estimate.durationS, 1e-9);
  if (status.state === "completed") return { fraction: 1, remainingS: 0, estimatedTotalS: total };
  const expectedElapsed =
    expectedElapsedS(estimate.timeline, status.stepIndex, status.stepElapsedS) ?? status.testTimeS;
  const fraction = Math.min(1, Math.max(0, expectedElapsed / total));
  const pace = expectedElapsed > 60 && status.testTimeS > 0 ? status.testTimeS / expectedElapsed : 1;
  return { fraction, remainingS: Math.max(0, (total - expectedElapsed) * pace), estimatedTotalS: total };
}
