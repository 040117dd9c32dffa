/**
 * A run's own time range, and the Grafana link that opens it. On a sped-up simulated bench a run is
 * stamped in simulated wall time, hours or days ahead of the real clock, so "the last hour" shows
 * nothing: every view of a run goes by the range its records carry.
 */
import type { RunState } from "../run/records.js";

/** uid of dashboards/cellbench-run.json (a test holds the two together). */
export const RUN_DASHBOARD_UID = "cellbench-run";

const ENDED: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

export interface RunTimeRange {
  fromMs: number;
  /** When the run ended; undefined while it has not. */
  toMs: number | undefined;
}

/** From the run's creation to its end (the last time it entered an ended state). */
export function runTimeRange(run: {
  createdMs: number;
  history: readonly { state: RunState; tWallMs: number }[];
}): RunTimeRange {
  let toMs: number | undefined;
  for (const h of run.history) toMs = ENDED.has(h.state) ? h.tWallMs : undefined;
  return { fromMs: run.createdMs, toMs };
}

/**
 * The path and query, relative to Grafana's base URL, of the run dashboard on this run: its bench,
 * channel and run selected, its time range from a minute before it to a minute after it ended (or
 * the bench clock's now while it runs).
 */
export function runDashboardPath(
  run: { id: string; channel: string; bench: string },
  range: RunTimeRange,
  wallNowMs: number,
): string {
  const margin = 60_000;
  const query = new URLSearchParams({
    from: String(range.fromMs - margin),
    to: String((range.toMs ?? wallNowMs) + margin),
    "var-bench": run.bench,
    "var-channel": run.channel,
    "var-run": run.id,
  });
  return `/d/${RUN_DASHBOARD_UID}?${query.toString()}`;
}
