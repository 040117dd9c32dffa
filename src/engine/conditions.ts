import type { CellSpec } from "../../drivers/capabilities.js";
import { ocvCurve, socAtOcv } from "../../drivers/sim/ocv-curves.js";
import type { Comparison, Condition, Direction, ProfileNode } from "../profile/ast.js";
import type { ChannelSample } from "../sampling/sample.js";

/** What conditions are evaluated against: the latest sample plus step-level accumulations. */
export interface ConditionInputs {
  voltageV: number;
  currentA: number;
  temperatureC: number;
  /** Charge moved in this step, magnitude, Ah. */
  stepAh: number;
  stepWh: number;
  /** dV/dt over the recent window, mV/s; undefined until the window holds enough history. */
  dvdtMvPerS: number | undefined;
  /** The cell's state of charge estimate (0..1, see socEstimate); undefined when the run has none. */
  soc: number | undefined;
}

/** A condition with its comparison fixed and its threshold in SI units, ready to test samples. */
export interface ResolvedCondition {
  source: Condition;
  op: Comparison;
  threshold: number;
  measure: (x: ConditionInputs) => number | undefined;
}

/**
 * Fixes each condition's comparison. Explicit `<`/`>` wins. Otherwise: currents and C-rates fall
 * below (a CV hold tapering); charge and energy rise above; voltage rises on charge and falls on
 * discharge; temperature (and voltage during rest/hold) crosses from the side of the step's first
 * sample, so `Rest until 3.6 V` works whether the cell relaxes up or down.
 */
export function resolveCondition(
  condition: Condition,
  context: { direction: Direction | undefined; capacityAh: number; first: ConditionInputs },
): ResolvedCondition {
  const crossFrom = (value: number, threshold: number): Comparison => (value < threshold ? ">" : "<");
  switch (condition.kind) {
    case "voltage": {
      const op =
        condition.op ??
        (context.direction === "charge"
          ? ">"
          : context.direction === "discharge"
            ? "<"
            : crossFrom(context.first.voltageV, condition.volts));
      return { source: condition, op, threshold: condition.volts, measure: (x) => x.voltageV };
    }
    case "current":
      return {
        source: condition,
        op: condition.op ?? "<",
        threshold: condition.amps,
        measure: (x) => Math.abs(x.currentA),
      };
    case "c-rate":
      return {
        source: condition,
        op: condition.op ?? "<",
        threshold: condition.c * context.capacityAh,
        measure: (x) => Math.abs(x.currentA),
      };
    case "capacity":
      return {
        source: condition,
        op: condition.op ?? ">",
        threshold: condition.ah,
        measure: (x) => x.stepAh,
      };
    case "energy":
      return {
        source: condition,
        op: condition.op ?? ">",
        threshold: condition.wh,
        measure: (x) => x.stepWh,
      };
    case "soc": {
      // Like voltage: SOC rises on charge, falls on discharge, otherwise crosses from where it starts.
      const first = context.first.soc;
      const op =
        condition.op ??
        (context.direction === "charge"
          ? ">"
          : context.direction === "discharge"
            ? "<"
            : first === undefined
              ? "<"
              : crossFrom(first, condition.fraction));
      return { source: condition, op, threshold: condition.fraction, measure: (x) => x.soc };
    }
    case "retention":
      // Ends loops, not steps (validation refuses it in a step): the engine evaluates it per cycle.
      return { source: condition, op: condition.op, threshold: condition.fraction, measure: () => undefined };
    case "temperature":
      return {
        source: condition,
        op: condition.op ?? crossFrom(context.first.temperatureC, condition.celsius),
        threshold: condition.celsius,
        measure: (x) => x.temperatureC,
      };
    case "dvdt": {
      // Without a written sign the slope's magnitude counts: a rest after a charge relaxes downward
      // (dV/dt < 0), and "until dV/dt < 0.0017 mV/s" means "until it has settled".
      const signed = signedSlope(condition);
      return {
        source: condition,
        op: condition.op,
        threshold: condition.mvPerS,
        measure: (x) => (signed || x.dvdtMvPerS === undefined ? x.dvdtMvPerS : Math.abs(x.dvdtMvPerS)),
      };
    }
  }
}

/**
 * Whether a dV/dt condition compares the slope itself. A negative threshold was written with its sign
 * even where the flag is missing (runs stored before it existed): a magnitude is never below it.
 */
function signedSlope(c: Extract<Condition, { kind: "dvdt" }>): boolean {
  return c.signed === true || c.mvPerS < 0;
}

/** True when the condition holds for these inputs (reaching the threshold counts). */
export function conditionMet(c: ResolvedCondition, x: ConditionInputs): boolean {
  const value = c.measure(x);
  if (value === undefined || Number.isNaN(value)) return false;
  return c.op === ">" ? value >= c.threshold : value <= c.threshold;
}

/** Renders a condition for events and logs, e.g. `voltage ≤ 2.5 V`. */
export function describeCondition(c: ResolvedCondition): string {
  const op = c.op === ">" ? "≥" : "≤";
  switch (c.source.kind) {
    case "voltage":
      return `voltage ${op} ${c.threshold} V`;
    case "current":
      return `|current| ${op} ${c.threshold} A`;
    case "c-rate":
      return `|current| ${op} C/${round(1 / c.source.c)} (${round(c.threshold)} A)`;
    case "capacity":
      return `step charge ${op} ${c.threshold} Ah`;
    case "energy":
      return `step energy ${op} ${c.threshold} Wh`;
    case "temperature":
      return `temperature ${op} ${c.threshold} °C`;
    case "dvdt":
      return `${signedSlope(c.source) ? "dV/dt" : "|dV/dt|"} ${op} ${c.threshold} mV/s`;
    case "soc":
      return `SOC ${op} ${round(c.threshold * 100)} %`;
    case "retention":
      return `capacity ${op} ${round(c.threshold * 100)} % of cycle ${c.source.ofCycle}`;
  }
}

/**
 * The path of the first step that ends (or is limited) on the cell's SOC, if any. A step whose
 * string uses loop variables counts when its text mentions SOC (its instances may).
 */
export function stepUsingSoc(nodes: ProfileNode[]): string | undefined {
  for (const node of nodes) {
    switch (node.type) {
      case "step":
        if ([...node.termination.conditions, ...node.limits.map((l) => l.when)].some((c) => c.kind === "soc"))
          return node.path;
        break;
      case "template":
        if (/soc/i.test(node.template) || node.limits.some((l) => l.when.kind === "soc")) return node.path;
        break;
      case "repeat":
      case "sweep": {
        const inner = stepUsingSoc(node.steps);
        if (inner) return inner;
        break;
      }
      case "chamber":
        break;
    }
  }
  return undefined;
}

/** Why a run whose profile ends a step on SOC (at `path`) cannot start. */
export function socUnknown(path: string): string {
  return `${path} ends on the cell's SOC, but the run has no SOC estimate: the cell was not at rest (|I| at most C/100) when the run started, so its SOC could not be read off its rest voltage; start the run with the cell at rest, or end the step on a voltage instead`;
}

/**
 * The cell's state of charge read off its chemistry's open-circuit curve, when the sample shows it
 * at rest (|I| at most C/100); undefined when it does not (then nothing honest can be said).
 */
export function restingSoc(cell: CellSpec, sample: ChannelSample | undefined): number | undefined {
  if (!sample || !Number.isFinite(sample.voltageV) || !Number.isFinite(sample.currentA)) return undefined;
  if (Math.abs(sample.currentA) > cell.capacityAh / 100) return undefined;
  return Math.min(1, Math.max(0, socAtOcv(ocvCurve(cell.chemistry), sample.voltageV)));
}

/**
 * A run's SOC estimate: the SOC when it started plus the net charge moved since (charge minus
 * discharge, Ah) over the cell's nominal capacity. Undefined when the start SOC is unknown.
 */
export function socEstimate(
  startSoc: number | undefined,
  moved: { chargeAh: number; dischargeAh: number },
  capacityAh: number,
): number | undefined {
  if (startSoc === undefined || !(capacityAh > 0)) return undefined;
  return startSoc + (moved.chargeAh - moved.dischargeAh) / capacityAh;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Slope of voltage over a sliding time window, for dV/dt conditions. */
export class VoltageSlope {
  // A ring of (time, voltage) pairs: no array shifting and re-growing per sample (at 100 Hz the
  // 10 s window holds 1000 samples per channel).
  private times = new Float64Array(16);
  private volts = new Float64Array(16);
  private head = 0;
  private count = 0;

  constructor(private readonly windowS: number) {}

  reset(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Adds a sample and returns the slope in mV/s once the window is at least half full. */
  push(tS: number, voltageV: number): number | undefined {
    if (this.count === this.times.length) this.grow();
    const mask = this.times.length - 1;
    const end = (this.head + this.count) & mask;
    this.times[end] = tS;
    this.volts[end] = voltageV;
    this.count++;
    while (this.count > 2 && tS - (this.times[(this.head + 1) & mask] as number) >= this.windowS) {
      this.head = (this.head + 1) & mask;
      this.count--;
    }
    const t0 = this.times[this.head] as number;
    const span = tS - t0;
    if (span < this.windowS / 2 || span <= 0) return undefined;
    return ((voltageV - (this.volts[this.head] as number)) / span) * 1000;
  }

  /** Doubles the ring (its length stays a power of two), oldest sample first. */
  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const volts = new Float64Array(this.volts.length * 2);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) & (this.times.length - 1);
      times[i] = this.times[j] as number;
      volts[i] = this.volts[j] as number;
    }
    this.times = times;
    this.volts = volts;
    this.head = 0;
  }
}
