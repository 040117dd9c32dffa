/** Errors of the modbus/temperature-inputs driver; codes are stable. */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A device entry whose transport or options the driver cannot use. */
export class TemperatureInputsOptionsError extends CellbenchError {
  constructor(deviceId: string, driver: string, problem: string) {
    super("TEMPERATURE_INPUTS_BAD_OPTIONS", `device "${deviceId}" (${driver}): ${problem}`);
  }
}

/** scan() before connect() or after close(). */
export class TemperatureInputsNotConnectedError extends CellbenchError {
  constructor(deviceId: string, action: string) {
    super(
      "TEMPERATURE_INPUTS_NOT_CONNECTED",
      `temperature inputs "${deviceId}" are not connected; call connect() before ${action}`,
    );
  }
}

/** The link to the module is down (unplugged, TCP dropped); the transport is reconnecting. */
export class TemperatureInputsLinkDownError extends CellbenchError {
  constructor(deviceId: string, action: string, url: string, cause?: unknown) {
    super(
      "TEMPERATURE_INPUTS_LINK_DOWN",
      `temperature inputs "${deviceId}": ${action} refused, the link ${url} is down` +
        `${cause instanceof Error ? ` (${cause.message})` : ""}; it reconnects by itself: check the cable, the adapter or the network`,
      { cause },
    );
  }
}

/** The link is back but the module has not been checked again yet (or the check keeps failing). */
export class TemperatureInputsNotReadyError extends CellbenchError {
  constructor(deviceId: string, action: string, cause?: unknown) {
    super(
      "TEMPERATURE_INPUTS_NOT_READY",
      `temperature inputs "${deviceId}": ${action} refused, the module is not identified yet` +
        (cause instanceof Error ? `: ${cause.message}` : " (identification after reconnect under way)"),
      { cause },
    );
  }
}

/** The module answers, but is set up in a way the driver must not work with. */
export class TemperatureInputsConfigError extends CellbenchError {
  constructor(deviceId: string, problem: string, fix: string) {
    super("TEMPERATURE_INPUTS_BAD_CONFIG", `temperature inputs "${deviceId}": ${problem}; ${fix}`);
  }
}
