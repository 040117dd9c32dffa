/**
 * The connection life of a real chamber controller, shared by the watlow/* and espec/* drivers:
 * open the transport, identify the controller, then follow the transport's state events:
 *
 * - `disconnected`: every call fails at once with CHAMBER_LINK_DOWN (nothing is queued for later);
 * - `connected` again: identify the controller afresh (it may have been swapped or reconfigured),
 *   then restore what was last commanded (the set point, or the safe state). Meanwhile, and while
 *   identification keeps failing (retried every `retryMs` while the link is up), calls fail with
 *   CHAMBER_NOT_READY carrying the reason.
 *
 * The link supervision itself (drops during connect, one take-over loop per outage, link events) is
 * InstrumentSession's: a chamber's take-over is identify, then restore. This class maps its states
 * and refusals to the chamber's terms.
 */
import type { Transport } from "../../protocols/transport/transport.js";
import type { LinkEvent } from "../capabilities.js";
import { ChamberLinkDownError, ChamberNotConnectedError, ChamberNotReadyError } from "./chamber-errors.js";
import { InstrumentSession } from "./instrument-session.js";

export interface ChamberSessionHooks {
  /** Checks the controller's identity and reads its configuration; throws a typed error when unusable. */
  identify(): Promise<void>;
  /** Re-applies the last commanded state after a reconnect. */
  restore(): Promise<void>;
}

export type ChamberSessionState =
  | "closed"
  | "connecting"
  | "ready"
  | "link-down"
  | "identifying"
  | "not-ready";

export interface ChamberSessionOptions {
  /**
   * Time allowed for the transport to come up in connect(). Default 5000 ms. Identification is not
   * under this bound: it is bounded by the hooks' own reply timeouts.
   */
  connectTimeoutMs?: number;
  /** Delay between identification attempts after a reconnect. Default 2000 ms. */
  retryMs?: number;
  /** Told of every link change after connect() (lost, unusable once per outage, restored). */
  onLinkEvent?(event: LinkEvent): void;
}

export class ChamberSession {
  private readonly session: InstrumentSession;

  constructor(
    private readonly deviceId: string,
    private readonly transport: Transport,
    hooks: ChamberSessionHooks,
    options: ChamberSessionOptions = {},
  ) {
    this.session = new InstrumentSession({
      deviceId,
      transport,
      // The driver closes (or releases its lease on) the transport itself.
      closeTransportOnFailure: false,
      initialize: async (reason, signal) => {
        await hooks.identify();
        // Restore only what this attempt identified: after another drop the next attempt does it.
        if (reason === "reconnect" && !signal.aborted) await hooks.restore();
      },
      ...(options.onLinkEvent ? { onLinkEvent: options.onLinkEvent } : {}),
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      retryMs: options.retryMs ?? 2000,
    });
  }

  get state(): ChamberSessionState {
    const state = this.session.state;
    if (state === "reinitializing") return this.session.failedTakeOvers === 0 ? "identifying" : "not-ready";
    return state === "idle" ? "closed" : state;
  }

  /** Opens the transport and identifies the controller; on failure everything is left closed. */
  async connect(): Promise<void> {
    if (this.state !== "closed") return;
    await this.session.connect();
  }

  /** Stops following the transport (the driver closes or releases the transport itself). */
  close(): void {
    this.session.close();
  }

  /** Throws the typed error explaining why `action` cannot run now; returns when the controller is ready. */
  require(action: string): void {
    switch (this.state) {
      case "ready":
        return;
      case "closed":
      case "connecting":
        throw new ChamberNotConnectedError(this.deviceId, action);
      case "link-down":
        throw new ChamberLinkDownError(this.deviceId, action, this.transport.url, this.session.lastError);
      case "identifying":
        throw new ChamberNotReadyError(this.deviceId, action, undefined);
      case "not-ready":
        throw new ChamberNotReadyError(this.deviceId, action, this.session.lastError);
    }
  }
}
