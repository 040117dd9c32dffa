/**
 * Logging criteria (DESIGN §2, §4): a sample is logged when `everyS` has elapsed, or |ΔV| ≥ dV, or
 * |ΔI| ≥ dI, since the last logged sample. Step changes and terminal events are always logged (the
 * caller passes `force`). Criteria come from the profile and the step in effect; with none at all,
 * every sample is logged.
 */
import type { LogCriteria } from "../profile/ast.js";

/** The part of a sample the criteria look at. `tS` is monotonic seconds (test time), never wall time. */
export interface GateSample {
  tS: number;
  voltageV: number;
  currentA: number;
}

/** Tolerance on `everyS`: sample times are floating-point sums, so 0.1 + 0.2 must count as 0.3. */
const TIME_EPSILON_S = 1e-6;
/** Tolerance on dV and dI (1 nV, 1 nA: far below any instrument's resolution): 3.705 - 3.7 < 0.005 in floats. */
const VALUE_EPSILON = 1e-9;

/**
 * Decides, per channel, which samples are logged. Pure: no clock, no I/O.
 *
 * `samplingPeriodS` is the bench's sampling period: samples arrive on that grid give or take the
 * host's jitter, so `every` is met by a sample up to half a period early. Without that, `every:
 * 100 ms` at 100 ms sampling logs a sample that came 99.6 ms after the last one only 100 ms later,
 * and half the intervals become 200 ms.
 */
export class LogGate {
  private last: GateSample | undefined;
  private readonly earlyS: number;

  constructor(samplingPeriodS = 0) {
    this.earlyS = Math.max(TIME_EPSILON_S, samplingPeriodS / 2);
  }

  /**
   * Returns true when `sample` must be logged under `criteria`, and if so remembers it as the
   * last logged sample. `force` logs unconditionally (first sample of a step, terminal events).
   */
  admit(sample: GateSample, criteria: LogCriteria | undefined, force = false): boolean {
    if (force || this.last === undefined || this.due(sample, criteria)) {
      this.last = { tS: sample.tS, voltageV: sample.voltageV, currentA: sample.currentA };
      return true;
    }
    return false;
  }

  /** Forgets the last logged sample: the next one is logged whatever the criteria (new run, resume). */
  reset(): void {
    this.last = undefined;
  }

  private due(sample: GateSample, criteria: LogCriteria | undefined): boolean {
    const last = this.last as GateSample;
    const everyS = criteria?.everyS;
    const dV = criteria?.dV;
    const dI = criteria?.dI;
    if (everyS === undefined && dV === undefined && dI === undefined) return true;
    // Time going backwards cannot happen on a monotonic clock; if it does, logging is the safe answer.
    if (sample.tS < last.tS) return true;
    if (everyS !== undefined && sample.tS - last.tS >= everyS - this.earlyS) return true;
    if (dV !== undefined && Math.abs(sample.voltageV - last.voltageV) >= dV - VALUE_EPSILON) return true;
    if (dI !== undefined && Math.abs(sample.currentA - last.currentA) >= dI - VALUE_EPSILON) return true;
    return false;
  }
}

/**
 * Returns the criteria in effect for a step: the step's own `log` keys override the profile's, and a
 * step period (`(100 ms period)`) means "log every period" unless the step says otherwise.
 */
export function effectiveLogCriteria(
  profileLog: LogCriteria | undefined,
  step: { log?: LogCriteria; periodS?: number } | undefined,
): LogCriteria {
  const merged: LogCriteria = { ...profileLog };
  if (step?.periodS !== undefined) merged.everyS = step.periodS;
  if (step?.log?.everyS !== undefined) merged.everyS = step.log.everyS;
  if (step?.log?.dV !== undefined) merged.dV = step.log.dV;
  if (step?.log?.dI !== undefined) merged.dI = step.log.dI;
  return merged;
}
