import { CellbenchError } from "../../protocols/cellbench-error.js";

export class UnknownRunError extends CellbenchError {
  constructor(id: string) {
    super("UNKNOWN_RUN", `no run "${id}"; list runs with GET /api/v1/runs`);
  }
}

export class FaultNotClearedError extends CellbenchError {
  constructor(channel: string, runId: string) {
    super(
      "CHANNEL_FAULTED",
      `channel ${channel} holds the latched fault of run ${runId}; inspect it and clear it (POST /api/v1/runs/${runId}/clear) before starting another run`,
    );
  }
}

export class TemperatureUnmeasuredError extends CellbenchError {
  constructor(channel: string, cellId: string) {
    super(
      "TEMPERATURE_UNMEASURED",
      `channel ${channel} measures no cell temperature, so the temperature limits of cell ${cellId} cannot be enforced; ` +
        `map a temperature sensor to the channel, or start the run with temperature_override: { reason: "..." } (recorded with the run)`,
    );
  }
}

export class TemperatureSensorFaultError extends CellbenchError {
  constructor(channel: string, fault: string) {
    super(
      "TEMPERATURE_SENSOR_FAULT",
      `channel ${channel} cannot start a run: ${fault}; check the sensor, its wiring and its device ` +
        "(a temperature override does not apply to a channel with configured sensors)",
    );
  }
}

/** A profile ends a step on SOC, and the cell's SOC cannot be read now (it is not at rest). */
export class SocUnknownError extends CellbenchError {
  constructor(message: string) {
    super("SOC_UNKNOWN", message);
  }
}
