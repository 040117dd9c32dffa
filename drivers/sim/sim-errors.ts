/** Errors the simulated drivers raise; codes are stable. */
import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A `sim/cycler` or `sim/chamber` device entry has options the simulator cannot use. */
export class SimOptionsError extends CellbenchError {
  constructor(deviceId: string, problem: string) {
    super("SIM_BAD_OPTIONS", `device "${deviceId}": ${problem}`);
  }
}

/** The device was used before connect() or after close(). */
export class SimNotConnectedError extends CellbenchError {
  constructor(deviceId: string, action: string) {
    super("SIM_NOT_CONNECTED", `device "${deviceId}" is not connected; call connect() before ${action}`);
  }
}

/** An injected "dropped reply" fault: the command got no answer and was not carried out. */
export class SimNoReplyError extends CellbenchError {
  constructor(target: string, action: string) {
    super(
      "SIM_NO_REPLY",
      `no reply from ${target} to ${action} (injected fault; clear it with faults.set({ dropReplies: undefined }))`,
    );
  }
}

/** A set point outside what the channel or chamber can do; nothing was applied. */
export class SetpointOutOfRangeError extends CellbenchError {
  constructor(target: string, problem: string) {
    super("SETPOINT_OUT_OF_RANGE", `${target}: ${problem}`);
  }
}
