import { CellbenchError } from "../../protocols/cellbench-error.js";

export class QueueEntryUnknownError extends CellbenchError {
  constructor(id: string, started: boolean) {
    super(
      "QUEUE_ENTRY_UNKNOWN",
      started
        ? `run ${id} is no longer queued: it has started; stop it with POST /api/v1/runs/${id}/stop`
        : `no queued run "${id}"; list a channel's queue with GET /api/v1/channels/:id/queue`,
    );
  }
}
