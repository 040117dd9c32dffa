/** Builds simulated cyclers and chambers on a VirtualClock, through the driver registry. */
import type {
  CellSpec,
  Chamber,
  CyclerChannel,
  CyclerReading,
  DeviceConfig,
  DriverContext,
} from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { createDevice } from "../../../drivers/registry.js";
import "../../../drivers/sim/register.js";
import type { SimChamber, SimChamberDevice } from "../../../drivers/sim/sim-chamber.js";
import type { SimCycler, SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";

export const NMC_3AH: CellSpec = {
  id: "NMC-T1",
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  voltageV: [2.5, 4.2],
  currentA: [-6, 6],
  temperatureC: [-20, 60],
};

export const ASSLB_1AH: CellSpec = {
  id: "ASSLB-T1",
  chemistry: "asslb-sulfide",
  capacityAh: 1,
  voltageV: [2.5, 4.25],
  currentA: [-2, 2],
  temperatureC: [-25, 110],
};

export interface SimFixture {
  clock: VirtualClock;
  context: DriverContext;
  cycler: SimCycler;
  channel: SimCyclerChannel;
  chamberDevice: SimChamberDevice | undefined;
  chamber: SimChamber | undefined;
}

export interface FixtureOptions {
  cell?: Partial<CellSpec>;
  initialSoc?: number;
  /** Chamber initial air temperature; no chamber at all when undefined. */
  chamberC?: number;
  cyclerFaults?: unknown;
  chamberFaults?: unknown;
  ranges?: unknown;
  /** Leave the devices unconnected. */
  connect?: boolean;
}

/** Creates one cycler channel `ch1` (in chamber `tc1` when chamberC is given) and connects both. */
export async function simFixture(options: FixtureOptions = {}): Promise<SimFixture> {
  const clock = new VirtualClock();
  const withChamber = options.chamberC !== undefined;
  const context: DriverContext = {
    clock,
    chamberOfChannel: (ch) => (withChamber && ch === "ch1" ? "tc1" : undefined),
  };
  const cyclerOptions: Record<string, unknown> = {};
  if (options.cell) cyclerOptions.cell = options.cell;
  if (options.initialSoc !== undefined) cyclerOptions.initialSoc = options.initialSoc;
  if (options.cyclerFaults !== undefined) cyclerOptions.faults = options.cyclerFaults;
  if (options.ranges !== undefined) cyclerOptions.ranges = options.ranges;
  const cyclerConfig: DeviceConfig = {
    id: "cy1",
    driver: "sim/cycler",
    channels: ["ch1"],
    options: cyclerOptions,
  };
  const cycler = createDevice(cyclerConfig, context) as SimCycler;
  let chamberDevice: SimChamberDevice | undefined;
  if (withChamber) {
    const chamberOptions: Record<string, unknown> = { initialC: options.chamberC };
    if (options.chamberFaults !== undefined) chamberOptions.faults = options.chamberFaults;
    // A context object of its own, as the daemon's bench gives every device.
    chamberDevice = createDevice(
      { id: "tc1", driver: "sim/chamber", options: chamberOptions },
      { clock, chamberOfChannel: context.chamberOfChannel },
    ) as SimChamberDevice;
  }
  if (options.connect !== false) {
    await cycler.connect();
    await chamberDevice?.connect();
  }
  return {
    clock,
    context,
    cycler,
    channel: cycler.channels[0] as SimCyclerChannel,
    chamberDevice,
    chamber: chamberDevice?.chamber,
  };
}

export interface Trace {
  /** Seconds since the loop started, one entry per reading. */
  tS: number[];
  readings: CyclerReading[];
  /** Charge moved, Ah (signed: + charge), from the readings (rectangle rule on 1 s steps). */
  ah: number;
  /** True when `until` ended the loop (false: the time limit did). */
  stopped: boolean;
}

/**
 * Steps the clock in 1 s steps, reading the channel after each, until `until` holds or `maxS`
 * simulated seconds have passed.
 */
export async function readEverySecond(
  clock: VirtualClock,
  ch: CyclerChannel,
  maxS: number,
  until: (r: CyclerReading, tS: number) => boolean = () => false,
): Promise<Trace> {
  const trace: Trace = { tS: [], readings: [], ah: 0, stopped: false };
  const t0 = clock.now();
  for (let s = 1; s <= maxS; s++) {
    await clock.advanceTo(t0 + s * 1000);
    const r = await ch.read();
    trace.tS.push(s);
    trace.readings.push(r);
    trace.ah += r.currentA / 3600;
    if (until(r, s)) {
      trace.stopped = true;
      break;
    }
  }
  return trace;
}

/** Steps the clock in 1 s steps reading the chamber, for `seconds`. */
export async function readChamberEverySecond(
  clock: VirtualClock,
  chamber: Chamber,
  seconds: number,
): Promise<{ temperatureC: number[]; outputPct: number[] }> {
  const out = { temperatureC: [] as number[], outputPct: [] as number[] };
  const t0 = clock.now();
  for (let s = 1; s <= seconds; s++) {
    await clock.advanceTo(t0 + s * 1000);
    const r = await chamber.read();
    out.temperatureC.push(r.temperatureC);
    out.outputPct.push(r.outputPct);
  }
  return out;
}

/** Charges with CC-CV to `volts` at `amps` until the current falls to `cutoffA`; returns the trace. */
export async function chargeCccv(
  f: SimFixture,
  amps: number,
  volts: number,
  cutoffA: number,
  maxS = 100_000,
): Promise<Trace> {
  await f.channel.apply({ mode: "cccv", currentA: amps, voltageV: volts });
  return readEverySecond(
    f.clock,
    f.channel,
    maxS,
    (r) => r.voltageV >= volts - 1e-9 && r.currentA <= cutoffA,
  );
}
