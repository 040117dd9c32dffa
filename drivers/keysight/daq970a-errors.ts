/**
 * Errors of the `keysight/daq970a` driver; codes are stable. Wire-level failures keep their protocol
 * codes (SCPI_TIMEOUT, TRANSPORT_*), a wrong instrument IDENTITY_MISMATCH.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import type { ScpiErrorEntry } from "../../protocols/index.js";

/** The device entry's options cannot be used as written. */
export class DaqOptionsError extends CellbenchError {
  constructor(deviceId: string, driver: string, problem: string) {
    super("DAQ_BAD_OPTIONS", `device "${deviceId}" (${driver}): ${problem}`);
  }
}

/** The device was used before connect() or after close(). */
export class DaqNotConnectedError extends CellbenchError {
  constructor(deviceId: string, action: string) {
    super("DAQ_NOT_CONNECTED", `device "${deviceId}" is not connected; call connect() before ${action}`);
  }
}

/** The link is down; the transport reconnects by itself. */
export class DaqLinkDownError extends CellbenchError {
  constructor(deviceId: string, action: string, url: string, cause?: unknown) {
    super(
      "DAQ_LINK_DOWN",
      `device "${deviceId}": ${action} refused, the link ${url} is down` +
        `${cause instanceof Error ? ` (${cause.message})` : ""}; it reconnects by itself: check the cable, ` +
        "the adapter or the network",
      { cause },
    );
  }
}

/** The link is back but the instrument has not been identified and configured again yet. */
export class DaqNotReadyError extends CellbenchError {
  constructor(deviceId: string, action: string, cause?: unknown) {
    super(
      "DAQ_NOT_READY",
      `device "${deviceId}": ${action} refused, the instrument is not configured again yet` +
        (cause instanceof Error ? `: ${cause.message}` : " (identification after reconnect under way)"),
      { cause },
    );
  }
}

/** The instrument's error queue held errors after the scan configuration. */
export class DaqConfigurationRefusedError extends CellbenchError {
  constructor(
    deviceId: string,
    readonly commands: readonly string[],
    readonly errors: readonly ScpiErrorEntry[],
  ) {
    const list = errors.map((e) => `${e.code},"${e.message}"`).join("; ");
    super(
      "DAQ_CONFIG_REFUSED",
      `device "${deviceId}" refused the scan configuration (${list}) after: ${commands.join("; ")}. Check that ` +
        "a thermocouple multiplexer (34901A, 34902A or 34908A) sits in the slot of every input and that the " +
        "input numbers are slot·100 + channel",
    );
  }
}

/** The instrument holds a setting other than the one the driver wrote (units, scan list size). */
export class DaqSettingNotAppliedError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "DAQ_SETTING_NOT_APPLIED",
      `device "${deviceId}": ${detail}; the driver configured it and reads it back otherwise. Check for another ` +
        "program or the front panel changing the scan, then reconnect",
    );
  }
}

/** A scan reply the driver cannot take as one reading per configured input. */
export class DaqBadScanError extends CellbenchError {
  constructor(
    deviceId: string,
    readonly reply: string,
    problem: string,
  ) {
    const shown = reply.length > 120 ? `${reply.slice(0, 120)}…` : reply;
    super(
      "DAQ_BAD_SCAN",
      `device "${deviceId}": scan reply "${shown}" ${problem}; no input was read. Check that nothing else ` +
        "uses the instrument's interface and that the line settings (baud, terminator) match",
    );
  }
}
