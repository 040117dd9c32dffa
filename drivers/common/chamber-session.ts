/**
 * The connection life of a real chamber controller, shared by the watlow/* and espec/* drivers:
 * open the transport, identify the controller, then follow the transport's state events:
 *
 * - `disconnected`: every call fails at once with CHAMBER_LINK_DOWN (nothing is queued for later);
 * - `connected` again: identify the controller afresh (it may have been swapped or reconfigured),
 *   then restore what was last commanded (the set point, or the safe state). Meanwhile, and while
 *   identification keeps failing (retried every `retryMs` while the link is up), calls fail with
 *   CHAMBER_NOT_READY carrying the reason.
 */
import type { Transport, TransportStateChange } from "../../protocols/transport/transport.js";
import { type LinkEvent, UNUSABLE_AFTER_FAILURES } from "../capabilities.js";
import { ChamberLinkDownError, ChamberNotConnectedError, ChamberNotReadyError } from "./chamber-errors.js";

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
  private current: ChamberSessionState = "closed";
  private lastError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private readonly connectTimeoutMs: number;
  private readonly retryMs: number;
  private readonly onLinkEvent: ((event: LinkEvent) => void) | undefined;
  /** The drop seen while connect() was identifying the controller, if any. */
  private dropDuringConnect: TransportStateChange | undefined;
  /** Failed identifications in a row since the link came back. */
  private failures = 0;

  constructor(
    private readonly deviceId: string,
    private readonly transport: Transport,
    private readonly hooks: ChamberSessionHooks,
    options: ChamberSessionOptions = {},
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.retryMs = options.retryMs ?? 2000;
    this.onLinkEvent = options.onLinkEvent;
  }

  get state(): ChamberSessionState {
    return this.current;
  }

  /** Opens the transport and identifies the controller; on failure everything is left closed. */
  async connect(): Promise<void> {
    if (this.current !== "closed") return;
    this.current = "connecting";
    this.dropDuringConnect = undefined;
    this.transport.on("state", this.onState);
    try {
      await this.transport.open({ signal: AbortSignal.timeout(this.connectTimeoutMs) });
      await this.hooks.identify();
      this.current = "ready";
      const drop = this.dropDuringConnect;
      this.dropDuringConnect = undefined;
      if (drop !== undefined) {
        // The link dropped after the transport opened: what was identified may not be what answers now.
        this.onState(drop);
        if (this.transport.state === "connected")
          this.onState({ state: "connected", previous: "reconnecting" });
      }
    } catch (err) {
      this.stopListening();
      throw err;
    }
  }

  /** Stops following the transport (the driver closes or releases the transport itself). */
  close(): void {
    this.stopListening();
  }

  /** Throws the typed error explaining why `action` cannot run now; returns when the controller is ready. */
  require(action: string): void {
    switch (this.current) {
      case "ready":
        return;
      case "closed":
      case "connecting":
        throw new ChamberNotConnectedError(this.deviceId, action);
      case "link-down":
        throw new ChamberLinkDownError(this.deviceId, action, this.transport.url, this.lastError);
      case "identifying":
      case "not-ready":
        throw new ChamberNotReadyError(this.deviceId, action, this.lastError);
    }
  }

  private stopListening(): void {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.transport.off("state", this.onState);
    this.current = "closed";
  }

  private readonly onState = (change: TransportStateChange): void => {
    if (this.current === "connecting") {
      if (change.state === "disconnected" && change.previous === "connected")
        this.dropDuringConnect ??= change;
      return;
    }
    if (this.current === "closed") return;
    if (change.state === "disconnected" || change.state === "closed") {
      this.generation++;
      clearTimeout(this.retryTimer);
      const wasDown = this.current === "link-down";
      this.current = "link-down";
      this.lastError = change.error;
      if (!wasDown)
        this.onLinkEvent?.({
          kind: "lost",
          transport: this.transport.url,
          reason: change.error?.message ?? "the transport reported a disconnect",
        });
    } else if (change.state === "connected") {
      this.lastError = undefined;
      this.failures = 0;
      void this.reidentify(++this.generation);
    }
  };

  private async reidentify(generation: number): Promise<void> {
    this.current = "identifying";
    try {
      await this.hooks.identify();
      if (generation !== this.generation) return;
      await this.hooks.restore();
      if (generation !== this.generation) return;
      this.current = "ready";
      this.onLinkEvent?.({ kind: "restored", transport: this.transport.url });
    } catch (err) {
      if (generation !== this.generation) return;
      this.current = "not-ready";
      this.lastError = err;
      if (++this.failures === UNUSABLE_AFTER_FAILURES) {
        this.onLinkEvent?.({
          kind: "unusable",
          transport: this.transport.url,
          reason: err instanceof Error ? err.message : "identification failed",
        });
      }
      this.retryTimer = setTimeout(() => {
        if (generation === this.generation && this.transport.state === "connected")
          void this.reidentify(generation);
      }, this.retryMs);
    }
  }
}
