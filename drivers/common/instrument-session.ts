/**
 * Link supervision shared by every real instrument driver: the cyclers (EA PSB SCPI/Modbus, ITECH
 * IT-M3400) directly, the chamber controllers through ChamberSession.
 *
 * - `connect()` opens the transport (bounded wait) and runs the driver's `initialize` (identity check,
 *   remote lock, output off).
 * - When the transport reports `disconnected` (or is closed under it), the output state is unknown: every command fails fast
 *   with CYCLER_OUTPUT_UNKNOWN (nothing is sent) and `onLinkDown` lets the driver cancel a stepped
 *   profile and forget cached settings.
 * - When the transport is `connected` again, `initialize("reconnect")` runs again (the instrument may
 *   have been swapped or power-cycled), retried every `retryMs` while it fails; commands keep failing
 *   fast until it has succeeded, i.e. until the output is known to be off.
 * - `exclusive()` runs multi-command sequences (apply, safe state, profile steps) one at a time.
 */
import type { CellbenchError } from "../../protocols/cellbench-error.js";
import type { Transport, TransportStateChange } from "../../protocols/transport/transport.js";
import { type LinkEvent, UNUSABLE_AFTER_FAILURES } from "../capabilities.js";
import {
  CyclerClosedWhileConnectingError,
  CyclerNotConnectedError,
  CyclerOutputUnknownError,
} from "./cycler-errors.js";

export type LinkState = "idle" | "connecting" | "ready" | "link-down" | "reinitializing" | "closed";

export interface InstrumentSessionOptions {
  deviceId: string;
  transport: Transport;
  /**
   * Closes the transport when connect() fails. Default true; false for a transport shared with other
   * devices (a Modbus line), which its owner closes when the last device lets go.
   */
  closeTransportOnFailure?: boolean;
  /**
   * Identifies the instrument, takes remote control and switches the output off. `signal` aborts
   * when the attempt no longer counts (the link dropped again, or the session was closed): a
   * multi-stage take-over checks it before each stage that commands the instrument.
   */
  initialize(reason: "connect" | "reconnect", signal: AbortSignal): Promise<void>;
  /** Runs synchronously when the link drops. */
  onLinkDown?(): void;
  /** Runs after a successful re-initialisation (the output is off). */
  onReinitialized?(): void;
  /** Told of every link change after connect() (lost, unusable once per outage, restored). */
  onLinkEvent?(event: LinkEvent): void;
  /** Bound on the wait for the transport in connect(), ms. */
  connectTimeoutMs: number;
  /** Pause between failed re-initialisations, ms. */
  retryMs: number;
}

export class InstrumentSession {
  private linkState: LinkState = "idle";
  private failure: unknown;
  private queue: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private readonly listeners = new Set<(state: LinkState) => void>();
  private reinitCount = 0;
  /** The drop seen while connect() was initialising the instrument, if any. */
  private dropDuringConnect: TransportStateChange | undefined;
  /** The take-over under way; aborted when it stops counting. */
  private attempt: AbortController | undefined;
  /** Failed re-initialisations in a row in the current outage. */
  private takeOverFailures = 0;
  /** Drops seen so far; a re-initialisation belongs to the outage it started in. */
  private drops = 0;
  private transport: Transport;

  constructor(private readonly options: InstrumentSessionOptions) {
    this.transport = options.transport;
  }

  /** Uses another transport from the next connect() on (only while not connected). */
  rebind(transport: Transport): void {
    if (this.linkState !== "idle" && this.linkState !== "closed")
      throw new Error(
        `cannot change the transport of device "${this.options.deviceId}" while ${this.linkState}`,
      );
    this.transport = transport;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** Last link or re-initialisation failure (kept until the next success). */
  get lastError(): unknown {
    return this.failure;
  }

  /** Failed re-initialisations in a row since the link last came back (0 while the first attempt runs). */
  get failedTakeOvers(): number {
    return this.takeOverFailures;
  }

  /** Successful re-initialisations after a lost link, since creation. */
  get reinitializations(): number {
    return this.reinitCount;
  }

  /** Calls `listener` on every state change; returns the function that removes it. */
  onState(listener: (state: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the session is ready (at once if it is); rejects after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.linkState === "ready") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `device "${this.options.deviceId}" not ready within ${timeoutMs} ms (state ${this.linkState}` +
              `${this.failure instanceof Error ? `, last error: ${this.failure.message}` : ""})`,
          ),
        );
      }, timeoutMs);
      const off = this.onState((state) => {
        if (state !== "ready") return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** Opens the transport and initialises the instrument; on failure the transport is closed again. */
  async connect(): Promise<void> {
    if (this.linkState === "ready") return;
    if (this.linkState !== "idle" && this.linkState !== "closed")
      throw new CyclerNotConnectedError(this.options.deviceId, `connect() (state ${this.linkState})`);
    const transport = this.transport;
    this.setState("connecting");
    this.dropDuringConnect = undefined;
    transport.on("state", this.onTransportState);
    try {
      await transport.open({ signal: AbortSignal.timeout(this.options.connectTimeoutMs) });
      this.assertStillConnecting();
      await this.exclusiveRaw(() => this.options.initialize("connect", this.newAttempt()));
      this.assertStillConnecting();
      this.failure = undefined;
      this.setState("ready");
      const drop = this.dropDuringConnect;
      this.dropDuringConnect = undefined;
      if (drop !== undefined) {
        // The link dropped after the transport opened: the output state is unknown again, and the
        // instrument answering now must be taken over afresh.
        this.onTransportState(drop);
        if (transport.state === "connected")
          this.onTransportState({ state: "connected", previous: "reconnecting" });
      }
    } catch (err) {
      transport.off("state", this.onTransportState);
      if (this.state === "connecting") this.setState("idle");
      if (this.options.closeTransportOnFailure !== false) await transport.close().catch(() => undefined);
      throw err;
    }
  }

  /** Stops supervising (the caller closes its clients and the transport). */
  close(): void {
    this.attempt?.abort();
    this.stopRetry();
    this.transport.off("state", this.onTransportState);
    this.setState("closed");
  }

  /** Throws at once unless commands may be sent now. */
  assertUsable(action: string): void {
    switch (this.linkState) {
      case "ready":
        return;
      case "link-down":
      case "reinitializing":
        throw new CyclerOutputUnknownError(this.options.deviceId, this.transport.url, action, {
          cause: this.failure,
        });
      default:
        throw new CyclerNotConnectedError(this.options.deviceId, action);
    }
  }

  /** Runs `task` after every earlier exclusive task; fails fast while the link is down. */
  exclusive<T>(action: string, task: () => Promise<T>): Promise<T> {
    this.assertUsable(action);
    return this.exclusiveRaw(async () => {
      this.assertUsable(action);
      return this.translate(action, task);
    });
  }

  /** Runs a read-only `task` (no exclusivity: the protocol client orders the bytes); fails fast while the link is down. */
  read<T>(action: string, task: () => Promise<T>): Promise<T> {
    this.assertUsable(action);
    return this.translate(action, task);
  }

  private async translate<T>(action: string, task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (err) {
      // A command cut short by a lost link says so in the drivers' own terms.
      if (this.linkState === "link-down" || this.linkState === "reinitializing")
        throw new CyclerOutputUnknownError(this.options.deviceId, this.transport.url, action, {
          cause: err,
        });
      throw err;
    }
  }

  private exclusiveRaw<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private setState(state: LinkState): void {
    if (this.linkState === state) return;
    this.linkState = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  private readonly onTransportState = (change: TransportStateChange): void => {
    if (this.linkState === "connecting") {
      if (change.state === "disconnected" && change.previous === "connected")
        this.dropDuringConnect ??= change;
      return;
    }
    // A transport closed under an open session (its owner let go of a shared line) is a drop too.
    if (change.state === "disconnected" || change.state === "closed") {
      if (this.linkState !== "ready" && this.linkState !== "reinitializing") return;
      this.failure = change.error;
      this.drops++;
      this.attempt?.abort();
      this.stopRetry();
      this.setState("link-down");
      this.options.onLinkDown?.();
      this.options.onLinkEvent?.({
        kind: "lost",
        transport: this.transport.url,
        reason: describe(change.error, "the transport reported a disconnect"),
      });
    } else if (change.state === "connected") {
      if (this.linkState !== "link-down") return;
      void this.reinitialize();
    }
  };

  private async reinitialize(): Promise<void> {
    this.setState("reinitializing");
    // An attempt still running when the link drops again belongs to that outage: once it settles it
    // must neither succeed nor keep retrying alongside the loop the reconnect has started.
    const drops = this.drops;
    const current = () => this.linkState === "reinitializing" && this.drops === drops;
    this.takeOverFailures = 0;
    while (current() && this.transport.state === "connected") {
      try {
        const signal = this.newAttempt();
        await this.exclusiveRaw(() =>
          signal.aborted ? Promise.reject(signal.reason) : this.options.initialize("reconnect", signal),
        );
        if (!current()) return;
        this.failure = undefined;
        this.reinitCount++;
        this.options.onReinitialized?.();
        this.setState("ready");
        this.options.onLinkEvent?.({ kind: "restored", transport: this.transport.url });
        return;
      } catch (err) {
        if (!current()) return;
        this.failure = err as CellbenchError;
        if (++this.takeOverFailures === UNUSABLE_AFTER_FAILURES) {
          this.options.onLinkEvent?.({
            kind: "unusable",
            transport: this.transport.url,
            reason: describe(err, "re-initialisation failed"),
          });
        }
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, this.options.retryMs);
        });
        this.wakeRetry = undefined;
      }
    }
  }

  /** Throws when close() was called while connect() was under way. */
  private assertStillConnecting(): void {
    if (this.linkState !== "connecting") throw new CyclerClosedWhileConnectingError(this.options.deviceId);
  }

  /** Aborts the attempt under way (if any) and returns the signal of a new one. */
  private newAttempt(): AbortSignal {
    this.attempt?.abort();
    this.attempt = new AbortController();
    return this.attempt.signal;
  }

  private stopRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wakeRetry?.();
  }
}

function describe(err: unknown, fallback: string): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" && err !== "" ? err : fallback;
}
