/**
 * `sim/cycler`: a simulated multi-channel bidirectional cycler, one equivalent-circuit cell per
 * channel, on the injected clock.
 *
 * Options (DeviceConfig.options, all optional):
 *   cell:       CellSpec-like object used for every channel ({ chemistry, capacityAh, ... });
 *               default an 18650 NMC 3.0 Ah, 2.5–4.2 V, −6..+6 A, −20..60 °C
 *   initialSoc: 0..1, default 0.5 (also the SOC of every cell mountCell() installs)
 *   ranges:     { voltageV, currentA, powerW, modes }, default [0, 5] V, [−10, 10] A, 60 W, all modes
 *   faults:     CyclerFaults (see sim-faults.ts), applied to every channel
 *
 * Run time: `(channel as SimCyclerChannel).faults.set({...})`, `.cell` for the model's state.
 * Like a real instrument, close() leaves the outputs as they are; mountCell() works whether or not
 * the device is connected (it is the operator's hands, not a command) and starts the cell at rest.
 */
import {
  type CellSpec,
  CHEMISTRIES,
  type Chemistry,
  type CyclerChannel,
  type CyclerMode,
  type CyclerRanges,
  type CyclerReading,
  type CyclerSetpoint,
  type Device,
  type DeviceConfig,
  type DriverContext,
} from "../capabilities.js";
import { CellModel } from "./cell-model.js";
import {
  SetpointOutOfRangeError,
  SimNoReplyError,
  SimNotConnectedError,
  SimOptionsError,
} from "./sim-errors.js";
import { type CyclerFaults, FaultKnobs, runawayHeat } from "./sim-faults.js";
import { type CellSlot, type SimWorld, worldOf } from "./sim-world.js";

export const SIM_CYCLER_DRIVER = "sim/cycler";

export const DEFAULT_SIM_CELL: CellSpec = {
  id: "SIM-18650-NMC",
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  voltageV: [2.5, 4.2],
  currentA: [-6, 6],
  temperatureC: [-20, 60],
};

export const ALL_CYCLER_MODES: readonly CyclerMode[] = ["rest", "cc", "cv", "cccv", "cp", "profile"];

export const DEFAULT_SIM_RANGES: CyclerRanges = {
  voltageV: [0, 5],
  currentA: [-10, 10],
  powerW: 60,
  modes: ALL_CYCLER_MODES,
};

/** Chemistry envelopes (DESIGN §5) used to complete a partial `cell` option. */
const ENVELOPES: Record<Chemistry, Pick<CellSpec, "voltageV" | "temperatureC">> = {
  "li-ion-nmc": { voltageV: [2.5, 4.2], temperatureC: [-20, 60] },
  "li-ion-lfp": { voltageV: [2.0, 3.65], temperatureC: [-20, 60] },
  "asslb-sulfide": { voltageV: [2.5, 4.25], temperatureC: [-20, 105] },
};

interface CyclerOptions {
  cell: CellSpec;
  initialSoc: number;
  ranges: CyclerRanges;
  faults: unknown;
}

export class SimCycler implements Device {
  readonly driver = SIM_CYCLER_DRIVER;
  readonly id: string;
  readonly channels: readonly SimCyclerChannel[];
  readonly world: SimWorld;
  private connected = false;

  constructor(config: DeviceConfig, context: DriverContext) {
    this.id = config.id;
    this.world = worldOf(context);
    const options = parseOptions(config);
    const ids = config.channels ?? [];
    if (ids.length === 0) throw new SimOptionsError(config.id, "sim/cycler needs at least one channel id");
    this.channels = ids.map(
      (channelId) => new SimCyclerChannel(this, channelId, context.chamberOfChannel(channelId), options),
    );
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    for (const ch of this.channels) this.world.addCell(ch.slot);
    this.connected = true;
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    for (const ch of this.channels) this.world.removeCell(ch.slot);
  }

  /** Throws unless the device is connected. */
  assertConnected(action: string): void {
    if (!this.connected) throw new SimNotConnectedError(this.id, action);
  }
}

export class SimCyclerChannel implements CyclerChannel {
  readonly ranges: CyclerRanges;
  readonly faults: FaultKnobs<CyclerFaults>;
  /** The channel's place in the world (the cell on it). */
  readonly slot: CellSlot;
  private readonly initialSoc: number;
  private lastReading: CyclerReading | undefined;

  constructor(
    readonly device: SimCycler,
    readonly id: string,
    chamberId: string | undefined,
    options: CyclerOptions,
  ) {
    this.ranges = options.ranges;
    this.initialSoc = options.initialSoc;
    this.slot = {
      channelId: id,
      chamberId,
      cell: new CellModel(options.cell, { soc: options.initialSoc, temperatureC: 25 }),
      needsAirTemperature: true,
    };
    this.faults = new FaultKnobs<CyclerFaults>(`${device.id}/${id}`, "cycler", options.faults, (settings) => {
      device.world.sync();
      this.slot.cell.runaway = runawayHeat(settings);
    });
    device.world.addCell(this.slot);
  }

  /** The simulated cell on this channel (state of charge, temperature, polarisation). */
  get cell(): CellModel {
    return this.slot.cell;
  }

  async apply(setpoint: CyclerSetpoint): Promise<void> {
    this.device.assertConnected("apply()");
    validateSetpoint(setpoint, this.ranges, `${this.device.id}/${this.id}`);
    if (this.faults.dropsThisReply()) throw new SimNoReplyError(`${this.device.id}/${this.id}`, "apply()");
    this.device.world.advance();
    this.slot.cell.setDrive(setpoint);
  }

  async read(): Promise<CyclerReading> {
    this.device.assertConnected("read()");
    if (this.faults.dropsThisReply()) throw new SimNoReplyError(`${this.device.id}/${this.id}`, "read()");
    this.device.world.advanceForRead();
    if (this.faults.current.stuck && this.lastReading) return { ...this.lastReading };
    const cell = this.slot.cell;
    const noise = this.faults.current.noise;
    const reading: CyclerReading = {
      voltageV: this.faults.noisy(cell.voltageV, noise?.voltageV),
      currentA: this.faults.noisy(cell.currentA, noise?.currentA),
      temperatureC: this.faults.noisy(cell.temperatureC, noise?.temperatureC),
    };
    this.lastReading = reading;
    return { ...reading };
  }

  async toSafeState(): Promise<void> {
    this.device.assertConnected("toSafeState()");
    if (this.faults.dropsThisReply())
      throw new SimNoReplyError(`${this.device.id}/${this.id}`, "toSafeState()");
    this.device.world.advance();
    if (this.slot.cell.setpoint.mode !== "rest") this.slot.cell.setDrive({ mode: "rest" });
  }

  /** Installs a fresh cell of this spec at the device's initialSoc, at the air temperature, at rest. */
  mountCell(cell: CellSpec): void {
    const spec = checkCell(this.device.id, cell, "mountCell()");
    const world = this.device.world;
    world.advance();
    const model = new CellModel(spec, {
      soc: this.initialSoc,
      temperatureC: world.airTemperatureOf(this.slot),
    });
    model.runaway = runawayHeat(this.faults.current);
    this.slot.cell = model;
    this.slot.needsAirTemperature = false;
    world.cellsChanged();
  }
}

function parseOptions(config: DeviceConfig): CyclerOptions {
  const o = config.options ?? {};
  const bad = (problem: string): never => {
    throw new SimOptionsError(config.id, problem);
  };
  for (const key of Object.keys(o)) {
    if (!["cell", "initialSoc", "ranges", "faults"].includes(key))
      bad(`unknown option "${key}"; sim/cycler takes cell, initialSoc, ranges, faults`);
  }
  const cell = o.cell === undefined ? DEFAULT_SIM_CELL : checkCell(config.id, o.cell, "options.cell");
  const initialSoc = o.initialSoc ?? 0.5;
  if (typeof initialSoc !== "number" || !(initialSoc >= 0 && initialSoc <= 1))
    bad(`options.initialSoc must be a number in [0, 1], got ${JSON.stringify(o.initialSoc)}`);
  return {
    cell,
    initialSoc: initialSoc as number,
    ranges: parseRanges(config.id, o.ranges),
    faults: o.faults,
  };
}

/** Completes a CellSpec-like object from the chemistry's envelope; throws on what the model cannot use. */
function checkCell(deviceId: string, value: unknown, where: string): CellSpec {
  const bad = (problem: string): never => {
    throw new SimOptionsError(deviceId, `${where}: ${problem}`);
  };
  if (typeof value !== "object" || value === null) return bad("must be an object");
  const v = value as Partial<CellSpec>;
  const chemistry = v.chemistry ?? DEFAULT_SIM_CELL.chemistry;
  if (!CHEMISTRIES.includes(chemistry)) bad(`chemistry must be one of ${CHEMISTRIES.join(", ")}`);
  const capacityAh = v.capacityAh ?? DEFAULT_SIM_CELL.capacityAh;
  if (typeof capacityAh !== "number" || !(capacityAh > 0) || !Number.isFinite(capacityAh))
    bad(`capacityAh must be a positive number, got ${JSON.stringify(v.capacityAh)}`);
  const envelope = ENVELOPES[chemistry];
  return {
    id: v.id ?? `SIM-${chemistry}`,
    chemistry,
    capacityAh,
    voltageV: v.voltageV ?? envelope.voltageV,
    currentA: v.currentA ?? [-2 * capacityAh, 2 * capacityAh],
    temperatureC: v.temperatureC ?? envelope.temperatureC,
  };
}

function parseRanges(deviceId: string, value: unknown): CyclerRanges {
  if (value === undefined) return DEFAULT_SIM_RANGES;
  const bad = (problem: string): never => {
    throw new SimOptionsError(deviceId, `options.ranges: ${problem}`);
  };
  if (typeof value !== "object" || value === null) return bad("must be an object");
  const v = value as Partial<CyclerRanges>;
  const pair = (p: unknown, name: string): [number, number] => {
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      !p.every((x) => typeof x === "number" && Number.isFinite(x)) ||
      !((p[0] as number) < (p[1] as number))
    )
      bad(`${name} must be [min, max] with min < max`);
    const [lo, hi] = p as [number, number];
    return [lo, hi];
  };
  const ranges: CyclerRanges = {
    voltageV: v.voltageV === undefined ? DEFAULT_SIM_RANGES.voltageV : pair(v.voltageV, "voltageV"),
    currentA: v.currentA === undefined ? DEFAULT_SIM_RANGES.currentA : pair(v.currentA, "currentA"),
    powerW: v.powerW ?? DEFAULT_SIM_RANGES.powerW,
    modes: v.modes ?? DEFAULT_SIM_RANGES.modes,
  };
  if (typeof ranges.powerW !== "number" || !(ranges.powerW > 0)) bad("powerW must be a positive number");
  if (!Array.isArray(ranges.modes) || !ranges.modes.every((m) => ALL_CYCLER_MODES.includes(m)))
    bad(`modes must be a list of ${ALL_CYCLER_MODES.join(", ")}`);
  if (!ranges.modes.includes("rest")) bad(`modes must include "rest" (the safe state)`);
  return ranges;
}

/** Throws SetpointOutOfRangeError unless every number of the set point lies within the channel's ranges. */
export function validateSetpoint(sp: CyclerSetpoint, ranges: CyclerRanges, target: string): void {
  const fail = (problem: string): never => {
    throw new SetpointOutOfRangeError(target, problem);
  };
  if (!ranges.modes.includes(sp.mode))
    fail(`mode "${sp.mode}" is not supported; this channel applies ${ranges.modes.join(", ")}`);
  const [vMin, vMax] = ranges.voltageV;
  const [iMin, iMax] = ranges.currentA;
  const volts = (v: number, name: string) => {
    if (!Number.isFinite(v) || v < vMin || v > vMax) fail(`${name} ${v} V is outside [${vMin}, ${vMax}] V`);
  };
  const amps = (i: number, name: string) => {
    if (!Number.isFinite(i) || i < iMin || i > iMax) fail(`${name} ${i} A is outside [${iMin}, ${iMax}] A`);
  };
  const window = (minV: number, maxV: number) => {
    volts(minV, "minV");
    volts(maxV, "maxV");
    if (!(minV < maxV)) fail(`minV ${minV} V must be below maxV ${maxV} V`);
  };
  switch (sp.mode) {
    case "rest":
      return;
    case "cc":
      amps(sp.currentA, "currentA");
      window(sp.minV, sp.maxV);
      return;
    case "cv": {
      volts(sp.voltageV, "voltageV");
      const magnitude = (i: number, name: string, max: number) => {
        if (!Number.isFinite(i) || i < 0 || i > max) fail(`${name} ${i} A is outside [0, ${max}] A`);
      };
      magnitude(sp.chargeLimitA, "chargeLimitA", iMax);
      magnitude(sp.dischargeLimitA, "dischargeLimitA", -iMin);
      return;
    }
    case "cccv":
      amps(sp.currentA, "currentA");
      volts(sp.voltageV, "voltageV");
      return;
    case "cp":
      if (!Number.isFinite(sp.powerW) || Math.abs(sp.powerW) > ranges.powerW)
        fail(`powerW ${sp.powerW} W is outside ±${ranges.powerW} W`);
      window(sp.minV, sp.maxV);
      return;
    case "profile": {
      if (!Array.isArray(sp.points) || sp.points.length === 0) fail("profile needs at least one point");
      let previous = 0;
      sp.points.forEach((p, k) => {
        if (!Number.isFinite(p.tS) || p.tS < previous)
          fail(`points[${k}].tS ${p.tS} s must be ≥ 0 and not before the previous point`);
        previous = p.tS;
        amps(p.currentA, `points[${k}].currentA`);
      });
      window(sp.minV, sp.maxV);
      return;
    }
  }
}
