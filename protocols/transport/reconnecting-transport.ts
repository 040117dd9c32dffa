import { EventEmitter } from "node:events";
import { CellbenchError } from "../cellbench-error.js";
import type {
  OpenOptions,
  ReconnectOptions,
  Transport,
  TransportEvents,
  TransportState,
  TransportStateChange,
} from "./transport.js";
import {
  describeError,
  TransportClosedError,
  TransportNotConnectedError,
  TransportOpenError,
  TransportWriteError,
} from "./transport-errors.js";
import type { TransportSpec } from "./transport-url.js";

/** Callbacks a link reports through; calls from a link that is no longer current are ignored. */
export interface LinkHandlers {
  data(chunk: Buffer): void;
  /** The link is gone; call once (further calls are ignored). */
  lost(error: CellbenchError): void;
}

/** One established connection (one SerialPort instance, one socket, one memory plug-in). */
export interface Link {
  write(bytes: Buffer): Promise<void>;
  /** Releases the link; must not call `lost`. */
  close(): Promise<void>;
}

interface OpenWaiter {
  resolve(): void;
  reject(error: CellbenchError): void;
}

const DEFAULT_RECONNECT: Required<ReconnectOptions> = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2 };

/**
 * Shared state machine of every transport: open, reconnect with exponential back-off on a fresh link
 * each time, close. Subclasses only know how to establish one link.
 */
export abstract class ReconnectingTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly url: string;
  private currentState: TransportState = "idle";
  private error: CellbenchError | undefined;
  private link: Link | undefined;
  private generation = 0;
  private attempt = 0;
  private backoffStep = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<OpenWaiter>();
  private readonly reconnect: Required<ReconnectOptions> | false;

  protected constructor(
    readonly spec: TransportSpec,
    reconnect: ReconnectOptions | false | undefined,
  ) {
    super();
    this.url = spec.url;
    this.reconnect = reconnect === false ? false : { ...DEFAULT_RECONNECT, ...reconnect };
  }

  /** Establishes one link; rejects with the raw cause when it cannot. */
  protected abstract connectLink(handlers: LinkHandlers): Promise<Link>;

  /** Returns advice for a failed attempt ("check the path exists ..."). */
  protected abstract openHint(cause: unknown): string;

  get state(): TransportState {
    return this.currentState;
  }

  get lastError(): CellbenchError | undefined {
    return this.error;
  }

  open(options: OpenOptions = {}): Promise<void> {
    if (this.currentState === "connected") return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(this.gaveUp(signal.reason));
    const waiting = new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(this.gaveUp(signal?.reason));
      };
      const waiter: OpenWaiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    if (
      this.currentState === "idle" ||
      this.currentState === "closed" ||
      this.currentState === "disconnected"
    ) {
      this.attempt = 0;
      this.backoffStep = 0;
      this.setState("connecting");
      if ((this.currentState as TransportState) === "connecting") this.tryConnect();
    }
    return waiting;
  }

  write(bytes: Uint8Array): Promise<void> {
    const link = this.link;
    if (this.currentState !== "connected" || link === undefined)
      return Promise.reject(new TransportNotConnectedError(this.url, this.currentState));
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return link.write(buffer).catch((cause: unknown) => {
      throw new TransportWriteError(this.url, describeError(cause), { cause });
    });
  }

  async close(): Promise<void> {
    if (this.currentState === "closed") return;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const link = this.link;
    this.link = undefined;
    this.setState("closed");
    const closed = new TransportClosedError(this.url);
    for (const waiter of [...this.waiters]) waiter.reject(closed);
    this.waiters.clear();
    if (link) await link.close().catch(() => undefined);
  }

  /** Skips the back-off wait when the cause of the outage is known to be gone (a cable plugged back in). */
  protected retryNow(): void {
    if (this.currentState !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.tryConnect();
  }

  private tryConnect(): void {
    const generation = ++this.generation;
    let lostReported = false;
    const handlers: LinkHandlers = {
      data: (chunk) => {
        if (generation === this.generation && this.currentState === "connected") this.emit("data", chunk);
      },
      lost: (error) => {
        if (lostReported || generation !== this.generation) return;
        lostReported = true;
        this.onLost(error);
      },
    };
    this.connectLink(handlers).then(
      (link) => {
        if (generation !== this.generation) {
          lostReported = true;
          void link.close().catch(() => undefined);
          return;
        }
        this.link = link;
        this.attempt = 0;
        this.backoffStep = 0;
        this.error = undefined;
        this.setState("connected");
        for (const waiter of [...this.waiters]) waiter.resolve();
        this.waiters.clear();
      },
      (cause: unknown) => {
        if (generation !== this.generation) return;
        this.onAttemptFailed(
          cause instanceof CellbenchError
            ? cause
            : new TransportOpenError(this.url, describeError(cause), this.openHint(cause), { cause }),
        );
      },
    );
  }

  private onAttemptFailed(error: CellbenchError): void {
    this.error = error;
    this.attempt++;
    if (this.reconnect === false) {
      this.setState("disconnected", { error });
      for (const waiter of [...this.waiters]) waiter.reject(error);
      this.waiters.clear();
      return;
    }
    this.scheduleRetry(error);
  }

  private onLost(error: CellbenchError): void {
    const link = this.link;
    this.link = undefined;
    this.generation++;
    if (link) void link.close().catch(() => undefined);
    this.error = error;
    this.attempt = 0;
    this.setState("disconnected", { error });
    if (this.reconnect !== false && this.currentState === "disconnected") this.scheduleRetry(error);
  }

  private scheduleRetry(error: CellbenchError): void {
    if (this.reconnect === false) return;
    const { initialDelayMs, maxDelayMs, factor } = this.reconnect;
    const retryInMs = Math.min(maxDelayMs, initialDelayMs * factor ** this.backoffStep);
    this.backoffStep++;
    this.setState("reconnecting", { error, attempt: this.attempt, retryInMs });
    if (this.currentState !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.currentState === "reconnecting") this.tryConnect();
    }, retryInMs);
  }

  private setState(
    state: TransportState,
    detail: Omit<TransportStateChange, "state" | "previous"> = {},
  ): void {
    const previous = this.currentState;
    this.currentState = state;
    this.emit("state", { state, previous, ...detail });
  }

  private gaveUp(reason: unknown): TransportOpenError {
    const last = this.error ? `last failure: ${this.error.message}` : `state ${this.currentState}`;
    const why =
      reason instanceof Error && reason.name === "TimeoutError" ? "not connected in time" : "gave up waiting";
    return new TransportOpenError(
      this.url,
      `${why} (${last})`,
      "the transport keeps retrying in the background until closed",
      { cause: this.error },
    );
  }
}
