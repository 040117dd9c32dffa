import type { CellSpec } from "../../drivers/capabilities.js";
import { ocvCurve, socAtOcv } from "../../drivers/sim/ocv-curves.js";
import type { ChannelSample } from "../sampling/sample.js";

/** Where a run's dry-run estimate starts when nothing better is known. */
export const DEFAULT_ESTIMATE_SOC = 0.5;

/**
 * The state of charge a run's estimate starts from: read off the chemistry's open-circuit curve
 * when the channel's latest sample shows the cell at rest (|I| at most C/100), else 50 %. A cell
 * still relaxing reads a little off its OCV; for an ETA that is close enough.
 */
export function estimateStartSoc(cell: CellSpec, latest: ChannelSample | undefined): number {
  if (!latest || !Number.isFinite(latest.voltageV) || !Number.isFinite(latest.currentA))
    return DEFAULT_ESTIMATE_SOC;
  if (Math.abs(latest.currentA) > cell.capacityAh / 100) return DEFAULT_ESTIMATE_SOC;
  return Math.min(1, Math.max(0, socAtOcv(ocvCurve(cell.chemistry), latest.voltageV)));
}
