/**
 * Drive cycles as CSV: two columns, time (s) and current (A), or power (W) when the header says so.
 *
 *   # UDDS-like trace for an 18650        <- lines starting with # are comments
 *   time_s,current_A                      <- optional header; "power_W" (or "power [W]") selects power
 *   0,0
 *   1,0.35
 *
 * Values are signed in the step's direction: in "Discharge following x.csv" a positive value
 * discharges and a negative one charges (regenerative braking), as PyBaMM's positive = discharge.
 * Headerless files (PyBaMM's US06.csv) are current in A. Times start at 0 and increase.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { formatNumber } from "../format-number.js";
import type { DriveCyclePoint } from "./ast.js";

export interface DriveCycleTrace {
  unit: "A" | "W";
  points: DriveCyclePoint[];
}

/** A malformed drive-cycle file; the message names the line and what to change. */
export class DriveCycleCsvError extends CellbenchError {
  constructor(message: string) {
    super("DRIVE_CYCLE_INVALID", message);
  }
}

/** Splits on commas, semicolons or tabs; on runs of spaces only when there are none of those. */
function splitCells(line: string): string[] {
  return (/[,;\t]/.test(line) ? line.split(/[,;\t]/) : line.split(/\s+/)).map((c) => c.trim());
}

/** Parses a drive-cycle CSV; throws DriveCycleCsvError. */
export function parseDriveCycleCsv(text: string): DriveCycleTrace {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let unit: "A" | "W" = "A";
  let timeScale = 1;
  let valueScale = 1;
  let sawHeader = false;
  const points: DriveCyclePoint[] = [];
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = splitCells(line);
    const numeric = cells.every((c) => c !== "" && Number.isFinite(Number(c)));
    if (!numeric) {
      if (sawHeader || points.length > 0) {
        throw new DriveCycleCsvError(
          `line ${lineNo}: "${line}" is not two numbers; rows are "time_s,value" (a header is allowed only before the first row)`,
        );
      }
      if (cells.length !== 2) {
        throw new DriveCycleCsvError(
          `line ${lineNo}: the header "${line}" has ${cells.length} columns; write two, e.g. "time_s,current_A"`,
        );
      }
      sawHeader = true;
      timeScale = timeColumnScale(cells[0] as string, lineNo);
      ({ unit, scale: valueScale } = valueColumnUnit(cells[1] as string, lineNo));
      continue;
    }
    if (cells.length !== 2) {
      throw new DriveCycleCsvError(`line ${lineNo}: expected 2 columns (time, value), found ${cells.length}`);
    }
    const tS = Number(cells[0]) * timeScale;
    const value = Number(cells[1]) * valueScale;
    const previous = points[points.length - 1];
    if (previous === undefined && tS !== 0) {
      throw new DriveCycleCsvError(
        `line ${lineNo}: the first time is ${cells[0]}; a drive cycle starts at time 0`,
      );
    }
    if (previous !== undefined && !(tS > previous.tS)) {
      throw new DriveCycleCsvError(
        `line ${lineNo}: time ${cells[0]} is not after ${formatNumber(previous.tS / timeScale, { maxDecimals: 6 })}; times must increase`,
      );
    }
    points.push({ tS, value });
  }
  if (points.length < 2) {
    throw new DriveCycleCsvError(
      `has ${points.length} data rows; a drive cycle needs at least 2 (time, value) rows`,
    );
  }
  return { unit, points };
}

/** Unit named in a header cell: `current_A`, `current [mA]`, `power (W)`, `P_W`. */
function headerUnit(cell: string): string | undefined {
  const bracketed = /[[(]\s*([A-Za-z]+)\s*[\])]/.exec(cell);
  if (bracketed) return bracketed[1];
  const suffix = /[_\s/]([A-Za-z]+)$/.exec(cell.trim());
  return suffix?.[1];
}

function timeColumnScale(cell: string, lineNo: number): number {
  const unit = headerUnit(cell)?.toLowerCase();
  if (unit === undefined || unit === "s" || unit === "sec" || unit === "seconds") return 1;
  if (unit === "ms") return 0.001;
  throw new DriveCycleCsvError(
    `line ${lineNo}: the time column "${cell}" is in "${unit}"; use seconds (time_s) or ms`,
  );
}

function valueColumnUnit(cell: string, lineNo: number): { unit: "A" | "W"; scale: number } {
  const unit = headerUnit(cell);
  switch (unit?.toLowerCase()) {
    case "a":
      return { unit: "A", scale: 1 };
    case "ma":
      return { unit: "A", scale: 0.001 };
    case "w":
      return { unit: "W", scale: 1 };
    case "mw":
      return { unit: "W", scale: 0.001 };
  }
  const name = cell.toLowerCase();
  if (unit === undefined && /^(current|i)$/.test(name)) return { unit: "A", scale: 1 };
  if (unit === undefined && /^(power|p)$/.test(name)) return { unit: "W", scale: 1 };
  throw new DriveCycleCsvError(
    `line ${lineNo}: the value column "${cell}" names neither a current (A, mA) nor a power (W, mW); write e.g. "current_A" or "power_W"`,
  );
}

/**
 * Repeats a trace end to end until it covers `durationS` (PyBaMM loops a drive cycle that is
 * shorter than the step), keeping the points up to `durationS`. Each repetition lasts the trace
 * plus its last interval, so the last value holds for one sample before the next repetition.
 */
export function loopTrace(
  points: DriveCyclePoint[],
  durationS: number,
  maxPoints: number,
): DriveCyclePoint[] {
  const last = points[points.length - 1] as DriveCyclePoint;
  if (durationS <= last.tS) return points;
  const lastInterval = last.tS - (points[points.length - 2] as DriveCyclePoint).tS;
  const period = last.tS + lastInterval;
  const out: DriveCyclePoint[] = [];
  for (let offset = 0; offset <= durationS; offset += period) {
    for (const p of points) {
      const tS = offset + p.tS;
      if (tS > durationS) return out;
      if (out.length >= maxPoints) {
        throw new DriveCycleCsvError(
          `looping it for ${durationS} s would need more than the ${maxPoints} points a profile may still hold; shorten the "for" duration and loop with repeat: instead`,
        );
      }
      out.push({ tS, value: p.value });
    }
  }
  return out;
}
