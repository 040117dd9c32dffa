import { CellbenchError } from "../../protocols/cellbench-error.js";

export class UnknownChannelError extends CellbenchError {
  constructor(channel: string, known: string[]) {
    super("UNKNOWN_CHANNEL", `no channel "${channel}" on this bench; use one of: ${known.join(", ")}`);
  }
}

export class ChannelBusyError extends CellbenchError {
  constructor(channel: string, runId: string, state: string) {
    const what =
      state === "interrupted"
        ? `holds run ${runId}, interrupted by a restart or shutdown; resume or stop it`
        : `holds run ${runId} (${state}); stop that run`;
    super("CHANNEL_BUSY", `channel ${channel} ${what}, or choose another channel`);
  }
}

export class ChamberOwnedError extends CellbenchError {
  /** `owner`: who drives it, `run R…` (from a run id) or `batch B…`. */
  constructor(chamber: string, owner: string) {
    const who = owner.includes(" ") ? owner : `run ${owner}`;
    super(
      "CHAMBER_OWNED",
      `chamber ${chamber} is driven by ${who}; a profile with chamber steps needs the chamber to itself — wait for it, remove the chamber steps, or run the channels together as a batch (POST /api/v1/batches)`,
    );
  }
}

export class SpeedNotAllowedError extends CellbenchError {
  constructor(speed: number, realDevices: string[]) {
    super(
      "SPEED_REAL_HARDWARE",
      `--speed ${speed} is only for simulated benches; devices ${realDevices.join(", ")} are real hardware — use --speed 1`,
    );
  }
}

export class ChamberSetpointRefusedError extends CellbenchError {
  constructor(reason: string) {
    super("CHAMBER_SETPOINT_REFUSED", reason);
  }
}

export class ChamberLatchedError extends CellbenchError {
  constructor(chamber: string, reason: string) {
    super(
      "CHAMBER_LATCHED",
      `chamber ${chamber} is in safe state after a safety fault (${reason}); clear it (POST /api/v1/chambers/${chamber}/clear) once the cause is dealt with`,
    );
  }
}

export class UnknownChamberError extends CellbenchError {
  constructor(chamber: string, known: string[]) {
    super(
      "UNKNOWN_CHAMBER",
      `no chamber "${chamber}" on this bench; use one of: ${known.join(", ") || "(none)"}`,
    );
  }
}

export class SensorNotAvailableError extends CellbenchError {
  constructor(where: string, sensor: { device: string; input: string }, problem: string) {
    super("SENSOR_NOT_AVAILABLE", `${where}: sensor ${sensor.device}:${sensor.input}: ${problem}`);
  }
}
