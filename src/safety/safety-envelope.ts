import type { CellSpec, DeratingPoint } from "../../drivers/capabilities.js";
import { temperatureWindows } from "../cell/cell.js";
import { deratedLimits } from "../cell/derating.js";
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
  /** Cell temperatures at which current may flow into the cell, and out of it (chemistry ∩ cell ∩ profile). */
  chargeTemperatureC: [number, number];
  dischargeTemperatureC: [number, number];
  /** The cell's derating curve (largest current by temperature), if it declares one. */
  derating?: readonly DeratingPoint[];
}

/**
 * What went wrong. `over-temperature` and `no-temperature` concern every cell around it (a hot or
 * unwatched cell in a chamber); the others concern the channel alone.
 */
export type ViolationKind =
  | "voltage"
  | "current"
  | "over-temperature"
  | "under-temperature"
  | "no-temperature"
  | "charge-window"
  | "discharge-window";

export interface Violation {
  kind: ViolationKind;
  reason: string;
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
  const windows = temperatureWindows(cell);
  return {
    voltageV: tighter(cell.voltageV, safety?.voltageV),
    currentA: tighter(cell.currentA, safety?.currentA),
    temperatureC: tighter(cell.temperatureC, safety?.temperatureC),
    chargeTemperatureC: tighter(windows.charge, safety?.temperatureC),
    dischargeTemperatureC: tighter(windows.discharge, safety?.temperatureC),
    ...(cell.derating ? { derating: cell.derating } : {}),
  };
}

/**
 * Current that counts as flowing in one direction: below it a reading is offset and noise (the
 * current margin at zero). A CV taper of 50 mA into a hot cell is still a charge.
 */
export const DIRECTION_DEADBAND_A = CURRENT_MARGIN_A;

/** Returns why the sample violates the envelope, or undefined when it is within it. */
export function safetyViolation(envelope: SafetyEnvelope, s: ChannelSample): string | undefined {
  return checkSample(envelope, s, { temperatureRequired: false })?.reason;
}

/**
 * Checks one sample against the envelope. The charge window applies while current flows into the
 * cell, the discharge window while it flows out, whatever the step says. `temperatureRequired`:
 * the run relies on a cell temperature (no override was given), so a missing one is a violation.
 */
export function checkSample(
  envelope: SafetyEnvelope,
  s: ChannelSample,
  options: { temperatureRequired: boolean },
): Violation | undefined {
  // Indexed, not destructured: array destructuring allocates an iterator per sample.
  const vMin = envelope.voltageV[0];
  const vMax = envelope.voltageV[1];
  if (!(s.voltageV >= vMin - VOLTAGE_MARGIN_V && s.voltageV <= vMax + VOLTAGE_MARGIN_V)) {
    return { kind: "voltage", reason: `voltage ${fmt(s.voltageV)} V outside ${vMin}..${vMax} V` };
  }
  const iMin = envelope.currentA[0];
  const iMax = envelope.currentA[1];
  const margin = currentMargin(envelope);
  if (!(s.currentA >= iMin - margin && s.currentA <= iMax + margin)) {
    return { kind: "current", reason: `current ${fmt(s.currentA)} A outside ${iMin}..${iMax} A` };
  }
  const t = s.temperatureC;
  if (Number.isNaN(t)) {
    // A configured sensor that fails is a fault whatever the run was started with.
    if (s.temperatureFault) return { kind: "no-temperature", reason: s.temperatureFault };
    return options.temperatureRequired
      ? { kind: "no-temperature", reason: "no cell temperature reading (sensor lost or missing)" }
      : undefined;
  }
  if (envelope.derating) {
    const limits = deratedLimits(envelope.derating, t);
    if (s.currentA > limits.chargeA + margin)
      return {
        kind: "current",
        reason: `current ${fmt(s.currentA)} A above the ${fmt(limits.chargeA)} A the cell may charge at ${fmt(t)} °C (derating)`,
      };
    if (-s.currentA > limits.dischargeA + margin)
      return {
        kind: "current",
        reason: `current ${fmt(s.currentA)} A beyond the ${fmt(limits.dischargeA)} A the cell may discharge at ${fmt(t)} °C (derating)`,
      };
  }
  const tMin = envelope.temperatureC[0];
  const tMax = envelope.temperatureC[1];
  if (t > tMax + TEMPERATURE_MARGIN_C)
    return {
      kind: "over-temperature",
      reason: `temperature ${fmt(t)} °C${atSensor(s)} outside ${tMin}..${tMax} °C`,
    };
  if (t < tMin - TEMPERATURE_MARGIN_C)
    return {
      kind: "under-temperature",
      reason: `temperature ${fmt(t)} °C${atSensor(s)} outside ${tMin}..${tMax} °C`,
    };
  if (s.currentA > DIRECTION_DEADBAND_A && outside(t, envelope.chargeTemperatureC)) {
    const [lo, hi] = envelope.chargeTemperatureC;
    return {
      kind: "charge-window",
      reason: `charging at ${fmt(t)} °C${atSensor(s)}, outside the cell's ${lo}..${hi} °C charge window`,
    };
  }
  if (s.currentA < -DIRECTION_DEADBAND_A && outside(t, envelope.dischargeTemperatureC)) {
    const [lo, hi] = envelope.dischargeTemperatureC;
    return {
      kind: "discharge-window",
      reason: `discharging at ${fmt(t)} °C${atSensor(s)}, outside the cell's ${lo}..${hi} °C discharge window`,
    };
  }
  return undefined;
}

/** Current beyond a limit that still counts as measurement error: 2 % of the largest allowed current + 10 mA. */
export function currentMargin(envelope: SafetyEnvelope): number {
  const iMin = envelope.currentA[0];
  const iMax = envelope.currentA[1];
  return CURRENT_MARGIN_FRACTION * Math.max(Math.abs(iMin), Math.abs(iMax)) + CURRENT_MARGIN_A;
}

/** True when `t` is outside `window` by more than the sensor margin. */
export function outside(t: number, window: [number, number]): boolean {
  return t < window[0] - TEMPERATURE_MARGIN_C || t > window[1] + TEMPERATURE_MARGIN_C;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);
}

/** " at sensor daq1:102": the configured sensor the sample's temperature came from (its hottest), if any. */
function atSensor(s: ChannelSample): string {
  const entries = Object.entries(s.temperaturesC ?? {});
  if (entries.length === 0) return "";
  const [name] = entries.reduce((hot, e) => (e[1] > hot[1] ? e : hot));
  return ` at sensor ${name}`;
}
