/**
 * Checks a parsed profile against a cell and a bench before anything touches hardware (DESIGN §4-§6).
 * Every issue names the step path and what to change. Limits, tightest wins:
 * cycler ranges, cell envelope (already within its chemistry's, see src/cell), profile `safety`.
 *
 * Chamber temperature is followed along every path through the profile: the last chamber step or
 * sweep value in effect (loops and gotos included). Where no chamber step has run yet the ambient
 * is uncontrolled and temperature is not checked. Charging steps (CC/CP charge, CC-CV, CV hold,
 * charge drive cycles and regenerative points of discharge drive cycles) must run within the cell's
 * charge temperature window; discharging steps within its discharge window.
 */
import type { CellSpec, ChamberRanges, CyclerMode, CyclerRanges } from "../../drivers/capabilities.js";
import { type Cell, temperatureWindows } from "../cell/cell.js";
import type {
  Condition,
  Direction,
  DriveValue,
  Profile,
  ProfileNode,
  StepNode,
  TemplateNode,
} from "./ast.js";
import { ProfileError, type ProfileIssue } from "./profile-error.js";
import { checkStructure } from "./structure.js";

export interface BenchRanges {
  cycler: CyclerRanges;
  /** The chamber the channel sits in; absent when it sits in none. */
  chamber?: ChamberRanges;
}

type Range = [number, number];

/** Where the chamber temperature comes from on a path: set point (null = uncontrolled) → the node that set it. */
type Ambient = Map<number | null, string>;

/** Returns every problem of `profile` for this cell on this bench (empty when it may run). */
export function validateProfile(profile: Profile, cell: CellSpec | Cell, bench: BenchRanges): ProfileIssue[] {
  return new Validator(profile, cell, bench).run();
}

/** Validates and throws ProfileError (PROFILE_INVALID) listing every problem. */
export function assertProfileValid(profile: Profile, cell: CellSpec | Cell, bench: BenchRanges): void {
  const issues = validateProfile(profile, cell, bench);
  if (issues.length > 0) throw new ProfileError(issues, profile.name);
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
const fmtRange = (r: Range, unit: string): string => `${round(r[0])}..${round(r[1])} ${unit}`;

interface Bound {
  value: number;
  /** Who sets it, for messages: "the cell (3 A)". */
  by: string;
}

class Validator {
  private readonly issues: ProfileIssue[] = [];
  private readonly voltageWindow: Range;
  private readonly voltageWindowBy: string;
  private readonly chargeA: Bound;
  private readonly dischargeA: Bound;
  private readonly windows: { charge: Range; discharge: Range };
  private readonly stepAmbient = new Map<StepNode | TemplateNode, Ambient>();

  constructor(
    private readonly profile: Profile,
    private readonly cell: CellSpec | Cell,
    private readonly bench: BenchRanges,
  ) {
    const safety = profile.safety;
    this.voltageWindow = [
      Math.max(cell.voltageV[0], safety?.voltageV?.[0] ?? Number.NEGATIVE_INFINITY),
      Math.min(cell.voltageV[1], safety?.voltageV?.[1] ?? Number.POSITIVE_INFINITY),
    ];
    this.voltageWindowBy = safety?.voltageV
      ? `cell ${cell.id} within the profile's safety.voltage`
      : `cell ${cell.id}`;
    const tightest = (candidates: Bound[]): Bound =>
      candidates.reduce((a, b) => (b.value < a.value ? b : a), candidates[0] as Bound);
    const charge: Bound[] = [
      { value: cell.currentA[1], by: `cell ${cell.id} (${round(cell.currentA[1])} A)` },
      { value: bench.cycler.currentA[1], by: `the cycler channel (${round(bench.cycler.currentA[1])} A)` },
    ];
    const discharge: Bound[] = [
      { value: -cell.currentA[0], by: `cell ${cell.id} (${round(-cell.currentA[0])} A)` },
      { value: -bench.cycler.currentA[0], by: `the cycler channel (${round(-bench.cycler.currentA[0])} A)` },
    ];
    if (safety?.currentA) {
      charge.push({
        value: safety.currentA[1],
        by: `the profile's safety.current (${round(safety.currentA[1])} A)`,
      });
      discharge.push({
        value: -safety.currentA[0],
        by: `the profile's safety.current (${round(-safety.currentA[0])} A)`,
      });
    }
    this.chargeA = tightest(charge);
    this.dischargeA = tightest(discharge);
    this.windows = temperatureWindows(cell);
  }

  run(): ProfileIssue[] {
    // Every iteration's instance of a step with loop variables, checked once the ambient is known.
    const instances: [StepNode, string, TemplateNode][] = [];
    this.issues.push(
      ...checkStructure(this.profile.steps, (step, path, node) => instances.push([step, path, node])),
    );
    this.checkSafety();
    this.followAmbient();
    this.visit(this.profile.steps);
    for (const [step, path, node] of instances) this.checkStep(step, path, node);
    return this.issues;
  }

  private issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  private checkSafety(): void {
    const safety = this.profile.safety;
    if (!safety) return;
    const check = (range: Range | undefined, cellRange: Range, key: string, unit: string): void => {
      if (!range) return;
      if (range[0] < cellRange[0] - 1e-9 || range[1] > cellRange[1] + 1e-9) {
        this.issue(
          `safety.${key}`,
          `${fmtRange(range, unit)} is wider than cell ${this.cell.id}'s ${fmtRange(cellRange, unit)}; safety limits may only narrow the cell's envelope`,
        );
      }
    };
    check(safety.voltageV, this.cell.voltageV, "voltage", "V");
    check(safety.currentA, this.cell.currentA, "current", "A");
    check(safety.temperatureC, this.cell.temperatureC, "temperature", "°C");
  }

  // ---- chamber temperature along every path --------------------------------------------------

  private followAmbient(): void {
    const injected = new Map<string, Ambient>();
    let changed = true;
    for (let round = 0; changed && round < 10; round++) {
      changed = false;
      const walk = (nodes: ProfileNode[], entry: Ambient): Ambient => {
        let current = entry;
        for (const node of nodes) {
          if (node.label !== undefined) {
            const extra = injected.get(node.label);
            if (extra) current = union(current, extra);
          }
          switch (node.type) {
            case "step":
            case "template": {
              this.stepAmbient.set(node, union(this.stepAmbient.get(node) ?? new Map(), current));
              for (const limit of node.limits) {
                if (limit.then.kind !== "goto") continue;
                const before = injected.get(limit.then.label) ?? new Map();
                const after = union(before, current);
                if (after.size !== before.size) {
                  injected.set(limit.then.label, after);
                  changed = true;
                }
              }
              break;
            }
            case "chamber":
              current = new Map([[node.setpointC, node.path]]);
              break;
            case "repeat": {
              let bodyEntry = current;
              let exit = current;
              for (let i = 0; i < 4; i++) {
                exit = walk(node.steps, bodyEntry);
                if (node.count <= 1) break;
                const next = union(current, exit);
                if (next.size === bodyEntry.size) break;
                bodyEntry = next;
              }
              current = exit;
              break;
            }
            case "sweep": {
              let exit = current;
              for (const [k, c] of node.chamberC.entries()) {
                exit = walk(node.steps, new Map([[c, `${node.path}.sweep.chamber[${k}]`]]));
              }
              current = exit;
              break;
            }
          }
        }
        return current;
      };
      walk(this.profile.steps, new Map([[null, ""]]));
    }
  }

  // ---- per node --------------------------------------------------------------------------------

  private visit(nodes: ProfileNode[]): void {
    for (const node of nodes) {
      switch (node.type) {
        case "step":
          this.checkStep(node);
          break;
        case "chamber":
          this.checkChamberSetpoint(
            node.setpointC,
            node.path.endsWith(".ambient") ? node.path : `${node.path}.chamber`,
          );
          break;
        case "repeat":
          this.visit(node.steps);
          break;
        case "template":
          break;
        case "sweep":
          for (const [k, c] of node.chamberC.entries())
            this.checkChamberSetpoint(c, `${node.path}.sweep.chamber[${k}]`);
          this.visit(node.steps);
          break;
      }
    }
  }

  private checkChamberSetpoint(celsius: number, path: string): void {
    const chamber = this.bench.chamber;
    if (!chamber) {
      this.issue(
        path,
        `sets the chamber to ${celsius} °C but this channel sits in no chamber; remove the chamber step or use a channel in a chamber`,
      );
      return;
    }
    const [lo, hi] = chamber.temperatureC;
    if (celsius < lo || celsius > hi) {
      this.issue(
        path,
        `${celsius} °C is outside the chamber's range ${fmtRange(chamber.temperatureC, "°C")}; choose a set point within it`,
      );
    }
    const [clo, chi] = this.cell.temperatureC;
    if (celsius < clo || celsius > chi) {
      this.issue(
        path,
        `${celsius} °C is outside cell ${this.cell.id}'s temperature range ${fmtRange(this.cell.temperatureC, "°C")} (${this.cell.chemistry}); choose a set point within it`,
      );
      return;
    }
    const safety = this.profile.safety?.temperatureC;
    if (safety && (celsius < safety[0] || celsius > safety[1])) {
      this.issue(
        path,
        `${celsius} °C is outside the profile's safety.temperature ${fmtRange(safety, "°C")}; the run would fault at this set point — widen safety.temperature (within the cell's range) or change the set point`,
      );
    }
  }

  /** Checks a step; an instance of a template gives its path with the iteration and the template (its ambient). */
  private checkStep(node: StepNode, path = node.path, ambientOf: StepNode | TemplateNode = node): void {
    const say = (message: string): void => this.issue(path, `"${node.text}" ${message}`);
    const action = node.action;
    const ends =
      node.termination.durationS !== undefined ||
      node.termination.conditions.length > 0 ||
      node.limits.length > 0 ||
      action.kind === "drive-cycle";
    if (!ends) say('never ends; add "for <duration>" or "until <condition>"');

    const mode = modeOf(node);
    if (mode && !this.bench.cycler.modes.includes(mode)) {
      say(
        `needs the cycler's "${mode}" mode, which this channel lacks (it has ${this.bench.cycler.modes.join(", ")}); use another step type or channel`,
      );
    }

    switch (action.kind) {
      case "constant":
        this.checkDrive(action.value, action.direction, say);
        break;
      case "cccv":
        this.checkDrive(action.value, action.direction, say);
        this.checkSetVoltage(action.holdVolts, "holds at", say);
        break;
      case "hold":
        this.checkSetVoltage(action.volts, action.toVolts === undefined ? "holds at" : "ramps from", say);
        if (action.toVolts !== undefined) this.checkSetVoltage(action.toVolts, "ramps to", say);
        if (action.currentLimit) {
          const limitA =
            action.currentLimit.kind === "current"
              ? action.currentLimit.amps
              : action.currentLimit.kind === "c-rate"
                ? action.currentLimit.c * this.cell.capacityAh
                : Number.NaN;
          if (!(limitA > 0))
            say('limits the hold to a current that is not greater than 0; write e.g. "at most 1 A"');
        }
        break;
      case "ramp":
        // A ramp's value moves between its ends: checking both checks all of it.
        for (const end of [action.from, action.to])
          if (!isZero(end)) this.checkDrive(end, action.direction, say);
        if (!(action.overS > 0)) say('ramps over no time; write e.g. "over 10 minutes"');
        break;
      case "drive-cycle":
        this.checkDriveCycle(action.direction, action.unit, action.points, say);
        break;
      case "rest":
        break;
    }
    for (const condition of node.termination.conditions) this.checkCondition(condition, say);
    for (const limit of node.limits)
      if (limit.when.kind === "retention" || limit.when.kind === "soc") this.checkCondition(limit.when, say);
    this.checkTemperature(node, ambientOf, say);
  }

  private bound(direction: Direction): Bound {
    return direction === "charge" ? this.chargeA : this.dischargeA;
  }

  private checkAmps(amps: number, direction: Direction, how: string, say: (m: string) => void): void {
    const bound = this.bound(direction);
    if (amps > bound.value + 1e-9) {
      say(
        `${direction === "charge" ? "charges" : "discharges"} at ${round(amps)} A${how}, more than ${bound.by} allows; lower the value`,
      );
    }
  }

  private checkDrive(value: DriveValue, direction: Direction, say: (m: string) => void): void {
    const [vMin, vMax] = this.voltageWindow;
    const powerW = this.bench.cycler.powerW;
    switch (value.kind) {
      case "current":
      case "c-rate": {
        const amps = value.kind === "current" ? value.amps : value.c * this.cell.capacityAh;
        const how = value.kind === "c-rate" ? ` (${round(value.c)}C of ${this.cell.capacityAh} Ah)` : "";
        this.checkAmps(amps, direction, how, say);
        if (amps * vMax > powerW + 1e-9) {
          say(
            `needs ${round(amps * vMax)} W at ${vMax} V, more than the cycler channel's ${powerW} W; lower the current`,
          );
        }
        break;
      }
      case "power":
        if (value.watts > powerW + 1e-9) {
          say(
            `asks for ${round(value.watts)} W, more than the cycler channel's ${powerW} W; lower the power`,
          );
        }
        this.checkAmps(value.watts / vMin, direction, ` at the ${vMin} V end of the window`, say);
        break;
      case "resistance":
        this.checkAmps(vMax / value.ohms, direction, ` at ${vMax} V`, say);
        break;
    }
  }

  private checkDriveCycle(
    direction: Direction,
    unit: "A" | "W",
    points: { tS: number; value: number }[],
    say: (m: string) => void,
  ): void {
    // A loop, not Math.max(...points): spreading a long trace overflows the call stack.
    let forward = 0;
    let backward = 0;
    for (const p of points) {
      if (p.value > forward) forward = p.value;
      if (-p.value > backward) backward = -p.value;
    }
    const opposite: Direction = direction === "charge" ? "discharge" : "charge";
    if (unit === "A") {
      this.checkAmps(forward, direction, " at its peak", say);
      this.checkAmps(backward, opposite, " at its peak", say);
      return;
    }
    const powerW = this.bench.cycler.powerW;
    const peak = Math.max(forward, backward);
    if (peak > powerW + 1e-9)
      say(`peaks at ${round(peak)} W, more than the cycler channel's ${powerW} W; scale the trace down`);
    const vMin = this.voltageWindow[0];
    this.checkAmps(forward / vMin, direction, ` at its peak at the ${vMin} V end of the window`, say);
    this.checkAmps(backward / vMin, opposite, ` at its peak at the ${vMin} V end of the window`, say);
  }

  private checkSetVoltage(volts: number, verb: string, say: (m: string) => void): void {
    const [lo, hi] = this.voltageWindow;
    if (volts < lo - 1e-9 || volts > hi + 1e-9) {
      say(
        `${verb} ${round(volts)} V, outside the voltage window ${fmtRange(this.voltageWindow, "V")} of ${this.voltageWindowBy}; use a voltage within it`,
      );
    }
    const cycler = this.bench.cycler.voltageV;
    if (volts < cycler[0] - 1e-9 || volts > cycler[1] + 1e-9) {
      say(`${verb} ${round(volts)} V, outside the cycler channel's ${fmtRange(cycler, "V")}`);
    }
  }

  private checkCondition(condition: Condition, say: (m: string) => void): void {
    if (condition.kind === "voltage") {
      const [lo, hi] = this.voltageWindow;
      if (condition.volts < lo - 1e-9 || condition.volts > hi + 1e-9) {
        say(
          `ends at ${round(condition.volts)} V, outside the voltage window ${fmtRange(this.voltageWindow, "V")} of ${this.voltageWindowBy}; the cycler stops at the window's edge, so the step would never end there — use a voltage within it`,
        );
      }
    } else if (condition.kind === "soc") {
      if (!(condition.fraction >= 0 && condition.fraction <= 1)) {
        say(`ends at ${round(condition.fraction * 100)} % SOC, outside 0-100 %; use e.g. "until 80% SOC"`);
      }
    } else if (condition.kind === "retention") {
      say(
        'ends on capacity retention, which ends repeat loops, not steps; put until: "capacity < 80 % of cycle 1" on the repeat',
      );
    } else if (condition.kind === "temperature") {
      const range = this.profile.safety?.temperatureC
        ? ([
            Math.max(this.cell.temperatureC[0], this.profile.safety.temperatureC[0]),
            Math.min(this.cell.temperatureC[1], this.profile.safety.temperatureC[1]),
          ] as Range)
        : this.cell.temperatureC;
      if (condition.celsius < range[0] || condition.celsius > range[1]) {
        say(
          `ends at ${condition.celsius} °C, outside the allowed cell temperature ${fmtRange(range, "°C")}; the run would fault before the step ends`,
        );
      }
    }
  }

  private checkTemperature(
    node: StepNode,
    ambientOf: StepNode | TemplateNode,
    say: (m: string) => void,
  ): void {
    const ambient = this.stepAmbient.get(ambientOf);
    if (!ambient) return;
    const { charges, discharges } = directionsOf(node);
    const check = (window: Range, verb: string, what: string): void => {
      const bad = [...ambient.entries()].filter(
        (e): e is [number, string] => e[0] !== null && (e[0] < window[0] || e[0] > window[1]),
      );
      if (bad.length === 0) return;
      const at = bad.map(([c, by]) => `${c} °C (${by})`).join(", ");
      say(
        `${verb} with the chamber at ${at}, but ${this.cell.chemistry} cell ${this.cell.id} may ${what} only at ${fmtRange(window, "°C")}; move the step to a temperature within that window or use a cell rated for it`,
      );
    };
    if (charges) check(this.windows.charge, "charges", "be charged");
    if (discharges) check(this.windows.discharge, "discharges", "be discharged");
  }
}

/** Whether a step charges and/or discharges the cell. */
function directionsOf(node: StepNode): { charges: boolean; discharges: boolean } {
  const a = node.action;
  switch (a.kind) {
    case "rest":
      return { charges: false, discharges: false };
    case "hold":
      // Charges or discharges depending on the cell's voltage when it starts, which only the run
      // knows: the safety supervisor holds it to the window of the direction it actually takes.
      return { charges: false, discharges: false };
    case "constant":
    case "cccv":
    case "ramp":
      return { charges: a.direction === "charge", discharges: a.direction === "discharge" };
    case "drive-cycle": {
      const forward = a.points.some((p) => p.value > 0);
      const backward = a.points.some((p) => p.value < 0);
      return a.direction === "charge"
        ? { charges: forward, discharges: backward }
        : { charges: backward, discharges: forward };
    }
  }
}

/** The cycler mode the engine uses for a step (see src/engine/setpoints.ts). */
function modeOf(node: StepNode): CyclerMode | undefined {
  const a = node.action;
  switch (a.kind) {
    case "rest":
      return "rest";
    case "hold":
      return "cv";
    case "cccv":
      return "cccv";
    case "constant":
      return a.value.kind === "power" ? "cp" : "cc";
    case "ramp":
      return a.to.kind === "power" ? "cp" : "cc";
    case "drive-cycle":
      return a.unit === "A" ? "profile" : "cp";
  }
}

function union(a: Ambient, b: Ambient): Ambient {
  const out = new Map(a);
  for (const [k, v] of b) if (!out.has(k)) out.set(k, v);
  return out;
}

function isZero(value: DriveValue): boolean {
  return (
    (value.kind === "current" && value.amps === 0) ||
    (value.kind === "c-rate" && value.c === 0) ||
    (value.kind === "power" && value.watts === 0)
  );
}
