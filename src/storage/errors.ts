import { CellbenchError } from "../../protocols/cellbench-error.js";

/** A record cannot be written as InfluxDB line protocol (bad tag value, non-integer counter, bad time). */
export class LineProtocolError extends CellbenchError {
  constructor(message: string) {
    super("LINE_PROTOCOL_INVALID", message);
  }
}

/** The outbox database could not be opened or written. */
export class OutboxError extends CellbenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("OUTBOX_FAILED", message, options);
  }
}

/**
 * The database, retention policies or continuous queries could not be created or checked.
 * `serverAnswered` tells a refusal (permissions, a server without CREATE DATABASE) from no answer.
 */
export class InfluxSchemaError extends CellbenchError {
  readonly serverAnswered: boolean;
  constructor(message: string, options: { cause?: unknown; serverAnswered?: boolean } = {}) {
    super("INFLUX_SCHEMA_FAILED", message, { cause: options.cause });
    this.serverAnswered = options.serverAnswered ?? false;
  }
}

/** Reading a run back from InfluxDB failed. */
export class ExportQueryError extends CellbenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EXPORT_QUERY_FAILED", message, options);
  }
}

/** The storage configuration is inconsistent (e.g. both a token and a password). */
export class StorageConfigError extends CellbenchError {
  constructor(message: string) {
    super("STORAGE_CONFIG_INVALID", message);
  }
}
