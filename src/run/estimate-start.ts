import type { CellSpec } from "../../drivers/capabilities.js";
import { restingSoc } from "../engine/conditions.js";
import type { ChannelSample } from "../sampling/sample.js";

/** Where a run's dry-run estimate starts when nothing better is known. */
export const DEFAULT_ESTIMATE_SOC = 0.5;

/**
 * The state of charge a run's estimate starts from: read off the chemistry's open-circuit curve
 * when the channel's latest sample shows the cell at rest (restingSoc), else 50 %. A cell still
 * relaxing reads a little off its OCV; for an ETA that is close enough.
 */
export function estimateStartSoc(cell: CellSpec, latest: ChannelSample | undefined): number {
  return restingSoc(cell, latest) ?? DEFAULT_ESTIMATE_SOC;
}
