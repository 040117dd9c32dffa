/**
 * The air of an emulated chamber: the same physics as `sim/chamber` (drivers/sim/chamber-model.ts,
 * integrated by a SimWorld on the emulator's clock), behind whatever wire protocol the emulator speaks.
 */
import type { Clock } from "../clock.js";
import { ChamberModel, DEFAULT_CHAMBER_MODEL } from "../sim/chamber-model.js";
import { SimWorld } from "../sim/sim-world.js";
import type { OptionReader } from "./emulator-options.js";

export interface ChamberState {
  airC: number;
  setpointC: number;
  /** Controller output, % (+ heating, − cooling); 0 when not regulating. */
  outputPct: number;
  regulating: boolean;
}

export class EmulatedChamber {
  readonly model: ChamberModel;
  private readonly world: SimWorld;

  constructor(clock: Clock, options: { initialC: number; ambientC: number; rangeC: [number, number] }) {
    this.world = new SimWorld(clock);
    this.model = new ChamberModel(options);
    this.world.addChamber("chamber", this.model);
  }

  /** Reads the chamber options every chamber emulator takes: initialC, ambientC, rangeC. */
  static readOptions(reader: OptionReader): { initialC: number; ambientC: number; rangeC: [number, number] } {
    const rangeC = reader.range("rangeC", DEFAULT_CHAMBER_MODEL.rangeC);
    const initialC = reader.number("initialC", DEFAULT_CHAMBER_MODEL.initialC, rangeC[0], rangeC[1]);
    const ambientC = reader.number("ambientC", DEFAULT_CHAMBER_MODEL.ambientC, rangeC[0], rangeC[1]);
    return { initialC, ambientC, rangeC };
  }

  /** Returns the state now (advances the physics to the clock's present first). */
  state(): ChamberState {
    this.world.advance();
    const m = this.model;
    return { airC: m.airC, setpointC: m.setpointC, outputPct: m.outputPct, regulating: m.regulating };
  }

  /** Sets the set point (from now on). */
  setSetpoint(celsius: number): void {
    this.world.advance();
    this.model.setpointC = celsius;
  }

  /** Switches regulation on (constant operation) or off (standby / off: the air drifts to the room). */
  setRegulating(on: boolean): void {
    this.world.advance();
    this.model.regulating = on;
  }
}
