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
  minTemperatureC: number;
  maxTemperatureC: number;
}
