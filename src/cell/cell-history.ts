/**
 * A cell's history across runs and channels: its runs, cycles, charge throughput and capacity.
 * Built from the runs' own events (state changes and completed cycles), so each change is a small,
 * rare write. Totals per run are the run's own counters (restored from its checkpoint after a
 * restart), so the history never counts a run's Ah twice; a cycle is counted once per run and index,
 * so a cycle repeated after a crash (its completion logged, its checkpoint not yet) counts once.
 */
import type { CycleRecord, RunState } from "../run/records.js";

export interface CellRunEntry {
  run: string;
  channel: string;
  state: RunState;
  /** When the cell's history first saw the run (bench clock, ms). */
  startedMs: number;
  /** Cycles the run completed. */
  cycles: number;
  /** Highest cycle index counted (cycle events at or below it are repeats). */
  lastCycleIndex: number;
  chargeAh: number;
  dischargeAh: number;
}

export interface CellHistory {
  runs: CellRunEntry[];
  /** Discharge capacity of the cell's first cycle that discharged anything, Ah (for retention). */
  firstDischargeAh: number | null;
  /** Discharge capacity of its latest such cycle, Ah. */
  lastDischargeAh: number | null;
  lastCycleMs: number | null;
  /**
   * Runs of a cell with the same id that were under way when this one was registered: they ran an
   * inline cell (whose limits may differ), so they are not its history.
   */
  otherRuns: string[];
}

export interface RunTotals {
  chargeAh: number;
  dischargeAh: number;
}

/** What the history adds up to. */
export interface CellHistorySummary {
  runCount: number;
  cycleCount: number;
  chargeAh: number;
  dischargeAh: number;
  firstDischargeAh: number | null;
  lastDischargeAh: number | null;
  /** lastDischargeAh / firstDischargeAh; null before two numbers exist. */
  capacityRetention: number | null;
  lastCycleMs: number | null;
  lastChannel: string | null;
}

export function emptyHistory(): CellHistory {
  return { runs: [], firstDischargeAh: null, lastDischargeAh: null, lastCycleMs: null, otherRuns: [] };
}

/**
 * Notes a run's state (a run seen for the first time is added). Returns true when the history
 * changed (and should be saved).
 */
export function noteRunState(
  history: CellHistory,
  run: { id: string; channel: string },
  state: RunState,
  tWallMs: number,
  totals: RunTotals | undefined,
): boolean {
  let entry = history.runs.find((r) => r.run === run.id);
  if (!entry) {
    entry = {
      run: run.id,
      channel: run.channel,
      state,
      startedMs: tWallMs,
      cycles: 0,
      lastCycleIndex: 0,
      chargeAh: 0,
      dischargeAh: 0,
    };
    history.runs.push(entry);
    if (totals) setTotals(entry, totals);
    return true;
  }
  const changed = entry.state !== state || (totals !== undefined && differs(entry, totals));
  entry.state = state;
  if (totals) setTotals(entry, totals);
  return changed;
}

/** Counts a completed cycle of a run (once per cycle index). Returns true when the history changed. */
export function noteCycle(history: CellHistory, cycle: CycleRecord, totals: RunTotals | undefined): boolean {
  let entry = history.runs.find((r) => r.run === cycle.run);
  if (!entry) {
    noteRunState(history, { id: cycle.run, channel: cycle.channel }, "running", cycle.tWallMs, undefined);
    entry = history.runs[history.runs.length - 1] as CellRunEntry;
  }
  if (cycle.cycleIndex <= entry.lastCycleIndex) return false;
  entry.lastCycleIndex = cycle.cycleIndex;
  entry.cycles++;
  if (totals) setTotals(entry, totals);
  if (cycle.dischargeAh > 0 && Number.isFinite(cycle.dischargeAh)) {
    history.firstDischargeAh ??= cycle.dischargeAh;
    history.lastDischargeAh = cycle.dischargeAh;
  }
  history.lastCycleMs = cycle.tWallMs;
  return true;
}

/**
 * Sums the history. `live` gives the current totals of runs still under way (their entries hold
 * the totals of their latest event).
 */
export function summarize(
  history: CellHistory,
  live: (run: string) => RunTotals | undefined = () => undefined,
): CellHistorySummary {
  let cycleCount = 0;
  let chargeAh = 0;
  let dischargeAh = 0;
  for (const entry of history.runs) {
    const totals = isEnded(entry.state) ? undefined : live(entry.run);
    cycleCount += entry.cycles;
    chargeAh += totals?.chargeAh ?? entry.chargeAh;
    dischargeAh += totals?.dischargeAh ?? entry.dischargeAh;
  }
  const { firstDischargeAh, lastDischargeAh } = history;
  return {
    runCount: history.runs.length,
    cycleCount,
    chargeAh,
    dischargeAh,
    firstDischargeAh,
    lastDischargeAh,
    capacityRetention:
      firstDischargeAh !== null && lastDischargeAh !== null ? lastDischargeAh / firstDischargeAh : null,
    lastCycleMs: history.lastCycleMs,
    lastChannel: history.runs[history.runs.length - 1]?.channel ?? null,
  };
}

const ENDED: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

/** True for the states a run never leaves. */
export function isEnded(state: RunState): boolean {
  return ENDED.has(state);
}

/** Run counters only grow; an older total (an event delivered late) never lowers them. */
function setTotals(entry: CellRunEntry, totals: RunTotals): void {
  if (Number.isFinite(totals.chargeAh)) entry.chargeAh = Math.max(entry.chargeAh, totals.chargeAh);
  if (Number.isFinite(totals.dischargeAh))
    entry.dischargeAh = Math.max(entry.dischargeAh, totals.dischargeAh);
}

function differs(entry: CellRunEntry, totals: RunTotals): boolean {
  return totals.chargeAh > entry.chargeAh || totals.dischargeAh > entry.dischargeAh;
}
