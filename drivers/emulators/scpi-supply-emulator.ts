/**
 * The wiring shared by the emulators of bidirectional supplies on SCPI (EA PSB 10000, ITECH IT-M3400)
 * around their own command sets: the options each reads last (linkTiming, baud, turnaroundMs, faults),
 * the cell on the terminals (ea-itech-supply-physics.ts) on the start clock, and the SCPI server
 * (ea-itech-scpi-server.ts) with the members every one of them exposes.
 */
import { SystemClock } from "../clock.js";
import {
  EmulatedScpiServer,
  SCPI_FAULT_KNOBS,
  type ScpiCommand,
  type ScpiFaults,
} from "./ea-itech-scpi-server.js";
import { type EmulatedCellOptions, SupplyCell } from "./ea-itech-supply-physics.js";
import { FaultDeck } from "./emulator-faults.js";
import type { OptionReader } from "./emulator-options.js";
import { type LinkTiming, readLinkTiming } from "./link-timing.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

/** What every SCPI supply emulator exposes besides its own settings. */
export interface ScpiSupplyEmulator extends RunningEmulator {
  readonly supply: SupplyCell;
  readonly faults: FaultDeck<ScpiFaults>;
  readonly server: EmulatedScpiServer;
  /** Every command line received. */
  readonly commands: readonly string[];
  disconnectFor(ms: number): void;
}

/** What an emulator's command set works on, made before its server starts. */
export interface ScpiSupplyParts {
  readonly name: string;
  readonly listen: EmulatorStartOptions["listen"];
  readonly supply: SupplyCell;
  readonly faults: FaultDeck<ScpiFaults>;
  readonly timing: LinkTiming;
}

/**
 * Reads the options every SCPI supply emulator ends with (linkTiming, baud 115 200, turnaroundMs,
 * faults), refuses any option left over, and puts `cell` on the terminals on the start clock.
 */
export function prepareScpiSupply(
  name: string,
  reader: OptionReader,
  start: EmulatorStartOptions,
  cell: EmulatedCellOptions,
): ScpiSupplyParts {
  const timing = readLinkTiming(reader, { baud: 115_200 });
  const faults = new FaultDeck<ScpiFaults>(name, SCPI_FAULT_KNOBS, reader.raw("faults"));
  reader.done();
  const supply = new SupplyCell(start.clock ?? new SystemClock(), cell);
  return { name, listen: start.listen, supply, faults, timing };
}

/** Starts the SCPI server answering with `execute`; returns what every SCPI supply emulator exposes. */
export async function serveScpiSupply(
  parts: ScpiSupplyParts,
  execute: (command: ScpiCommand) => string | undefined,
  options: { errorQueryAll: boolean; onErrorQueueRead?: () => void },
): Promise<ScpiSupplyEmulator> {
  const { name, listen, supply, faults, timing } = parts;
  const server = new EmulatedScpiServer({
    name,
    listen,
    execute,
    faults,
    timing,
    errorQueryAll: options.errorQueryAll,
    onErrorQueueRead: options.onErrorQueueRead,
  });
  await server.start();
  return {
    name,
    listen: server.url,
    supply,
    faults,
    server,
    commands: server.commands,
    disconnectFor: (ms) => server.disconnectFor(ms),
    stop: () => server.stop(),
  };
}
