/**
 * Errors of the real cycler drivers (EA PSB over SCPI and Modbus, ITECH IT-M3400); codes are stable.
 * Set points outside a channel's ranges raise SETPOINT_OUT_OF_RANGE (drivers/sim/sim-errors.ts), the
 * same code the simulated cycler uses; wire-level failures keep their protocol codes (SCPI_TIMEOUT,
 * SCPI_DEVICE_ERROR, MODBUS_TIMEOUT, MODBUS_EXCEPTION, TRANSPORT_*).
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/**
 * The link to the instrument is down (or was down and the driver has not yet re-applied safe state):
 * what the output does is unknown, and nothing was sent.
 */
export class CyclerOutputUnknownError extends CellbenchError {
  constructor(deviceId: string, url: string, action: string, options?: { cause?: unknown }) {
    super(
      "CYCLER_OUTPUT_UNKNOWN",
      `${action} refused: device "${deviceId}" lost its link (${url}); its output state is unknown until the ` +
        "link is back and the driver has switched the output off again (it does so by itself)",
      options,
    );
  }
}

/** The device was used before connect() or after close(). */
export class CyclerNotConnectedError extends CellbenchError {
  constructor(deviceId: string, action: string) {
    super("CYCLER_NOT_CONNECTED", `device "${deviceId}" is not connected; call connect() before ${action}`);
  }
}

/** close() was called while connect() was under way: the connection was abandoned. */
export class CyclerClosedWhileConnectingError extends CellbenchError {
  constructor(deviceId: string) {
    super(
      "CYCLER_NOT_CONNECTED",
      `device "${deviceId}" was closed while connecting; the connection was abandoned (connect() again to use it)`,
    );
  }
}

/** The device entry's options cannot be used as written. */
export class CyclerOptionsError extends CellbenchError {
  constructor(deviceId: string, driver: string, problem: string) {
    super("CYCLER_BAD_OPTIONS", `device "${deviceId}" (${driver}): ${problem}`);
  }
}

/** The instrument did not hand remote control to this driver (another interface or the front panel holds it). */
export class CyclerRemoteDeniedError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "CYCLER_REMOTE_DENIED",
      `device "${deviceId}" did not grant remote control: ${detail}; release the lock held by the front panel ` +
        "or another interface (or switch the instrument out of local mode) and reconnect",
    );
  }
}

/** The instrument's ratings differ from what the configuration says (scaling by wrong ratings would set wrong values). */
export class CyclerRatingMismatchError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super("CYCLER_RATING_MISMATCH", `device "${deviceId}": ${detail}`);
  }
}

/** The instrument reports an alarm (over-voltage, over-temperature, ...); it has switched its output off. */
export class CyclerDeviceAlarmError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "CYCLER_DEVICE_ALARM",
      `device "${deviceId}" reports an alarm (${detail}); its output is off. Check the instrument's display, ` +
        "acknowledge the alarm there, then apply a set point again",
    );
  }
}

/** A driver-stepped profile could not apply one of its points; the output was switched off. */
export class CyclerProfileAbortedError extends CellbenchError {
  constructor(deviceId: string, pointIndex: number, options?: { cause?: unknown }) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      "CYCLER_PROFILE_ABORTED",
      `device "${deviceId}": profile point ${pointIndex} could not be applied${cause}; the output was switched ` +
        "off. Apply a set point again to continue",
      options,
    );
  }
}

/** A setting the driver wrote reads back otherwise: the instrument keeps a value the driver cannot change. */
export class CyclerSettingNotAppliedError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "CYCLER_SETTING_NOT_APPLIED",
      `device "${deviceId}": ${detail}. Check the instrument's limit settings (front panel or another interface) ` +
        "and reconnect",
    );
  }
}

/** The measured current flows against the set direction: the instrument's sign convention is not the driver's. */
export class CyclerCurrentSignError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "CYCLER_CURRENT_SIGN",
      `device "${deviceId}": ${detail}; the instrument reports current with the other sign than the driver ` +
        "assumes (or the cell is wired reversed). The output was not trusted: check the wiring and the " +
        "instrument's current sign convention before running again",
    );
  }
}
