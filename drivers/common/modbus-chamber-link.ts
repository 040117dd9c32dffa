/**
 * The Modbus side of a chamber controller's connection, shared by the watlow/f4 (RTU) and
 * watlow/f4t (TCP) drivers: one lease on the shared bus of its URL (several controllers may sit on
 * one RS-485 line), one ChamberSession following the link, the controller attached while it lasts.
 */
import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import { sharedModbusBuses } from "../../protocols/modbus/modbus-bus-pool.js";
import type { Chamber, Device, DeviceConfig, DriverContext, LinkEvent } from "../capabilities.js";
import type { ChamberOptionReader } from "./chamber-options.js";
import { ChamberSession, type ChamberSessionState } from "./chamber-session.js";

/** What a Modbus chamber driver's controller does when the link comes and goes. */
export interface ModbusChamberController {
  /** Checks the controller's identity and configuration on every (re)connect. */
  identify(modbus: ModbusDevice): Promise<void>;
  /** Re-applies what was commanded (set point or safe state) after a reconnect. */
  restore(): Promise<void>;
  attach(modbus: ModbusDevice, session: ChamberSession): void;
  detach(): void;
}

export interface ModbusLinkSettings {
  url: string;
  unit: number;
  timeoutMs: number;
  minGapMs: number;
  connectTimeoutMs: number;
  retryMs: number;
}

/** What readModbusLinkSettings needs of an option reader (ChamberOptionReader, or another device kind's). */
export type ModbusLinkOptionSource = Pick<ChamberOptionReader, "transport" | "integer" | "number" | "fail">;

/**
 * Reads the link options every Modbus driver takes: the transport URL, the unit id (from
 * `options.unit` or `?unit=` in the URL, not both differently), timeouts, pacing and retry.
 */
export function readModbusLinkSettings(
  o: ModbusLinkOptionSource,
  defaults: { exampleUrl: string; units: [number, number]; timeoutMs: number; minGapMs: number },
): ModbusLinkSettings {
  const url = o.transport(defaults.exampleUrl);
  const [lo, hi] = defaults.units;
  // Same parameter name rule as parseTransportUrl (case-insensitive), and the whole value: `?Unit=5` or
  // `?unit=abc` must not fall back to unit 1, which may be another controller on the same line.
  const fromUrl = /[?&]unit=([^&#]*)/i.exec(url)?.[1];
  if (fromUrl !== undefined && !/^\d+$/.test(fromUrl))
    o.fail(`the transport says unit=${fromUrl}; write the Modbus unit id as a whole number in ${lo}..${hi}`);
  const unitOption = o.integer("unit", undefined, lo, hi);
  if (fromUrl !== undefined && unitOption !== undefined && Number(fromUrl) !== unitOption) {
    o.fail(`the transport says unit=${fromUrl} but options.unit is ${unitOption}; keep one`);
  }
  const unit = unitOption ?? (fromUrl !== undefined ? Number(fromUrl) : 1);
  if (!(unit >= lo && unit <= hi)) o.fail(`unit ${unit} is outside ${lo}..${hi}`);
  return {
    url,
    unit,
    timeoutMs: o.number("timeoutMs", defaults.timeoutMs, 10, 60_000),
    minGapMs: o.number("minGapMs", defaults.minGapMs, 0, 10_000),
    connectTimeoutMs: o.number("connectTimeoutMs", 5000, 10, 600_000),
    retryMs: o.number("retryMs", 2000, 10, 600_000),
  };
}

export class ModbusChamberLink {
  private lease: ReturnType<typeof sharedModbusBuses.acquire> | undefined;
  private session: ChamberSession | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly deviceId: string,
    readonly settings: ModbusLinkSettings,
    private readonly onLinkEvent?: (event: LinkEvent) => void,
  ) {}

  /** Where the connection stands: ready, link-down, identifying, not-ready, closed. */
  get state(): ChamberSessionState {
    return this.session?.state ?? "closed";
  }

  /** Connects once; a call while connecting waits for the same attempt. */
  connect(controller: ModbusChamberController): Promise<void> {
    this.connecting ??= this.open(controller).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(controller: ModbusChamberController): Promise<void> {
    if (this.session) return;
    const s = this.settings;
    const lease = sharedModbusBuses.acquire(s.url, { timeoutMs: s.timeoutMs });
    const modbus = lease.bus.device({ unit: s.unit, timeoutMs: s.timeoutMs, minGapMs: s.minGapMs });
    const session = new ChamberSession(
      this.deviceId,
      lease.transport,
      { identify: () => controller.identify(modbus), restore: () => controller.restore() },
      {
        connectTimeoutMs: s.connectTimeoutMs,
        retryMs: s.retryMs,
        ...(this.onLinkEvent ? { onLinkEvent: this.onLinkEvent } : {}),
      },
    );
    try {
      await session.connect();
    } catch (err) {
      await lease.release();
      throw err;
    }
    this.lease = lease;
    this.session = session;
    controller.attach(modbus, session);
  }

  /** Closes the link (after a connect() under way has settled) and lets go of the bus lease. */
  async close(controller: ModbusChamberController): Promise<void> {
    await this.connecting?.catch(() => undefined);
    const lease = this.lease;
    this.session?.close();
    this.session = undefined;
    this.lease = undefined;
    controller.detach();
    await lease?.release();
  }
}

/**
 * The Device side every Modbus chamber driver shares: no cycler channels, one chamber controller,
 * one ModbusChamberLink carrying its connection. Subclasses read their own options and build the
 * chamber after `super()`.
 */
export abstract class ModbusChamberDevice<C extends Chamber & ModbusChamberController> implements Device {
  abstract readonly driver: string;
  abstract readonly chamber: C;
  readonly id: string;
  readonly channels = [] as const;
  readonly unit: number;
  private readonly link: ModbusChamberLink;

  protected constructor(
    config: DeviceConfig,
    context: Pick<DriverContext, "reportLink"> | undefined,
    settings: ModbusLinkSettings,
  ) {
    this.id = config.id;
    this.unit = settings.unit;
    this.link = new ModbusChamberLink(this.id, settings, (event) => context?.reportLink?.(config.id, event));
  }

  /** Where the connection stands: ready, link-down, identifying, not-ready, closed. */
  get linkState(): ChamberSessionState {
    return this.link.state;
  }

  connect(): Promise<void> {
    return this.link.connect(this.chamber);
  }

  close(): Promise<void> {
    return this.link.close(this.chamber);
  }
}
