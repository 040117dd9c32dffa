import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A mistake on the command line; the message says what to type instead. */
export class UsageError extends CellbenchError {
  constructor(message: string) {
    super("USAGE", message);
  }
}
