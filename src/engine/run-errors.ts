import { CellbenchError } from "../../protocols/cellbench-error.js";
import type { RunState } from "../run/records.js";

export class InvalidTransitionError extends CellbenchError {
  constructor(
    readonly runId: string,
    readonly from: RunState,
    readonly action: string,
  ) {
    super("RUN_INVALID_TRANSITION", `run ${runId} is ${from}: cannot ${action} it (${allowedHint(from)})`);
  }
}

function allowedHint(state: RunState): string {
  switch (state) {
    case "queued":
      return "start, stop or abort a queued run";
    case "running":
      return "a running run can be paused, stopped or aborted";
    case "paused":
      return "a paused run can be resumed, stopped or aborted";
    case "interrupted":
      return "an interrupted run can be resumed or stopped";
    default:
      return "it has ended; start a new run";
  }
}
