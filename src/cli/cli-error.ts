import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A mistake on the command line; the message says what to type instead. */
export class UsageError extends CellbenchError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

/** The profile runs longer than the dry run may simulate at this sample period. */
export class DryRunTooLongError extends CellbenchError {
  constructor(maxDurationS: number, periodS: number) {
    const days = Math.round(maxDurationS / 86_400);
    super(
      "DRY_RUN_TOO_LONG",
      `the profile runs longer than the ${days} days a dry run simulates at --period ${periodS}; ` +
        (periodS < 60
          ? `give a longer period (e.g. --period ${Math.min(60, periodS * 30)}: steps may then end up to one period late)`
          : "check it in parts (one file per phase of the test)"),
    );
  }
}

/** The simulated run of `profile check` ended other than completed (a limit, a fault, a stuck step). */
export class DryRunIncompleteError extends CellbenchError {
  constructor(state: string, reason: string) {
    super(
      "DRY_RUN_INCOMPLETE",
      `the dry run ended ${state}: ${reason}; adjust the profile (limits, cut-offs, temperatures) or the cell`,
    );
  }
}

/** The trace of `profile check` cannot be written where --out points. */
export class TraceOutputError extends CellbenchError {
  constructor(path: string, reason: string) {
    super(
      "TRACE_OUTPUT_FAILED",
      `cannot write the trace to ${path} (${reason}); give --out a file in an existing directory, ` +
        "a directory, or - for stdout, or --trace for a new file in the OS temp dir",
    );
  }
}
