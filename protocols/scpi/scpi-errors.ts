import { CellbenchError } from "../cellbench-error.js";

/** No reply line arrived in time. */
export class ScpiTimeoutError extends CellbenchError {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    url: string,
    note?: string,
  ) {
    super(
      "SCPI_TIMEOUT",
      `Timeout after ${timeoutMs} ms waiting for reply to "${command}"${note ? ` (${note})` : ""} on ${url}; ` +
        "check the command spelling, the read terminator and that the instrument is in remote mode",
    );
  }
}

export interface ScpiErrorEntry {
  /** SCPI error number (negative: standard, positive: device-specific). */
  code: number;
  message: string;
}

/** The instrument's error queue reported errors after a command. */
export class ScpiDeviceError extends CellbenchError {
  constructor(
    readonly command: string,
    readonly errors: readonly ScpiErrorEntry[],
  ) {
    const list = errors.map((e) => `${e.code},"${e.message}"`).join("; ");
    super("SCPI_DEVICE_ERROR", `Instrument rejected "${command}": ${list}`);
  }
}

/** A reply that does not have the expected form (not a number, wrong unit, unreadable error queue). */
export class ScpiReplyError extends CellbenchError {
  constructor(
    readonly reply: string,
    problem: string,
    readonly command?: string,
  ) {
    super("SCPI_BAD_REPLY", `${command ? `Reply to "${command}"` : "Reply"} "${reply}" ${problem}`);
  }
}
