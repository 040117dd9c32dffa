import { CellbenchError } from "../../protocols/cellbench-error.js";

export class UnknownBatchError extends CellbenchError {
  constructor(id: string) {
    super("UNKNOWN_BATCH", `no batch "${id}"; list batches with GET /api/v1/batches`);
  }
}

export class BatchChannelsInvalidError extends CellbenchError {
  constructor(problem: string) {
    super("BATCH_CHANNELS_INVALID", `${problem}; give each channel once, two or more of them`);
  }
}

export class BatchChannelsNotInOneChamberError extends CellbenchError {
  constructor(chamberOf: { channel: string; chamber: string | undefined }[]) {
    const where = chamberOf.map(
      (c) => `${c.channel} in ${c.chamber ? `chamber ${c.chamber}` : "no chamber"}`,
    );
    super(
      "BATCH_CHANNELS_NOT_IN_ONE_CHAMBER",
      `a batch shares one chamber, but ${where.join(", ")}; choose channels of one chamber (GET /api/v1/bench)`,
    );
  }
}
