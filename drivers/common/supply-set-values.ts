/**
 * How the EA PSB 10000 realises cellbench's set points, shared by `ea/psb-scpi` and `ea/psb-modbus`.
 *
 * The PSB is a voltage-priority two-quadrant supply (EA PSB 10000 operating manual, "Regulation
 * modes" and "Operation in sink mode"): one voltage set value U, a source current and power limit for
 * current out of the instrument (charging the cell), and a sink current and power limit for current
 * into it (discharging). With the cell below U it sources up to its source limits; above U it sinks up
 * to its sink limits; in between it holds U. So:
 *
 *   cc    charge  I>0: U = maxV (the clamp), I_source = I, I_sink = 0
 *   cc    disch.  I<0: U = minV (the clamp), I_source = 0, I_sink = |I|
 *   cccv  charge/discharge: U = the CV voltage, the same as cc with that voltage as clamp; the
 *         instrument switches from CC to CV by itself
 *   cv    U = V, I_source = the charge limit, I_sink = the discharge limit (both quadrants, each its own)
 *   cp    charge P>0: U = maxV, P_source = P, I_source = max; discharge: U = minV, P_sink = |P|, I_sink = max
 *
 * Unused limits stay at the channel's maxima (power) or zero (the other quadrant's current).
 */
import type { CyclerRanges } from "../capabilities.js";
import type { LevelSetpoint } from "./supervised-channel.js";

export interface SupplySetValues {
  voltageV: number;
  sourceCurrentA: number;
  sinkCurrentA: number;
  sourcePowerW: number;
  sinkPowerW: number;
}

export type SetValueName = keyof SupplySetValues;

/** Every set value, in the order they are written while the output is off. */
export const SET_VALUE_NAMES: readonly SetValueName[] = [
  "voltageV",
  "sourceCurrentA",
  "sinkCurrentA",
  "sourcePowerW",
  "sinkPowerW",
];

/** Returns the PSB set values that realise `setpoint` on a channel with `ranges`. */
export function supplySetValues(setpoint: LevelSetpoint, ranges: CyclerRanges): SupplySetValues {
  const maxSourceA = ranges.currentA[1];
  const maxSinkA = -ranges.currentA[0];
  const maxW = ranges.powerW;
  switch (setpoint.mode) {
    case "cc":
      return setpoint.currentA >= 0
        ? quadrant(setpoint.maxV, setpoint.currentA, 0, maxW, maxW)
        : quadrant(setpoint.minV, 0, -setpoint.currentA, maxW, maxW);
    case "cccv":
      return setpoint.currentA >= 0
        ? quadrant(setpoint.voltageV, setpoint.currentA, 0, maxW, maxW)
        : quadrant(setpoint.voltageV, 0, -setpoint.currentA, maxW, maxW);
    case "cv":
      return quadrant(setpoint.voltageV, setpoint.chargeLimitA, setpoint.dischargeLimitA, maxW, maxW);
    case "cp":
      return setpoint.powerW >= 0
        ? quadrant(setpoint.maxV, maxSourceA, 0, setpoint.powerW, maxW)
        : quadrant(setpoint.minV, 0, maxSinkA, maxW, -setpoint.powerW);
  }
}

function quadrant(
  voltageV: number,
  sourceCurrentA: number,
  sinkCurrentA: number,
  sourcePowerW: number,
  sinkPowerW: number,
): SupplySetValues {
  return { voltageV, sourceCurrentA, sinkCurrentA, sourcePowerW, sinkPowerW };
}

/**
 * Returns the writes that take the instrument from `previous` to `next`, skipping unchanged values.
 * While the output is live, every current or power limit that goes down is written first, then the
 * voltage, then the limits that go up: each intermediate state then drives no more current or power
 * in either quadrant than both the old and the new set point allow (a charge-to-discharge switch
 * passes through zero current instead of a moment of full current at the new voltage). With the
 * output off, or the previous values unknown, the order does not matter and every value is written.
 */
export function planSetValueWrites(
  previous: Partial<SupplySetValues> | undefined,
  next: SupplySetValues,
  outputOn: boolean,
  same: (name: SetValueName, a: number, b: number) => boolean = (_name, a, b) => a === b,
): Array<[SetValueName, number]> {
  const changed = SET_VALUE_NAMES.filter((name) => {
    const before = previous?.[name];
    return before === undefined || !same(name, before, next[name]);
  });
  if (!outputOn || previous === undefined) return changed.map((name) => [name, next[name]]);
  const limits = changed.filter((name) => name !== "voltageV");
  const lowered = limits.filter((name) => next[name] < (previous[name] as number));
  const raised = limits.filter((name) => !lowered.includes(name));
  const voltage: SetValueName[] = changed.includes("voltageV") ? ["voltageV"] : [];
  return [...lowered, ...voltage, ...raised].map((name) => [name, next[name]]);
}

/** Formats a set value for a command: at most 4 decimals, no trailing zeros (`4.2`, `0`, `1500`). */
export function formatSetValue(value: number): string {
  const text = String(Number(value.toFixed(4)));
  return text === "-0" ? "0" : text;
}
