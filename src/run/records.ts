/**
 * What the daemon records, independent of how it is stored. The line-protocol encoder turns these
 * into InfluxDB points (DESIGN §3); the live stream and the export read the same shapes.
 * Current and power: positive = charge.
 */

/** One logged cell sample, enriched by the run engine. */
export interface CellRecord {
  channel: string;
  run: string;
  cell: string;
  /** UTC epoch milliseconds (InfluxDB timestamp). */
  tWallMs: number;
  /** Monotonic seconds since the run started (pauses included). */
  testTimeS: number;
  /** Seconds since the current step started (pauses excluded). */
  stepTimeS: number;
  voltageV: number;
  currentA: number;
  temperatureC: number;
  /** Each configured sensor on the cell, by `device:input` (temperatureC is the hottest). */
  sensorsC?: Record<string, number>;
  powerW: number;
  /** Charge into the cell since the run started, Ah (≥ 0). */
  chargeAh: number;
  /** Charge out of the cell since the run started, Ah (≥ 0). */
  dischargeAh: number;
  chargeWh: number;
  dischargeWh: number;
  /** Counts every step started in this run, from 1. */
  stepIndex: number;
  /** Counts completed outer loops, from 0 (DESIGN §4). */
  cycleIndex: number;
}

export interface ChamberRecord {
  chamber: string;
  tWallMs: number;
  temperatureC: number;
  setpointC: number;
  outputPct: number;
  /** The chamber's extra sensors, by `device:input`. */
  sensorsC?: Record<string, number>;
}

export type RunState =
  | "queued"
  | "running"
  | "paused"
  | "completed"
  | "stopped"
  | "aborted"
  | "faulted"
  | "interrupted";

export interface RunEventRecord {
  channel: string;
  run: string;
  tWallMs: number;
  state: RunState;
  /** Why the state changed (fault reason, limit that fired, "stopped by operator"); empty when obvious. */
  reason: string;
  stepIndex: number;
}

/**
 * One cycle: an iteration of a cycle loop (a loop marked `cycle: true`, else an innermost loop).
 * Steps outside cycle loops belong to no cycle; their step records carry cycle index 0.
 */
export interface CycleRecord {
  channel: string;
  run: string;
  cell: string;
  tWallMs: number;
  cycleIndex: number;
  chargeAh: number;
  dischargeAh: number;
  chargeWh: number;
  dischargeWh: number;
  /** dischargeAh / chargeAh of this cycle; NaN when nothing was charged. */
  coulombicEfficiency: number;
  /** dischargeWh / chargeWh of this cycle; NaN when nothing was charged. */
  energyEfficiency: number;
  /** dischargeAh / the discharge capacity of the cell's first cycle; NaN until one is known. */
  capacityRetention: number;
  minTemperatureC: number;
  maxTemperatureC: number;
}

/** What a step did, for the `step` measurement (Step Type in BDF terms). */
export type StepType =
  | "rest"
  | "chamber"
  | "cc_charge"
  | "cc_discharge"
  | "cp_charge"
  | "cp_discharge"
  | "cr_discharge"
  | "cr_charge"
  | "cccv_charge"
  | "cccv_discharge"
  | "cv"
  | "ramp"
  | "drive_cycle";

/** The seconds into a pulse step at which its DC internal resistance is taken. */
export const DCIR_TIMES_S = [0.1, 1, 10] as const;

/** One completed step. Ah and Wh moved during the step, magnitudes ≥ 0. */
export interface StepRecord {
  channel: string;
  run: string;
  cell: string;
  /** When the step ended (UTC epoch ms). */
  tWallMs: number;
  stepIndex: number;
  /** The cycle the step belongs to; 0 for steps outside cycle loops. */
  cycleIndex: number;
  /**
   * The step's number in the profile (depth first from 1, as a cycler's schedule numbers its steps):
   * the same for every iteration of a loop — BDF's Step ID, where stepIndex is its Step Count.
   */
  stepId: number;
  path: string;
  type: StepType;
  /** Its termination or limit, or why the run ended during it. */
  endReason: string;
  durationS: number;
  chargeAh: number;
  dischargeAh: number;
  chargeWh: number;
  dischargeWh: number;
  /** The last reading before the step began (the run's first step: its own first reading). */
  startVoltageV: number;
  endVoltageV: number;
  maxTemperatureC: number;
  /**
   * ΔV/ΔI from the reading before the step to its first reading at or after 0.1, 1 and 10 s (never
   * later than 1.5 times that), in ohms; only for constant-current steps that change the current.
   */
  dcirOhm: { s0p1?: number; s1?: number; s10?: number };
}
