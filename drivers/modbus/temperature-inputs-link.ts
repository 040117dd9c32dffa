/**
 * The connection of a Modbus input module: a lease on the shared bus of its URL (modules share RS-485
 * lines with chambers and each other, one request at a time through the bus queue), the link
 * supervision of InstrumentSession (identify at connect, again after every reconnect), and its states
 * and refusals in the terms of temperature inputs.
 */
import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import { type ModbusLineLease, sharedModbusBuses } from "../../protocols/modbus/modbus-bus-pool.js";
import type { LinkEvent } from "../capabilities.js";
import { InstrumentSession } from "../common/instrument-session.js";
import type { ModbusLinkSettings } from "../common/modbus-chamber-link.js";
import {
  TemperatureInputsLinkDownError,
  TemperatureInputsNotConnectedError,
  TemperatureInputsNotReadyError,
} from "./temperature-inputs-errors.js";

export type TemperatureInputsLinkState =
  | "closed"
  | "connecting"
  | "ready"
  | "link-down"
  | "identifying"
  | "not-ready";

export class TemperatureInputsLink {
  private lease: ModbusLineLease | undefined;
  private session: InstrumentSession | undefined;
  private modbus: ModbusDevice | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly deviceId: string,
    readonly settings: ModbusLinkSettings,
    private readonly onLinkEvent?: (event: LinkEvent) => void,
  ) {}

  get state(): TemperatureInputsLinkState {
    const session = this.session;
    if (session === undefined) return this.connecting !== undefined ? "connecting" : "closed";
    const state = session.state;
    if (state === "reinitializing") return session.failedTakeOvers === 0 ? "identifying" : "not-ready";
    return state === "idle" ? "closed" : state;
  }

  /** Connects once (`identify` runs now and after every reconnect); a call while connecting joins it. */
  connect(identify: (modbus: ModbusDevice) => Promise<void>): Promise<void> {
    this.connecting ??= this.open(identify).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(identify: (modbus: ModbusDevice) => Promise<void>): Promise<void> {
    if (this.session) return;
    const s = this.settings;
    const lease = sharedModbusBuses.acquire(s.url, { timeoutMs: s.timeoutMs });
    const modbus = lease.bus.device({ unit: s.unit, timeoutMs: s.timeoutMs, minGapMs: s.minGapMs });
    const session = new InstrumentSession({
      deviceId: this.deviceId,
      transport: lease.transport,
      // The line is shared: the pool closes its transport when the last device lets go.
      closeTransportOnFailure: false,
      initialize: () => identify(modbus),
      ...(this.onLinkEvent ? { onLinkEvent: this.onLinkEvent } : {}),
      connectTimeoutMs: s.connectTimeoutMs,
      retryMs: s.retryMs,
    });
    try {
      await session.connect();
    } catch (err) {
      await lease.release();
      throw err;
    }
    this.lease = lease;
    this.session = session;
    this.modbus = modbus;
  }

  /** Returns the module's handle when it may be asked now; throws why not otherwise (nothing is sent). */
  require(action: string): ModbusDevice {
    const state = this.state;
    switch (state) {
      case "ready":
        return this.modbus!;
      case "link-down":
        throw new TemperatureInputsLinkDownError(
          this.deviceId,
          action,
          this.settings.url,
          this.session?.lastError,
        );
      case "identifying":
        throw new TemperatureInputsNotReadyError(this.deviceId, action);
      case "not-ready":
        throw new TemperatureInputsNotReadyError(this.deviceId, action, this.session?.lastError);
      default:
        throw new TemperatureInputsNotConnectedError(this.deviceId, action);
    }
  }

  /** The error to report for a request that failed: the lost link when the link went down meanwhile. */
  explain(action: string, err: unknown): unknown {
    const state = this.state;
    if (state === "link-down" || state === "identifying" || state === "not-ready")
      return new TemperatureInputsLinkDownError(this.deviceId, action, this.settings.url, err);
    return err;
  }

  /** Stops following the link (after a connect() under way has settled) and lets go of the bus lease. */
  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    const lease = this.lease;
    this.session?.close();
    this.session = undefined;
    this.modbus = undefined;
    this.lease = undefined;
    await lease?.release();
  }
}
