import { CellbenchError } from "../../protocols/cellbench-error.js";

/** One problem in a request: where (`body.channel`, `body.profile.steps[2]`) and what to change. */
export interface RequestIssue {
  path: string;
  message: string;
}

/** The request itself is malformed (wrong type, missing field, unknown key); `issues` name the fields. */
export class RequestInvalidError extends CellbenchError {
  constructor(
    readonly issues: RequestIssue[],
    summary?: string,
  ) {
    super(
      "REQUEST_INVALID",
      summary ?? issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; "),
    );
  }
}

export class UnauthorizedError extends CellbenchError {
  constructor(message: string) {
    super("UNAUTHORIZED", message);
  }
}

export class ForbiddenError extends CellbenchError {
  constructor(role: string, needed: string) {
    super(
      "FORBIDDEN",
      `this token has role ${role}; the request needs ${needed} or higher — use an ${needed} token`,
    );
  }
}

export class UnknownProfileError extends CellbenchError {
  constructor(id: string) {
    super(
      "UNKNOWN_PROFILE",
      `no stored profile "${id}"; list profiles with GET /api/v1/profiles or store one first`,
    );
  }
}

export class IdempotencyKeyReusedError extends CellbenchError {
  constructor(key: string) {
    super(
      "IDEMPOTENCY_KEY_REUSED",
      `Idempotency-Key "${key}" was already used with a different request body; send a new key for a new request`,
    );
  }
}

export class StorageUnavailableError extends CellbenchError {
  constructor() {
    super(
      "STORAGE_UNAVAILABLE",
      "this daemon has no storage (InfluxDB) configured, so there is nothing to export; add influx to the bench configuration",
    );
  }
}

export type BusyCode = "TOO_MANY_CONCURRENT" | "SERVER_BUSY" | "DRY_RUN_BUSY";

/**
 * Too much of one kind of work at once: per token (TOO_MANY_CONCURRENT, 429) or in total
 * (SERVER_BUSY, or DRY_RUN_BUSY for the dry-run simulator, 503).
 */
export class BusyError extends CellbenchError {
  constructor(
    code: BusyCode,
    message: string,
    readonly retryAfterS: number,
  ) {
    super(code, message);
  }
}

export class ProfileStoreFullError extends CellbenchError {
  constructor(limit: number) {
    super(
      "PROFILE_STORE_FULL",
      `the profile store holds its maximum of ${limit} profiles; reuse a stored profile_id`,
    );
  }
}

/** An error fastify raised before a handler ran (body too large, bad JSON, wrong content type, rate limit). */
export class HttpProtocolError extends CellbenchError {
  constructor(
    code: string,
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}
