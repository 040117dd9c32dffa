/**
 * Capability interfaces: the only face of a device that src/ ever sees.
 *
 * Sign convention (Arbin): positive current and power = charge (into the cell), negative = discharge.
 * Units are SI with the unit in the name: V, A, W, °C, seconds or milliseconds as named.
 */
import type { Clock } from "./clock.js";

export type Chemistry = "li-ion-nmc" | "li-ion-lfp" | "asslb-sulfide";
export const CHEMISTRIES: readonly Chemistry[] = ["li-ion-nmc", "li-ion-lfp", "asslb-sulfide"];

/** The physical cell on a channel, as the lab describes it (DESIGN §5). */
export interface CellSpec {
  id: string;
  chemistry: Chemistry;
  capacityAh: number;
  /** [min, max] terminal voltage, V. */
  voltageV: [number, number];
  /** [min, max] current, A (min is negative: the largest discharge current). */
  currentA: [number, number];
  /** [min, max] cell temperature, °C. */
  temperatureC: [number, number];
  /** Largest current by cell temperature, linear between points (the datasheet's derating curve). */
  derating?: DeratingPoint[];
}

/** One point of a derating curve: magnitudes in A at a cell temperature, points by rising temperature. */
export interface DeratingPoint {
  temperatureC: number;
  chargeA: number;
  dischargeA: number;
}

/** One point of a current-versus-time profile; the value holds from `tS` until the next point. */
export interface ProfilePoint {
  tS: number;
  currentA: number;
}

/**
 * What a cycler channel is asked to do. Each mode carries the clamps a real instrument needs so
 * that no mode is ever applied unbounded.
 */
export type CyclerSetpoint =
  /** Output off / open circuit: the safe state. */
  | { mode: "rest" }
  /** Constant current; voltage is clamped to [minV, maxV] (the instrument's CV limit). */
  | { mode: "cc"; currentA: number; minV: number; maxV: number }
  /**
   * Constant voltage; the current stays within [-dischargeLimitA, +chargeLimitA]. Both limits are
   * magnitudes (≥ 0): a cell's charge limit is often a fraction of its discharge limit.
   */
  | { mode: "cv"; voltageV: number; chargeLimitA: number; dischargeLimitA: number }
  /** Constant current until `voltageV`, then constant voltage (one step, the instrument switches). */
  | { mode: "cccv"; currentA: number; voltageV: number }
  /** Constant power; voltage clamped to [minV, maxV]. */
  | { mode: "cp"; powerW: number; minV: number; maxV: number }
  /** Current versus time, starting when applied; holds the last point's value at the end. */
  | { mode: "profile"; points: ProfilePoint[]; minV: number; maxV: number };

export type CyclerMode = CyclerSetpoint["mode"];

export interface CyclerReading {
  voltageV: number;
  currentA: number;
  /** Cell (or channel sensor) temperature; NaN when the channel has no temperature sensor. */
  temperatureC: number;
}

/** Hardware ranges of a channel, for validation before anything touches hardware. */
export interface CyclerRanges {
  voltageV: [number, number];
  currentA: [number, number];
  powerW: number;
  /** Modes the channel can apply natively. */
  modes: readonly CyclerMode[];
}

export interface CyclerChannel {
  readonly id: string;
  readonly ranges: CyclerRanges;
  apply(setpoint: CyclerSetpoint): Promise<void>;
  read(): Promise<CyclerReading>;
  /** Puts the output into its safe state (off / rest). Idempotent: safe to call any number of times. */
  toSafeState(): Promise<void>;
  /**
   * Simulation only: mounts the cell a run names on this channel (a real channel's cell is
   * whatever the operator connected). Absent on real hardware.
   */
  mountCell?(cell: CellSpec): void;
}

export interface ChamberReading {
  temperatureC: number;
  setpointC: number;
  /** Heating (+) / cooling (-) output, %; NaN when the controller does not report it. */
  outputPct: number;
}

export interface ChamberRanges {
  temperatureC: [number, number];
}

export interface Chamber {
  readonly id: string;
  readonly ranges: ChamberRanges;
  setSetpoint(celsius: number): Promise<void>;
  read(): Promise<ChamberReading>;
  /** Stops active heating/cooling (standby, or set point to ambient). Idempotent. */
  toSafeState(): Promise<void>;
}

/** Why a temperature input has no valid value: the instrument's open-sensor or overload reading. */
export type TemperatureInputFault = "open" | "overload" | "out-of-range";

/** One temperature input's value in a scan, or why it has none. */
export type TemperatureInputReading =
  | { readonly ok: true; readonly temperatureC: number }
  | { readonly ok: false; readonly fault: TemperatureInputFault; readonly detail: string };

/**
 * The temperature inputs of a data-acquisition unit or input module (thermocouples, RTDs): one scan
 * reads every configured input at once, so one acquisition per sampling period serves them all.
 */
export interface TemperatureInputs {
  /** Input ids configured on the device, as the bench configuration names them ("101", "3"). */
  readonly inputs: readonly string[];
  /**
   * Reads every configured input once. A bad sensor is a reading with `ok: false`; a device that
   * does not answer (or answers garbage) rejects, like any other read.
   */
  scan(): Promise<ReadonlyMap<string, TemperatureInputReading>>;
}

/** A connected instrument: one cycler with channels, a chamber controller, temperature inputs, or several. */
export interface Device {
  readonly id: string;
  /** `vendor/model` as registered, e.g. `sim/cycler`, `watlow/f4`. */
  readonly driver: string;
  readonly channels: readonly CyclerChannel[];
  readonly chamber?: Chamber;
  readonly temperatureInputs?: TemperatureInputs;
  /** Opens the transport and checks the instrument's identity. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** A device entry of the bench configuration, as the driver receives it. */
export interface DeviceConfig {
  id: string;
  driver: string;
  /** Transport URL (`serial:///dev/...?baud=19200`, `tcp://host:502`); absent for simulated devices. */
  transport?: string;
  /** Channel ids this device provides, in order. */
  channels?: string[];
  /** Driver-specific options (fault knobs, cell for a simulated channel, unit ids, ...). */
  options?: Record<string, unknown>;
}

/**
 * A change in the link to a real instrument, as its driver sees it:
 * - `lost`: the transport dropped; the driver fails every command fast and its outputs are unknown.
 * - `unusable`: the link is back but the instrument could not be taken over again (wrong identity,
 *   remote control refused, no answer, ...); the driver keeps retrying. Reported once per outage, at
 *   the second failed attempt in a row: the first one after a replug often meets a settling line.
 * - `restored`: the instrument was identified again and is back in a known state (output off, or the
 *   chamber's last commanded state).
 */
export type LinkEvent =
  | { readonly kind: "lost"; readonly transport: string; readonly reason: string }
  | { readonly kind: "unusable"; readonly transport: string; readonly reason: string }
  | { readonly kind: "restored"; readonly transport: string };

/** Failed take-overs in a row after a reconnect before a driver reports `unusable`. */
export const UNUSABLE_AFTER_FAILURES = 2;

/** What the daemon hands a driver factory. */
export interface DriverContext {
  clock: Clock;
  /** Id of the device controlling the chamber a channel sits in, if any (simulated benches couple cell and air temperature). */
  chamberOfChannel(channelId: string): string | undefined;
  /** Called by drivers of real instruments on every link change after a successful connect(). */
  reportLink?(deviceId: string, event: LinkEvent): void;
}

export interface DriverInfo {
  /** `vendor/model`. */
  name: string;
  description: string;
  /** True for drivers that never touch hardware; only these may run at speed ≠ 1. */
  simulated: boolean;
  create(config: DeviceConfig, context: DriverContext): Device;
}
