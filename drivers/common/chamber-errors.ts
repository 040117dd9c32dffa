/**
 * Errors shared by the real chamber drivers (watlow/*, espec/*); codes are stable.
 * Vendor-specific errors live beside each driver.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/** The device was used before connect() or after close(). */
export class ChamberNotConnectedError extends CellbenchError {
  constructor(deviceId: string, action: string) {
    super("CHAMBER_NOT_CONNECTED", `chamber "${deviceId}" is not connected; call connect() before ${action}`);
  }
}

/** The link to the controller is down (unplugged, TCP dropped); the transport is reconnecting. */
export class ChamberLinkDownError extends CellbenchError {
  constructor(deviceId: string, action: string, url: string, cause?: unknown) {
    super(
      "CHAMBER_LINK_DOWN",
      `chamber "${deviceId}": ${action} refused, the link ${url} is down${cause instanceof Error ? ` (${cause.message})` : ""}; ` +
        "it reconnects by itself: check the cable, the adapter or the network",
      { cause },
    );
  }
}

/**
 * The link is up but the controller has not been (re-)identified: identification after a reconnect is
 * under way or failed (the cause says why; it is retried while the link stays up).
 */
export class ChamberNotReadyError extends CellbenchError {
  constructor(deviceId: string, action: string, cause?: unknown) {
    super(
      "CHAMBER_NOT_READY",
      `chamber "${deviceId}": ${action} refused, the controller is not identified yet` +
        (cause instanceof Error ? `: ${cause.message}` : " (identification after reconnect under way)"),
      { cause },
    );
  }
}

/** A set point outside what the chamber or its controller allows; nothing was sent. */
export class ChamberSetpointRangeError extends CellbenchError {
  constructor(
    deviceId: string,
    readonly celsius: number,
    readonly rangeC: readonly [number, number],
    why: string,
  ) {
    super(
      "SETPOINT_OUT_OF_RANGE",
      `chamber "${deviceId}": set point ${celsius} °C is outside [${rangeC[0]}, ${rangeC[1]}] °C (${why}); nothing was sent`,
    );
  }
}

/** A chamber device entry whose transport or options the driver cannot use. */
export class ChamberOptionsError extends CellbenchError {
  constructor(deviceId: string, driver: string, problem: string) {
    super("CHAMBER_BAD_OPTIONS", `device "${deviceId}" (${driver}): ${problem}`);
  }
}
