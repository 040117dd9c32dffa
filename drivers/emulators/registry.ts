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

export interface EmulatorInfo {
  /** Driver name this emulator answers for, `vendor/model`. */
  name: string;
  description: string;
  /** Loads the emulator module (lazily) and returns its start function. */
  load(): Promise<EmulatorStart>;
  /** How to configure the real driver against this emulator's defaults (used by the conformance suite). */
  driverHints: EmulatorDriverHints;
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
  },
  {
    name: "watlow/f4t",
    description: "Watlow F4T on Modbus TCP (floats, low word first), chamber physics per loop, fault knobs",
    load: async () => (await import("./watlow-f4t-emulator.js")).startWatlowF4tEmulator,
    driverHints: { unit: 1 },
  },
  {
    name: "espec/p300",
    description: "Espec P300 ASCII protocol (CR LF), serial or TCP, chamber physics, fault knobs",
    load: async () => (await import("./espec-p300-emulator.js")).startEspecP300Emulator,
    driverHints: {},
  },
  {
    name: "ea/psb-scpi",
    description:
      "EA PSB 10000 on SCPI, cell physics of sim/cycler on its terminals, fault knobs, link timing",
    load: async () => (await import("./ea-psb-scpi-emulator.js")).startEaPsbScpiEmulator,
    driverHints: { channels: ["ch1"] },
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
  },
  {
    name: "itech/it-m3400",
    description: "ITECH IT-M3432 on SCPI (FUNC CURR/VOLT, signed current), cell physics, fault knobs",
    load: async () => (await import("./itech-it-m3400-emulator.js")).startItechItM3400Emulator,
    driverHints: { channels: ["ch1"] },
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
