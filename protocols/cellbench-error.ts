/**
 * Base class of every error cellbench raises on purpose. `code` is stable (API clients and tests
 * match on it); `message` says what happened and what to change.
 */
export class CellbenchError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Returns true when `err` is a CellbenchError carrying `code`. */
export function hasErrorCode(err: unknown, code: string): err is CellbenchError {
  return err instanceof CellbenchError && err.code === code;
}
