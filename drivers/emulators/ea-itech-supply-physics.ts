/**
 * A cell on the terminals of an emulated bidirectional supply, shared by the EA PSB and ITECH
 * IT-M3400 emulators: the instrument's settings are turned into a drive of the same equivalent-circuit
 * cell that `sim/cycler` uses (drivers/sim/cell-model.ts, integrated by a SimWorld on the emulator's
 * clock), so a profile run against an emulator behaves like one on the simulated cell.
 *
 * Two ways a supply regulates:
 * - voltage priority (EA PSB always; ITECH FUNC VOLT): a voltage U with a source current/power limit
 *   (current out of the instrument, charging) and a sink current/power limit (discharging). A cell
 *   below U is charged at the source limit until it reaches U, a cell above U is discharged at the sink
 *   limit until it falls to U, and at U the voltage is held. The side is chosen from the cell's voltage
 *   at zero current (OCV plus polarisation), re-evaluated on every setting and measurement; within a
 *   side the cell model itself moves from constant current to constant voltage (cccv) or is
 *   power-limited (cp), whichever limit binds at the present voltage.
 * - current priority (ITECH FUNC CURR): a signed current with low/high voltage clamps (the model's cc),
 *   limited by the instrument's source and sink power limits when given (ITECH POW:LIM, POW:LIM:NEG):
 *   where the current would exceed the power limit at the cell's voltage, the cell runs at that power.
 */
import type { Chemistry, CyclerSetpoint } from "../capabilities.js";
import type { Clock } from "../clock.js";
import { CellModel } from "../sim/cell-model.js";
import { type CellSlot, SimWorld } from "../sim/sim-world.js";

/** What a supply in voltage priority holds: the voltage and the limits of both quadrants. */
export interface VoltagePriority {
  voltageV: number;
  /** Limits of the source quadrant (charging), ≥ 0. */
  sourceCurrentA: number;
  sourcePowerW: number;
  /** Limits of the sink quadrant (discharging), ≥ 0. */
  sinkCurrentA: number;
  sinkPowerW: number;
}

export type SupplyDrive =
  | { kind: "off" }
  | ({ kind: "voltage-priority" } & VoltagePriority)
  | {
      kind: "current-priority";
      currentA: number;
      lowV: number;
      highV: number;
      /** Power limits, ≥ 0 (none: unlimited). */
      sourcePowerW?: number;
      sinkPowerW?: number;
    };

export type Regulation = "off" | "CV" | "CC" | "CP";

export interface SupplyMeasurement {
  voltageV: number;
  /** Positive while charging the cell (the instrument sources), negative while sinking. */
  currentA: number;
  powerW: number;
  regulation: Regulation;
}

export interface EmulatedCellOptions {
  chemistry: Chemistry;
  capacityAh: number;
  initialSoc: number;
}

export const DEFAULT_EMULATED_CELL: EmulatedCellOptions = {
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  initialSoc: 0.5,
};

/** Voltage clamp that never binds (a discharge in constant power has only a floor). */
const NO_CEILING_V = 1e6;

export class SupplyCell {
  private readonly world: SimWorld;
  private readonly slot: CellSlot;
  private supplyDrive: SupplyDrive = { kind: "off" };
  private applied = "";

  constructor(clock: Clock, options: EmulatedCellOptions) {
    this.world = new SimWorld(clock);
    this.slot = {
      channelId: "emulated",
      chamberId: undefined,
      cell: new CellModel(options, { soc: options.initialSoc, temperatureC: 25 }),
      needsAirTemperature: true,
    };
    this.world.addCell(this.slot);
  }

  /** The cell model (state of charge, temperature, polarisation). */
  get cell(): CellModel {
    return this.slot.cell;
  }

  get drive(): SupplyDrive {
    return this.supplyDrive;
  }

  /** Sets what the instrument does from now on. */
  setDrive(drive: SupplyDrive): void {
    this.world.advance();
    this.supplyDrive = drive;
    this.refresh();
  }

  /** Returns the terminal voltage, current and power now (advances the physics first). */
  measure(): SupplyMeasurement {
    this.world.advance();
    this.refresh();
    const cell = this.slot.cell;
    const voltageV = cell.voltageV;
    const currentA = this.supplyDrive.kind === "off" ? 0 : cell.currentA;
    return { voltageV, currentA, powerW: voltageV * currentA, regulation: this.regulation() };
  }

  private regulation(): Regulation {
    const cell = this.slot.cell;
    const mode = cell.setpoint.mode;
    if (this.supplyDrive.kind === "off") return "off";
    if (cell.voltageLimited || mode === "cv") return "CV";
    return mode === "cp" ? "CP" : "CC";
  }

  /** Re-chooses the cell model's drive from the instrument's settings and the cell's state. */
  private refresh(): void {
    const setpoint = this.effectiveSetpoint();
    const key = JSON.stringify(setpoint);
    if (key === this.applied) return;
    this.applied = key;
    this.slot.cell.setDrive(setpoint);
  }

  private effectiveSetpoint(): CyclerSetpoint {
    const d = this.supplyDrive;
    if (d.kind === "off") return { mode: "rest" };
    const cell = this.slot.cell;
    if (d.kind === "current-priority") {
      const limitW = d.currentA >= 0 ? d.sourcePowerW : d.sinkPowerW;
      if (limitW !== undefined && Math.abs(d.currentA) * cell.voltageV > limitW)
        return { mode: "cp", powerW: Math.sign(d.currentA) * limitW, minV: d.lowV, maxV: d.highV };
      return { mode: "cc", currentA: d.currentA, minV: d.lowV, maxV: d.highV };
    }
    const openCircuitV = cell.ocvV + cell.v1 + cell.v2;
    if (openCircuitV < d.voltageV) {
      if (d.sourceCurrentA <= 0 || d.sourcePowerW <= 0) return { mode: "rest" };
      const atV = Math.min(d.voltageV, Math.max(openCircuitV, cell.voltageV));
      return d.sourceCurrentA * atV > d.sourcePowerW
        ? { mode: "cp", powerW: d.sourcePowerW, minV: 0, maxV: d.voltageV }
        : { mode: "cccv", currentA: d.sourceCurrentA, voltageV: d.voltageV };
    }
    if (openCircuitV > d.voltageV) {
      if (d.sinkCurrentA <= 0 || d.sinkPowerW <= 0) return { mode: "rest" };
      const atV = Math.max(d.voltageV, Math.min(openCircuitV, cell.voltageV));
      return d.sinkCurrentA * atV > d.sinkPowerW
        ? { mode: "cp", powerW: -d.sinkPowerW, minV: d.voltageV, maxV: NO_CEILING_V }
        : { mode: "cccv", currentA: -d.sinkCurrentA, voltageV: d.voltageV };
    }
    return {
      mode: "cv",
      voltageV: d.voltageV,
      chargeLimitA: d.sourceCurrentA,
      dischargeLimitA: d.sinkCurrentA,
    };
  }
}
