import type { CellbenchError } from "../cellbench-error.js";
import type { TransportSpec } from "./transport-url.js";

/**
 * - `idle`: created, never opened.
 * - `connecting`: first attempt after `open()`.
 * - `connected`: bytes flow.
 * - `disconnected`: the link dropped (or an attempt failed with reconnect disabled); `error` says why.
 * - `reconnecting`: waiting out the back-off or retrying; emitted again after each failed attempt.
 * - `closed`: closed by its owner; `open()` starts it again.
 */
export type TransportState = "idle" | "connecting" | "connected" | "disconnected" | "reconnecting" | "closed";

export interface TransportStateChange {
  readonly state: TransportState;
  readonly previous: TransportState;
  /** Why the link dropped or why the last attempt failed. */
  readonly error?: CellbenchError;
  /** Failed attempts since the link was last up (while reconnecting). */
  readonly attempt?: number;
  /** Delay before the next attempt (while reconnecting). */
  readonly retryInMs?: number;
}

export interface TransportEvents {
  /** Bytes as they arrive; chunk boundaries carry no meaning. */
  data: [chunk: Buffer];
  /** Every state change, and every failed reconnect attempt. */
  state: [change: TransportStateChange];
}

export interface ReconnectOptions {
  /** Delay before the first retry. Default 100 ms. */
  initialDelayMs?: number;
  /** Ceiling of the exponential back-off. Default 5000 ms. */
  maxDelayMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  factor?: number;
}

export interface OpenOptions {
  /** Stops waiting (the call rejects with TRANSPORT_OPEN_FAILED); the transport keeps retrying until closed. */
  signal?: AbortSignal;
}

/**
 * A byte pipe to one instrument or bus, chosen by URL. It reconnects by itself with exponential
 * back-off after the link drops, and reports every change through `state` events so a device can put
 * its channels in safe state meanwhile. Drivers receive a Transport; they never open ports themselves.
 */
export interface Transport {
  readonly spec: TransportSpec;
  /** Canonical URL, used in every message about this transport. */
  readonly url: string;
  readonly state: TransportState;
  /** Last failure (drop or failed attempt), kept until the next successful connection. */
  readonly lastError: CellbenchError | undefined;
  /**
   * Starts the transport (idempotent) and resolves once it is connected, retrying with back-off
   * meanwhile. Rejects with TRANSPORT_OPEN_FAILED when `signal` aborts or the first attempt fails with
   * reconnect disabled, and with TRANSPORT_CLOSED when `close()` is called first.
   */
  open(options?: OpenOptions): Promise<void>;
  /** Sends bytes; rejects with TRANSPORT_NOT_CONNECTED (nothing sent) unless connected. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the link and stops reconnecting. Idempotent. */
  close(): Promise<void>;
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
  once<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
  off<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this;
}
