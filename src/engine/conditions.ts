import type { Comparison, Condition, Direction } from "../profile/ast.js";

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
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Slope of voltage over a sliding time window, for dV/dt conditions. */
export class VoltageSlope {
  private readonly times: number[] = [];
  private readonly volts: number[] = [];

  constructor(private readonly windowS: number) {}

  reset(): void {
    this.times.length = 0;
    this.volts.length = 0;
  }

  /** Adds a sample and returns the slope in mV/s once the window is at least half full. */
  push(tS: number, voltageV: number): number | undefined {
    this.times.push(tS);
    this.volts.push(voltageV);
    while (this.times.length > 2 && tS - (this.times[1] as number) >= this.windowS) {
      this.times.shift();
      this.volts.shift();
    }
    const t0 = this.times[0] as number;
    const span = tS - t0;
    if (span < this.windowS / 2 || span <= 0) return undefined;
    return ((voltageV - (this.volts[0] as number)) / span) * 1000;
  }
}
