/** Errors the emulators raise; codes are stable. */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/** An emulator was started with options it cannot use. */
export class EmulatorOptionsError extends CellbenchError {
  constructor(emulator: string, problem: string) {
    super("EMULATOR_BAD_OPTIONS", `emulator ${emulator}: ${problem}`);
  }
}

/** The emulator could not take hold of the address it was told to listen on. */
export class EmulatorListenError extends CellbenchError {
  constructor(listen: string, problem: string, options?: { cause?: unknown }) {
    super("EMULATOR_LISTEN_FAILED", `cannot listen on ${listen}: ${problem}`, options);
  }
}
