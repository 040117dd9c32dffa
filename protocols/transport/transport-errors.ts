import { CellbenchError } from "../cellbench-error.js";

/** A transport URL that cannot be used as written; the message says what to change. */
export class TransportUrlError extends CellbenchError {
  constructor(
    readonly url: string,
    problem: string,
  ) {
    super("TRANSPORT_URL_INVALID", `Invalid transport URL "${url}": ${problem}`);
  }
}

/** Opening the port or connection failed (possibly after retries); `cause` holds the last failure. */
export class TransportOpenError extends CellbenchError {
  constructor(
    readonly url: string,
    detail: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super("TRANSPORT_OPEN_FAILED", `Cannot open ${url}: ${detail}; ${hint}`, options);
  }
}

/** The link went down while in use (cable pulled, peer closed the connection, pty vanished). */
export class TransportDisconnectedError extends CellbenchError {
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("TRANSPORT_DISCONNECTED", `${url} disconnected: ${detail}`, options);
  }
}

/** A write or request was attempted while the link is down; nothing was sent. */
export class TransportNotConnectedError extends CellbenchError {
  constructor(
    readonly url: string,
    state: string,
  ) {
    super(
      "TRANSPORT_NOT_CONNECTED",
      `${url} is ${state}; nothing was sent. Wait for the "connected" state (the transport reconnects by itself)`,
    );
  }
}

/** The transport was closed by its owner; pending opens and requests end with this. */
export class TransportClosedError extends CellbenchError {
  constructor(readonly url: string) {
    super("TRANSPORT_CLOSED", `${url} was closed; open it again to use it`);
  }
}

/** Writing to an open link failed. */
export class TransportWriteError extends CellbenchError {
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("TRANSPORT_WRITE_FAILED", `Write to ${url} failed: ${detail}`, options);
  }
}

/** Two users asked for the same port with different settings (e.g. two baud rates on one RS-485 line). */
export class TransportConflictError extends CellbenchError {
  constructor(message: string) {
    super("TRANSPORT_CONFLICT", message);
  }
}

/** Returns the message of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null && "message" in err) return String(err.message);
  return String(err);
}
