import { CellbenchError } from "../../protocols/cellbench-error.js";

/** Returns the message of the CellbenchError with `code` that `fn` throws; fails when it returns or throws anything else. */
export function thrownMessage(code: string, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CellbenchError && err.code === code) return err.message;
    throw err;
  }
  throw new Error(`expected ${code}, but the call returned`);
}
