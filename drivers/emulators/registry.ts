/**
 * Wire-level device emulators by driver name: `watlow/f4` → an emulated Watlow F4 that answers the
 * real `watlow/f4` driver over a socat pty, a loopback TCP port or an in-memory pair.
 *
 * Adding an emulator: write `drivers/emulators/<vendor>-<model>-emulator.ts` exporting a start
 * function of type `EmulatorStart`, then add ONE entry to BUILT_IN below (keyed by the driver name it
 * answers for). Modules load lazily, so the CLI and the daemon pay nothing for emulators they do not run.
 * Tests may add throw-away emulators with `registerEmulator()`.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import type { Transport } from "../../protocols/transport/transport.js";
import type { Clock } from "../clock.js";
import type { EaPsbModbusEmulator } from "./ea-psb-modbus-emulator.js";
import type { EaPsbScpiEmulator } from "./ea-psb-scpi-emulator.js";
import type { ItechItM3400Emulator } from "./itech-it-m3400-emulator.js";

export interface EmulatorStartOptions {
  /**
   * Where the emulator listens:
   * - `serial:///tmp/ttyV1[?baud=19200]`: the device end of a socat pty pair (baud only matters
   *   for emulated link timing; a default is filled in when absent),
   * - `tcp://127.0.0.1:5020`: a TCP server on that address (port 0 picks a free port),
   * - a Transport: typically `pair.device` of `createMemoryPair({ name })`.
   */
  listen: string | Transport;
  /** Emulator options: unit ids, initial temperature, fault knobs, link timing (see each emulator). */
  options?: Record<string, unknown>;
  /** Clock that drives the physics. Default: real time (SystemClock). */
  clock?: Clock;
}

export interface RunningEmulator {
  /** Driver name it answers for (`watlow/f4`). */
  readonly name: string;
  /** Where it listens, as a URL (for TCP with port 0: the port actually bound). */
  readonly listen: string;
  /** Stops answering, releases the port or pty and frees every timer. Idempotent. */
  stop(): Promise<void>;
}

export type EmulatorStart = (start: EmulatorStartOptions) => Promise<RunningEmulator>;

/** How the real driver must be configured to talk to an emulator running with default options. */
export interface EmulatorDriverHints {
  /** Modbus unit id the emulator answers on by default (added as `?unit=` to the transport URL). */
  unit?: number;
  /** Channel ids for a cycler driver. */
  channels?: string[];
  /** Driver options that match the emulator's defaults. */
  options?: Record<string, unknown>;
}

/** The instrument set up in other units or another data format than the driver works in. */
export type OtherUnits =
  /** Connect must refuse, with this error code: the driver cannot scale or decode what it would read. */
  | { options: Record<string, unknown>; refusedWith: string; what: string }
  /** The driver reads it all the same: readings still come out in V, A, °C. */
  | { options: Record<string, unknown>; readsSI: true; what: string };

/**
 * What the conformance suite's cross-cutting checks need of an emulator: each real instrument's
 * other units or formats, and (cyclers) a device alarm to latch. An emulator declares each, or says
 * why the instrument has none, so a new driver cannot skip a check by leaving it out.
 */
export interface EmulatorConformance {
  /** Emulator options for every other unit or format the instrument offers, or why it has none. */
  otherUnits: readonly OtherUnits[] | { none: string };
  /** Latches a device alarm named `name` (cyclers): the driver must report it as a fault naming it. */
  alarm?: { name: string; trip(emulator: RunningEmulator): void };
}

export interface EmulatorInfo {
  /** Driver name this emulator answers for, `vendor/model`. */
  name: string;
  description: string;
  /** Loads the emulator module (lazily) and returns its start function. */
  load(): Promise<EmulatorStart>;
  /** How to configure the real driver against this emulator's defaults (used by the conformance suite). */
  driverHints: EmulatorDriverHints;
  /** The instrument's other modes, for the conformance suite's cross-cutting checks. */
  conformance?: EmulatorConformance;
}

export class UnknownEmulatorError extends CellbenchError {
  constructor(name: string, known: readonly string[]) {
    super(
      "UNKNOWN_EMULATOR",
      `no emulator for driver "${name}"; emulators exist for: ${known.join(", ") || "none"}`,
    );
  }
}

const BUILT_IN: EmulatorInfo[] = [
  {
    name: "watlow/f4",
    description: "Watlow F4 on Modbus RTU (one or more unit ids on one line), chamber physics, fault knobs",
    load: async () => (await import("./watlow-f4-emulator.js")).startWatlowF4Emulator,
    driverHints: { unit: 1 },
    conformance: {
      otherUnits: [
        { what: "°F (register 901)", options: { temperatureUnit: "F" }, refusedWith: "WATLOW_WRONG_UNITS" },
      ],
    },
  },
  {
    name: "watlow/f4t",
    description: "Watlow F4T on Modbus TCP (floats, low word first), chamber physics per loop, fault knobs",
    load: async () => (await import("./watlow-f4t-emulator.js")).startWatlowF4tEmulator,
    driverHints: { unit: 1 },
    conformance: {
      otherUnits: [
        {
          what: "°F (Display Units, register 1328)",
          options: { displayUnits: "F" },
          refusedWith: "WATLOW_WRONG_UNITS",
        },
        {
          what: "floats high word first",
          options: { wordOrder: "high-first" },
          refusedWith: "WATLOW_BAD_CONFIG",
        },
      ],
    },
  },
  {
    name: "espec/p300",
    description: "Espec P300 ASCII protocol (CR LF), serial or TCP, chamber physics, fault knobs",
    load: async () => (await import("./espec-p300-emulator.js")).startEspecP300Emulator,
    driverHints: {},
    conformance: {
      otherUnits: {
        none:
          "the P300 command set has no temperature-unit setting or query (ChamberConnectLibrary, p300.py); " +
          "TEMP? is taken as °C, unverified against Espec's manual",
      },
    },
  },
  {
    name: "ea/psb-scpi",
    description:
      "EA PSB 10000 on SCPI, cell physics of sim/cycler on its terminals, fault knobs, link timing",
    load: async () => (await import("./ea-psb-scpi-emulator.js")).startEaPsbScpiEmulator,
    driverHints: { channels: ["ch1"] },
    conformance: {
      otherUnits: [
        { what: "power answered in kW (high-power models)", options: { powerUnit: "kW" }, readsSI: true },
      ],
      alarm: { name: "OVP", trip: (emulator) => (emulator as EaPsbScpiEmulator).tripAlarm("OVP") },
    },
  },
  {
    name: "ea/psb-modbus",
    description: "EA PSB 10000 on Modbus RTU or TCP (PSB 10060-60 ratings), cell physics, Modbus fault knobs",
    load: async () => (await import("./ea-psb-modbus-emulator.js")).startEaPsbModbusEmulator,
    driverHints: {
      unit: 1,
      channels: ["ch1"],
      options: { nominal: { voltageV: 60, currentA: 60, powerW: 1500 } },
    },
    conformance: {
      // Every Modbus value is a fraction of the ratings: an instrument of other ratings is another scale.
      otherUnits: [
        {
          what: "a PSB 10080-60 where a 60 V model is configured",
          options: { model: "PSB 10080-60", nominal: { voltageV: 80, currentA: 60, powerW: 1500 } },
          refusedWith: "CYCLER_RATING_MISMATCH",
        },
      ],
      alarm: { name: "OT", trip: (emulator) => (emulator as EaPsbModbusEmulator).trip("OT") },
    },
  },
  {
    name: "itech/it-m3400",
    description: "ITECH IT-M3432 on SCPI (FUNC CURR/VOLT, signed current), cell physics, fault knobs",
    load: async () => (await import("./itech-it-m3400-emulator.js")).startItechItM3400Emulator,
    driverHints: { channels: ["ch1"] },
    conformance: {
      otherUnits: {
        none: "MEAS? answers are bare numbers in V and A, with no unit setting (IT6000C-family drivers); unverified against ITECH's guide",
      },
      alarm: { name: "OVP", trip: (emulator) => (emulator as ItechItM3400Emulator).tripProtection("OVP") },
    },
  },
  {
    name: "keysight/daq970a",
    description:
      "Keysight DAQ970A / 34970A on SCPI, thermocouples on 34901A slots, temperatures from the simulated cells, fault knobs",
    load: async () => (await import("./keysight-daq970a-emulator.js")).startKeysightDaq970aEmulator,
    driverHints: { options: { inputs: { "101": "K", "102": "T" } } },
    conformance: {
      // The driver sets UNIT:TEMP C at every connect and reads it back.
      otherUnits: [
        { what: "°F on every channel (UNIT:TEMP F)", options: { temperatureUnit: "F" }, readsSI: true },
        { what: "kelvin on every channel (UNIT:TEMP K)", options: { temperatureUnit: "K" }, readsSI: true },
      ],
    },
  },
  {
    name: "modbus/temperature-inputs",
    description:
      "Temperature input module on Modbus RTU or TCP (Eletechsup R4DCB08 or Juying DAM-PT100 map), temperatures from the cells, open/overload per input, Modbus fault knobs",
    load: async () =>
      (await import("./modbus-temperature-inputs-emulator.js")).startModbusTemperatureInputsEmulator,
    driverHints: { unit: 1, options: { preset: "eletechsup-r4dcb08" } },
    conformance: {
      otherUnits: {
        none:
          "neither preset module has a unit or format setting (R4DCB08: signed 0.1 °C; DAM-PT100: °C floats, high word " +
          "first); a register map set wrongly in an explicit configuration cannot be detected from the wire beyond rangeC",
      },
    },
  },
];

const emulators = new Map<string, EmulatorInfo>(BUILT_IN.map((info) => [info.name, info]));

/** Registers an emulator under a driver name; a second registration of the same name is a bug. */
export function registerEmulator(info: EmulatorInfo): void {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(info.name))
    throw new Error(`emulator name must be the driver's vendor/model: ${info.name}`);
  if (emulators.has(info.name)) throw new Error(`emulator ${info.name} registered twice`);
  emulators.set(info.name, info);
}

/** Returns the emulator registered for a driver name; throws UNKNOWN_EMULATOR naming the known ones. */
export function emulatorInfo(name: string): EmulatorInfo {
  const info = emulators.get(name);
  if (!info) throw new UnknownEmulatorError(name, [...emulators.keys()].sort());
  return info;
}

/** Returns true when an emulator exists for the driver name. */
export function hasEmulator(name: string): boolean {
  return emulators.has(name);
}

/** Lists every registered emulator, sorted by name. */
export function registeredEmulators(): EmulatorInfo[] {
  return [...emulators.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Loads and starts the emulator for `name`. */
export async function startEmulator(name: string, start: EmulatorStartOptions): Promise<RunningEmulator> {
  const run = await emulatorInfo(name).load();
  return run(start);
}
