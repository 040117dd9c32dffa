/** Errors of the cell registry and of mounting cells on channels (HTTP statuses: src/http/problem.ts). */
import { CellbenchError } from "../../protocols/cellbench-error.js";

export class CellExistsError extends CellbenchError {
  constructor(id: string) {
    super(
      "CELL_EXISTS",
      `cell ${id} is already registered; show it with GET /api/v1/cells/${encodeURIComponent(id)}, change its metadata with PATCH, or register the new cell under another id`,
    );
  }
}

export class UnknownCellError extends CellbenchError {
  constructor(id: string) {
    super(
      "CELL_UNKNOWN",
      `no registered cell "${id}"; list cells with GET /api/v1/cells or register it with POST /api/v1/cells`,
    );
  }
}

const unmountHint = (channel: string) =>
  `DELETE /api/v1/channels/${channel}/cell (cellbench cell unmount ${channel}) once it is taken out`;

export class CellMountedElsewhereError extends CellbenchError {
  constructor(id: string, channel: string, how: "mounted" | "inside") {
    super(
      "CELL_MOUNTED_ELSEWHERE",
      how === "mounted"
        ? `cell ${id} is mounted on channel ${channel}; a cell is on one channel at a time — unmount it there first: ${unmountHint(channel)}`
        : `cell ${id} is still recorded inside the chamber of channel ${channel} (after its last run there); record that it was taken out first: ${unmountHint(channel)}`,
    );
  }
}

export class ChannelHasCellError extends CellbenchError {
  constructor(message: string) {
    super("CHANNEL_HAS_CELL", message);
  }

  /** Mounting `id` on a channel that holds `other` (mounted, or still inside after a run). */
  static onMount(channel: string, id: string, other: string, run?: string): ChannelHasCellError {
    return new ChannelHasCellError(
      run === undefined
        ? `channel ${channel} has cell ${other} mounted; unmount it first (${unmountHint(channel)}), then mount ${id}`
        : `cell ${other} of run ${run} is still recorded inside the chamber of channel ${channel}; mounting ${id} does not take it out — ${unmountHint(channel)}, then mount ${id}`,
    );
  }

  /** A run sent cell `sent` for a channel on which `mounted` is mounted. */
  static onRun(channel: string, sent: string, mounted: string): ChannelHasCellError {
    return new ChannelHasCellError(
      `channel ${channel} has cell ${mounted} mounted, but body.cell is ${sent}; leave out cell to run ${mounted}, or unmount it (${unmountHint(channel)}) and mount ${sent}`,
    );
  }
}

export class NoCellMountedError extends CellbenchError {
  constructor(channel: string) {
    super(
      "NO_CELL_MOUNTED",
      `channel ${channel} has no cell mounted and the request names none; mount a registered cell (PUT /api/v1/channels/${channel}/cell {"cell": ID}, cellbench cell mount ID ${channel}) or send cell in the body`,
    );
  }
}

export class CellNotMountedError extends CellbenchError {
  constructor(id: string, channel: string) {
    super(
      "CELL_NOT_MOUNTED",
      `cell ${id} is registered but not mounted on channel ${channel}; mount it (PUT /api/v1/channels/${channel}/cell {"cell": "${id}"}) so its history follows it, then start the run without cell`,
    );
  }
}

export class CellSpecMismatchError extends CellbenchError {
  constructor(id: string, fields: string[]) {
    super(
      "CELL_SPEC_MISMATCH",
      `body.cell differs from registered cell ${id} in ${fields.join(", ")}; leave out cell to run it with its registered limits`,
    );
  }
}

export class CellLimitsLockedError extends CellbenchError {
  constructor(id: string, runs: number, fields: string[]) {
    super(
      "CELL_LIMITS_LOCKED",
      `cell ${id} has ${runs} run${runs === 1 ? "" : "s"} recorded under its present limits, so ${fields.join(", ")} cannot change: ` +
        "its history (cycle count, capacity, throughput) would no longer say what the runs were held to; " +
        "change only maker, lot, format, mass_g, operator, project, notes or description, or register the cell anew under another id",
    );
  }
}
