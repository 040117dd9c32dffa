import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A mistake on the command line; the message says what to type instead. */
export class UsageError extends CellbenchError {
  constructor(message: string) {
    super("USAGE", message);
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
