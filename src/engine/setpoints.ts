import type { CellSpec, CyclerRanges, CyclerSetpoint } from "../../drivers/capabilities.js";
import type { CurrentLimits } from "../cell/derating.js";
import type { Action, Direction, DriveValue } from "../profile/ast.js";

/**
 * The window a channel is clamped to while a run drives it: the tightest of the channel's hardware
 * ranges, the cell (already within its chemistry's envelope) and the profile's `safety` (DESIGN §6).
 * Current limits keep their direction: a cell may take far less charge current than it gives.
 */
export interface DriveWindow {
  minV: number;
  maxV: number;
  /** Largest current into the cell, A (≥ 0). */
  chargeLimitA: number;
  /** Largest current out of the cell, as a magnitude, A (≥ 0). */
  dischargeLimitA: number;
}

/** Intersects the channel's ranges (when given), the cell's envelope and the profile's safety limits. */
export function driveWindow(
  cell: CellSpec,
  safety?: { voltageV?: [number, number]; currentA?: [number, number] },
  ranges?: Pick<CyclerRanges, "currentA">,
): DriveWindow {
  const minV = Math.max(cell.voltageV[0], safety?.voltageV?.[0] ?? Number.NEGATIVE_INFINITY);
  const maxV = Math.min(cell.voltageV[1], safety?.voltageV?.[1] ?? Number.POSITIVE_INFINITY);
  const tiers = [cell.currentA, safety?.currentA, ranges?.currentA].filter(
    (r): r is [number, number] => r !== undefined,
  );
  return {
    minV,
    maxV,
    chargeLimitA: Math.max(0, Math.min(...tiers.map((r) => r[1]))),
    dischargeLimitA: Math.max(0, Math.min(...tiers.map((r) => -r[0]))),
  };
}

/** The window with its current limits narrowed to a derating curve's at the cell's temperature now. */
export function deratedWindow(window: DriveWindow, limits: CurrentLimits): DriveWindow {
  // Rounded down to 10 mA: a limit that creeps with temperature is not rewritten to the instrument every sample.
  const floor = (a: number) => Math.floor(a * 100) / 100;
  return {
    ...window,
    chargeLimitA: Math.min(window.chargeLimitA, floor(limits.chargeA)),
    dischargeLimitA: Math.min(window.dischargeLimitA, floor(limits.dischargeA)),
  };
}

/** The current limit of one direction, A (≥ 0). */
function limitOf(window: DriveWindow, direction: Direction): number {
  return direction === "charge" ? window.chargeLimitA : window.dischargeLimitA;
}

const sign = (direction: Direction): number => (direction === "charge" ? 1 : -1);

/** Current magnitude of a C-rate or current value; undefined for power and resistance. */
export function currentOf(value: DriveValue, capacityAh: number): number | undefined {
  if (value.kind === "current") return Math.abs(value.amps);
  if (value.kind === "c-rate") return Math.abs(value.c) * capacityAh;
  return undefined;
}

/** Current magnitude of a value ramps move (current, C-rate: A) or power (W), by its kind. */
function rampMagnitude(value: DriveValue, capacityAh: number): number {
  return value.kind === "power" ? Math.abs(value.watts) : (currentOf(value, capacityAh) ?? 0);
}

/**
 * Where a linear ramp from `from` to `to` over `overS` is at `elapsedS`: at `from` before it starts,
 * at `to` from its end on. Rounded to a thousandth of the unit (1 mA, 1 mV, 1 mW) so that samples
 * closer together than that give the same set point and the engine does not rewrite it.
 */
export function rampValue(from: number, to: number, overS: number, elapsedS: number): number {
  const f = overS > 0 ? Math.min(1, Math.max(0, elapsedS / overS)) : 1;
  const value = from + (to - from) * f;
  const rounded = Math.round(value * 1000) / 1000;
  // Rounding never leaves the ramp's span.
  return Math.min(Math.max(rounded, Math.min(from, to)), Math.max(from, to));
}

/**
 * Whether an action's set point changes during its step (so the engine re-evaluates it each sample):
 * resistance steps (with the voltage), power drive cycles (with time) and ramps.
 */
export function changesDuringStep(action: Action): boolean {
  switch (action.kind) {
    case "constant":
      return action.value.kind === "resistance";
    case "drive-cycle":
      return action.unit === "W";
    case "ramp":
      return true;
    case "hold":
      return action.toVolts !== undefined;
    default:
      return false;
  }
}

/**
 * Returns the set point for an action at a given moment. Most actions give the same set point for
 * the whole step; resistance steps, power drive cycles and ramps depend on the moment (`voltageV`,
 * `stepElapsedS`), so the engine re-evaluates them every sample and applies only changes.
 */
export function setpointFor(
  action: Action,
  cell: CellSpec,
  window: DriveWindow,
  now: { voltageV: number; stepElapsedS: number },
): CyclerSetpoint {
  const { minV, maxV } = window;
  switch (action.kind) {
    case "rest":
      return { mode: "rest" };
    case "hold": {
      // The hold's own limit ("at most 1 A") narrows the window's either way; tightest wins.
      const own = action.currentLimit ? currentOf(action.currentLimit, cell.capacityAh) : undefined;
      const cap = own ?? Number.POSITIVE_INFINITY;
      const voltageV =
        action.toVolts !== undefined && action.overS !== undefined
          ? rampValue(action.volts, action.toVolts, action.overS, now.stepElapsedS)
          : action.volts;
      return {
        mode: "cv",
        voltageV,
        chargeLimitA: Math.min(window.chargeLimitA, cap),
        dischargeLimitA: Math.min(window.dischargeLimitA, cap),
      };
    }
    case "ramp": {
      const s = sign(action.direction);
      const at = rampValue(
        rampMagnitude(action.from, cell.capacityAh),
        rampMagnitude(action.to, cell.capacityAh),
        action.overS,
        now.stepElapsedS,
      );
      if (action.to.kind === "power") return { mode: "cp", powerW: s * at, minV, maxV };
      return { mode: "cc", currentA: s * Math.min(at, limitOf(window, action.direction)), minV, maxV };
    }
    case "cccv": {
      const amps = currentOf(action.value, cell.capacityAh);
      if (amps === undefined) throw new Error("CC-CV needs a current or C-rate");
      const limited = Math.min(amps, limitOf(window, action.direction));
      return { mode: "cccv", currentA: sign(action.direction) * limited, voltageV: action.holdVolts };
    }
    case "constant": {
      const value = action.value;
      const s = sign(action.direction);
      if (value.kind === "power") return { mode: "cp", powerW: s * Math.abs(value.watts), minV, maxV };
      if (value.kind === "resistance") {
        const amps = Math.min(Math.abs(now.voltageV) / value.ohms, limitOf(window, action.direction));
        return { mode: "cc", currentA: s * amps, minV, maxV };
      }
      const amps = Math.min(currentOf(value, cell.capacityAh) as number, limitOf(window, action.direction));
      return { mode: "cc", currentA: s * amps, minV, maxV };
    }
    case "drive-cycle": {
      const s = sign(action.direction);
      if (action.unit === "A") {
        // The channel follows the whole trace itself; on resume the trace continues where it stopped.
        const points = action.points
          .filter((_p, i, all) => (all[i + 1]?.tS ?? Number.POSITIVE_INFINITY) > now.stepElapsedS)
          .map((p) => ({ tS: Math.max(0, p.tS - now.stepElapsedS), currentA: s * p.value }));
        return { mode: "profile", points, minV, maxV };
      }
      return { mode: "cp", powerW: s * valueAt(action.points, now.stepElapsedS), minV, maxV };
    }
  }
}

/** Piecewise-constant value of a time series at `tS`. */
function valueAt(points: { tS: number; value: number }[], tS: number): number {
  // Binary search for the last point at or before tS: this runs on every sample of the step.
  let lo = 0;
  let hi = points.length - 1;
  if (hi < 0) return 0;
  if ((points[0] as { tS: number }).tS > tS) return (points[0] as { value: number }).value;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((points[mid] as { tS: number }).tS <= tS) lo = mid;
    else hi = mid - 1;
  }
  return (points[lo] as { value: number }).value;
}

/** True when two set points command the same thing (so re-applying can be skipped). */
export function sameSetpoint(a: CyclerSetpoint | undefined, b: CyclerSetpoint): boolean {
  if (!a || a.mode !== b.mode) return false;
  if (a.mode === "profile" || b.mode === "profile") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Length of a drive cycle in seconds (its last point's time). */
export function driveCycleDurationS(action: Action): number | undefined {
  if (action.kind !== "drive-cycle") return undefined;
  return action.points[action.points.length - 1]?.tS;
}
