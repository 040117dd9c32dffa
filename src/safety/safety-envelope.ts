import type { CellSpec } from "../../drivers/capabilities.js";
import type { SafetyLimits } from "../profile/ast.js";
import type { ChannelSample } from "../sampling/sample.js";

/**
 * The bounds a run's samples must stay within: the cell's envelope narrowed by the profile's
 * `safety` (tightest wins, DESIGN §6), widened only by measurement margins so that a cut-off
 * reached exactly (the cycler clamps at the cell window, the chamber holds the rated maximum) is
 * not mistaken for a violation.
 */
export interface SafetyEnvelope {
  voltageV: [number, number];
  currentA: [number, number];
  temperatureC: [number, number];
}

/** Voltage margin beyond the window before a sample counts as a violation (instrument accuracy class). */
export const VOLTAGE_MARGIN_V = 0.05;
/**
 * Temperature margin: the accuracy of a class 1 thermocouple (IEC 60584-1: ±0.5 °C below 125 °C,
 * with ±0.5 °C for the junction) — a cell soaking at its rated maximum warms a few tenths above the air.
 */
export const TEMPERATURE_MARGIN_C = 1;
/** Current margin: 2 % of the largest allowed current plus 10 mA. */
export const CURRENT_MARGIN_FRACTION = 0.02;
export const CURRENT_MARGIN_A = 0.01;

const tighter = (a: [number, number], b?: [number, number]): [number, number] =>
  b ? [Math.max(a[0], b[0]), Math.min(a[1], b[1])] : [a[0], a[1]];

export function safetyEnvelope(cell: CellSpec, safety?: SafetyLimits): SafetyEnvelope {
  return {
    voltageV: tighter(cell.voltageV, safety?.voltageV),
    currentA: tighter(cell.currentA, safety?.currentA),
    temperatureC: tighter(cell.temperatureC, safety?.temperatureC),
  };
}

/** Returns why the sample violates the envelope, or undefined when it is within it. */
export function safetyViolation(envelope: SafetyEnvelope, s: ChannelSample): string | undefined {
  const [vMin, vMax] = envelope.voltageV;
  if (!(s.voltageV >= vMin - VOLTAGE_MARGIN_V && s.voltageV <= vMax + VOLTAGE_MARGIN_V)) {
    return `voltage ${fmt(s.voltageV)} V outside ${vMin}..${vMax} V`;
  }
  const [iMin, iMax] = envelope.currentA;
  const margin = CURRENT_MARGIN_FRACTION * Math.max(Math.abs(iMin), Math.abs(iMax)) + CURRENT_MARGIN_A;
  if (!(s.currentA >= iMin - margin && s.currentA <= iMax + margin)) {
    return `current ${fmt(s.currentA)} A outside ${iMin}..${iMax} A`;
  }
  const [tMin, tMax] = envelope.temperatureC;
  // A channel without a temperature sensor reports NaN: nothing to check.
  if (
    !Number.isNaN(s.temperatureC) &&
    (s.temperatureC < tMin - TEMPERATURE_MARGIN_C || s.temperatureC > tMax + TEMPERATURE_MARGIN_C)
  ) {
    return `temperature ${fmt(s.temperatureC)} °C outside ${tMin}..${tMax} °C`;
  }
  return undefined;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);
}
