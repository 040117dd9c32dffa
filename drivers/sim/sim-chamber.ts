/**
 * `sim/chamber`: a simulated thermal chamber controller on the injected clock (physics in
 * chamber-model.ts: 3 min lag, +3 °C/min heating, −1.5 °C/min cooling, −40..+110 °C, room 22 °C).
 *
 * Options (all optional):
 *   initialC: starting air temperature and set point, °C (default 22)
 *   ambientC: room temperature the air leaks toward, °C (default 22)
 *   faults:   ChamberFaults (see sim-faults.ts)
 *
 * toSafeState() puts the controller in standby: no heating or cooling, the air drifts to the room
 * (τ 90 min) and the reported set point is the room temperature. The next setSetpoint() resumes
 * regulation. Run time: `(device.chamber as SimChamber).faults.set({ unregulated: true })`.
 */
import type {
  Chamber,
  ChamberRanges,
  ChamberReading,
  Device,
  DeviceConfig,
  DriverContext,
} from "../capabilities.js";
import { ChamberModel, DEFAULT_CHAMBER_MODEL } from "./chamber-model.js";
import {
  SetpointOutOfRangeError,
  SimNoReplyError,
  SimNotConnectedError,
  SimOptionsError,
} from "./sim-errors.js";
import { type ChamberFaults, FaultKnobs } from "./sim-faults.js";
import { type SimWorld, worldOf } from "./sim-world.js";

export const SIM_CHAMBER_DRIVER = "sim/chamber";

export class SimChamberDevice implements Device {
  readonly driver = SIM_CHAMBER_DRIVER;
  readonly id: string;
  readonly channels = [] as const;
  readonly chamber: SimChamber;
  readonly world: SimWorld;
  private connected = false;

  constructor(config: DeviceConfig, context: DriverContext) {
    this.id = config.id;
    this.world = worldOf(context);
    const o = config.options ?? {};
    const bad = (problem: string): never => {
      throw new SimOptionsError(config.id, problem);
    };
    for (const key of Object.keys(o)) {
      if (!["initialC", "ambientC", "faults"].includes(key))
        bad(`unknown option "${key}"; sim/chamber takes initialC, ambientC, faults`);
    }
    const [lo, hi] = DEFAULT_CHAMBER_MODEL.rangeC;
    const celsius = (v: unknown, name: string): number => {
      if (typeof v !== "number" || !(v >= lo && v <= hi))
        bad(`options.${name} must be a number in [${lo}, ${hi}] °C`);
      return v as number;
    };
    const initialC = celsius(o.initialC ?? DEFAULT_CHAMBER_MODEL.initialC, "initialC");
    const ambientC = celsius(o.ambientC ?? DEFAULT_CHAMBER_MODEL.ambientC, "ambientC");
    this.chamber = new SimChamber(this, new ChamberModel({ initialC, ambientC }), o.faults);
    this.world.addChamber(this.id, this.chamber.model);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    this.world.addChamber(this.id, this.chamber.model);
    this.connected = true;
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    this.world.removeChamber(this.id, this.chamber.model);
  }

  /** Throws unless the device is connected. */
  assertConnected(action: string): void {
    if (!this.connected) throw new SimNotConnectedError(this.id, action);
  }
}

export class SimChamber implements Chamber {
  readonly id: string;
  readonly ranges: ChamberRanges;
  readonly faults: FaultKnobs<ChamberFaults>;
  private standby = false;
  private unregulated = false;
  private lastReading: ChamberReading | undefined;

  constructor(
    readonly device: SimChamberDevice,
    readonly model: ChamberModel,
    faults: unknown,
  ) {
    this.id = device.id;
    this.ranges = { temperatureC: [...model.options.rangeC] };
    this.faults = new FaultKnobs<ChamberFaults>(device.id, "chamber", faults, (settings) => {
      device.world.sync();
      this.unregulated = settings.unregulated === true;
      this.updateRegulation();
    });
  }

  /** True while the controller is in standby (safe state). */
  get inStandby(): boolean {
    return this.standby;
  }

  async setSetpoint(celsius: number): Promise<void> {
    this.device.assertConnected("setSetpoint()");
    const [lo, hi] = this.ranges.temperatureC;
    if (!Number.isFinite(celsius) || celsius < lo || celsius > hi)
      throw new SetpointOutOfRangeError(this.id, `set point ${celsius} °C is outside [${lo}, ${hi}] °C`);
    if (this.faults.dropsThisReply()) throw new SimNoReplyError(this.id, "setSetpoint()");
    this.device.world.advance();
    this.model.setpointC = celsius;
    this.standby = false;
    this.updateRegulation();
  }

  async read(): Promise<ChamberReading> {
    this.device.assertConnected("read()");
    if (this.faults.dropsThisReply()) throw new SimNoReplyError(this.id, "read()");
    this.device.world.advanceForRead();
    if (this.faults.current.stuck && this.lastReading) return { ...this.lastReading };
    const reading: ChamberReading = {
      temperatureC: this.faults.noisy(this.model.airC, this.faults.current.noise?.temperatureC),
      setpointC: this.standby ? this.model.options.ambientC : this.model.setpointC,
      outputPct: this.model.outputPct,
    };
    this.lastReading = reading;
    return { ...reading };
  }

  async toSafeState(): Promise<void> {
    this.device.assertConnected("toSafeState()");
    if (this.faults.dropsThisReply()) throw new SimNoReplyError(this.id, "toSafeState()");
    this.device.world.advance();
    this.standby = true;
    this.updateRegulation();
  }

  private updateRegulation(): void {
    this.model.regulating = !this.standby && !this.unregulated;
  }
}
