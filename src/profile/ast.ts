/**
 * The parsed, normalised profile (DESIGN §4). Parsing turns YAML/JSON documents and step strings
 * into this tree; validation checks it against the cell and the bench; the run engine executes it.
 * All quantities are SI: seconds, volts, amps, watts, ohms, amp-hours, watt-hours, °C.
 */

/** What a charge/discharge step drives. C-rates resolve against the cell's capacity when a run starts. */
export type DriveValue =
  | { kind: "current"; amps: number }
  | { kind: "c-rate"; c: number }
  | { kind: "power"; watts: number }
  | { kind: "resistance"; ohms: number };

/** Comparison; absent means "the direction the step is heading" (see the engine's resolution rules). */
export type Comparison = "<" | ">";

/** A termination or limit condition. Current and C-rate compare magnitudes. */
export type Condition =
  | { kind: "voltage"; op?: Comparison; volts: number }
  | { kind: "current"; op?: Comparison; amps: number }
  | { kind: "c-rate"; op?: Comparison; c: number }
  /** Charge moved during the step (magnitude). */
  | { kind: "capacity"; op?: Comparison; ah: number }
  /** Energy moved during the step (magnitude). */
  | { kind: "energy"; op?: Comparison; wh: number }
  | { kind: "temperature"; op?: Comparison; celsius: number }
  /**
   * dV/dt in mV/s, over the step's recent samples; op is required. The magnitude of the slope is
   * compared (a cell relaxes up or down), unless `signed`: the threshold was written with a sign
   * ("dV/dt < -0.5 mV/s", "dV/dt > +0.1 mV/s") and the slope itself is compared.
   */
  | { kind: "dvdt"; op: Comparison; mvPerS: number; signed?: boolean };

export type Direction = "charge" | "discharge";

export type Action =
  | { kind: "rest" }
  /** Constant current, C-rate, power or resistance. */
  | { kind: "constant"; direction: Direction; value: DriveValue }
  /** CC-CV as one step: drive at `value` to `holdVolts`, then hold until a condition (usually C/n). */
  | { kind: "cccv"; direction: Direction; value: DriveValue; holdVolts: number }
  /** CV hold. */
  | { kind: "hold"; volts: number }
  /** Current (A) or power (W) versus time from a file; values are magnitudes applied in `direction`. */
  | { kind: "drive-cycle"; direction: Direction; file: string; unit: "A" | "W"; points: DriveCyclePoint[] };

export interface DriveCyclePoint {
  tS: number;
  value: number;
}

/** Ends a step when any condition holds (`or`), or after `durationS`, whichever first. */
export interface Termination {
  durationS?: number;
  conditions: Condition[];
}

export type LimitAction = { kind: "next" } | { kind: "abort" } | { kind: "goto"; label: string };

export interface StepLimit {
  when: Condition;
  then: LimitAction;
}

/** Logging criteria: log a sample when `everyS` elapsed or |ΔV| ≥ dV or |ΔI| ≥ dI since the last logged one. */
export interface LogCriteria {
  everyS?: number;
  dV?: number;
  dI?: number;
}

/** Voltage/current/temperature bounds ([min, max]) that fault the run when crossed. */
export interface SafetyLimits {
  voltageV?: [number, number];
  currentA?: [number, number];
  temperatureC?: [number, number];
}

interface NodeBase {
  /** Where the node sits in the document, e.g. `steps[3].steps[1]`. */
  path: string;
  label?: string;
  /** Human-readable text of the step (the original step string, or a rendering of the object). */
  text: string;
}

export interface StepNode extends NodeBase {
  type: "step";
  action: Action;
  termination: Termination;
  limits: StepLimit[];
  log?: LogCriteria;
  /** Sampling/logging period requested by `(100 ms period)`, seconds. */
  periodS?: number;
}

/** Sets the chamber and waits until it is within tolerance, then for the soak time. */
export interface ChamberNode extends NodeBase {
  type: "chamber";
  setpointC: number;
  soakS: number;
  toleranceC: number;
}

export interface RepeatNode extends NodeBase {
  type: "repeat";
  count: number;
  steps: ProfileNode[];
}

/** For each chamber temperature: set, wait for tolerance, soak, run `steps`. */
export interface SweepNode extends NodeBase {
  type: "sweep";
  chamberC: number[];
  soakS: number;
  toleranceC: number;
  steps: ProfileNode[];
}

export type ProfileNode = StepNode | ChamberNode | RepeatNode | SweepNode;

export interface Profile {
  name: string;
  description?: string;
  safety?: SafetyLimits;
  log?: LogCriteria;
  steps: ProfileNode[];
}
