/** Errors of the Watlow drivers; codes are stable. Messages say what to change on the controller. */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/** The controller on this address is not the model the driver is for. */
export class WatlowModelError extends CellbenchError {
  constructor(deviceId: string, expected: string, found: string, where: string) {
    super(
      "WATLOW_WRONG_MODEL",
      `chamber "${deviceId}": expected a ${expected} but ${where} reads ${found}; ` +
        "check the unit id and the transport, or use the driver for the controller that answered",
    );
  }
}

/** Input 1 does not measure temperature in °C; the driver refuses to scale someone else's units. */
export class WatlowUnitsError extends CellbenchError {
  constructor(deviceId: string, problem: string, change: string) {
    super("WATLOW_WRONG_UNITS", `chamber "${deviceId}": ${problem}; ${change}`);
  }
}

/** A configuration register holds a value the driver cannot work with. */
export class WatlowConfigError extends CellbenchError {
  constructor(deviceId: string, problem: string) {
    super("WATLOW_BAD_CONFIG", `chamber "${deviceId}": ${problem}`);
  }
}

/** The controller runs (or holds) a stored profile, so set point 1 written over Modbus would not take effect. */
export class WatlowProfileActiveError extends CellbenchError {
  constructor(deviceId: string, mode: number) {
    super(
      "WATLOW_PROFILE_ACTIVE",
      `chamber "${deviceId}": the controller is ${mode === 2 ? "running" : "holding"} a profile (register 200 = ${mode}); ` +
        "terminate the profile on the controller so it runs on static set point 1",
    );
  }
}

/** The controller flags its temperature input as failed (open or shorted sensor): the reading is not a temperature. */
export class WatlowInputError extends CellbenchError {
  constructor(deviceId: string, register: number, errorCode: number) {
    super(
      "WATLOW_INPUT_ERROR",
      `chamber "${deviceId}": input 1 reports error ${errorCode} (register ${register}); check the chamber's temperature sensor and its wiring`,
    );
  }
}
