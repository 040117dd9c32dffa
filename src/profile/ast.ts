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
  | { kind: "dvdt"; op: Comparison; mvPerS: number; signed?: boolean }
  /** The cell's state of charge estimate (0..1): start SOC plus net charge moved over the nominal capacity. */
  | { kind: "soc"; op?: Comparison; fraction: number }
  /**
   * Ends a repeat loop (its `until:`), never a step: the capacity of the cycle that just ended
   * compared with `fraction` of cycle `ofCycle`'s ("capacity < 80 % of cycle 1").
   */
  | { kind: "retention"; op: Comparison; fraction: number; ofCycle: number };

export type Direction = "charge" | "discharge";

export type Action =
  | { kind: "rest" }
  /** Constant current, C-rate, power or resistance. */
  | { kind: "constant"; direction: Direction; value: DriveValue }
  /** CC-CV as one step: drive at `value` to `holdVolts`, then hold until a condition (usually C/n). */
  | { kind: "cccv"; direction: Direction; value: DriveValue; holdVolts: number }
  /**
   * CV hold. `currentLimit` caps the current either way ("at most 1 A", "at most 0.5C"; never above
   * the drive window). With `toVolts` and `overS` the set point ramps linearly from `volts` to
   * `toVolts` over `overS` seconds ("Ramp voltage from 3.6 V to 4.1 V over 10 minutes").
   */
  | { kind: "hold"; volts: number; currentLimit?: DriveValue; toVolts?: number; overS?: number }
  /**
   * A current, C-rate or power set point moving linearly from `from` to `to` over `overS` seconds
   * (the step's duration): "Charge at 0.1C to 1C over 10 minutes". The ends are the same kind of
   * value (current and C-rate mix: both are amps); `from` may be zero.
   */
  | { kind: "ramp"; direction: Direction; from: DriveValue; to: DriveValue; overS: number }
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

/**
 * Loop variables usable as `{name}` in the step strings of a loop's body (see TemplateNode).
 * `counter` is the 1-based iteration; each list of `values` gives one value per iteration, as
 * written in the document (`"0.5C"`, `"3"`).
 */
export interface LoopVariables {
  counter?: string;
  values?: Record<string, string[]>;
}

interface LoopBase extends NodeBase {
  steps: ProfileNode[];
  variables?: LoopVariables;
  /**
   * Marks the loop's iterations as the run's cycles. When any loop of a profile is marked, only
   * marked loops' iterations are cycles; otherwise each iteration of an innermost loop is one.
   */
  cycle?: boolean;
}

/** Runs `steps` `count` times. A `sweep:` of loop values without a chamber is a repeat, too. */
export interface RepeatNode extends LoopBase {
  type: "repeat";
  count: number;
  /** Leaves the loop at the end of the first iteration after which any condition holds (retention). */
  until?: Condition[];
}

/** For each chamber temperature: set, wait for tolerance, soak, run `steps`. */
export interface SweepNode extends LoopBase {
  type: "sweep";
  chamberC: number[];
  soakS: number;
  toleranceC: number;
}

/**
 * A step whose string uses loop variables (`Discharge at {c} until 2.5 V`): the run cursor
 * instantiates it for each iteration (src/profile/loop-variables.ts) and validation checks every
 * instance before a run starts.
 */
export interface TemplateNode extends NodeBase {
  type: "template";
  /** The step string as written; `text` is the same. */
  template: string;
  limits: StepLimit[];
  log?: LogCriteria;
}

export type LoopNode = RepeatNode | SweepNode;

export type ProfileNode = StepNode | ChamberNode | RepeatNode | SweepNode | TemplateNode;

export interface Profile {
  name: string;
  description?: string;
  safety?: SafetyLimits;
  log?: LogCriteria;
  steps: ProfileNode[];
}
