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
