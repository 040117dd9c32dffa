/**
 * What the Watlow F4 and F4T chamber drivers share: the commanded state a reconnect restores, the
 * chamber range (options.rangeC within the controller's set point limits), the safe set point, and
 * the guards that refuse calls before anything reaches the wire. Subclasses read and write registers.
 */
import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import type { Chamber, ChamberRanges, ChamberReading } from "../capabilities.js";
import { assertSetpointInRange, requireReady } from "../common/chamber-guards.js";
import { intersectRanges } from "../common/chamber-options.js";
import type { ChamberSession } from "../common/chamber-session.js";
import type { ModbusChamberController } from "../common/modbus-chamber-link.js";

/** Both controllers span this when neither options.rangeC nor the controller's limits are known. */
const DEFAULT_RANGE_C: [number, number] = [-40, 110];

type Commanded = { kind: "setpoint"; celsius: number } | { kind: "safe" } | undefined;

export abstract class WatlowChamber implements Chamber, ModbusChamberController {
  protected modbus: ModbusDevice | undefined;
  protected session: ChamberSession | undefined;
  /** The controller's set point limits, read by identify() on every (re)connect. */
  protected limitsC: [number, number] | undefined;
  private commanded: Commanded;

  constructor(
    readonly id: string,
    protected readonly chamberRangeC: [number, number] | undefined,
    private readonly safeSetpointC: number,
  ) {}

  /** The chamber's range: options.rangeC within the controller's set point limits (known after connect). */
  get ranges(): ChamberRanges {
    const range = this.limitsC
      ? intersectRanges(this.limitsC, this.chamberRangeC)
      : (this.chamberRangeC ?? DEFAULT_RANGE_C);
    return { temperatureC: range ?? [Number.NaN, Number.NaN] };
  }

  abstract read(): Promise<ChamberReading>;

  /** @internal Checks the controller's identity and configuration; on connect and after every reconnect. */
  abstract identify(modbus: ModbusDevice): Promise<void>;

  /** Writes the set point registers (never EEPROM). */
  protected abstract writeSetpoint(celsius: number): Promise<void>;

  /** Names where the set point limits come from, for range errors. */
  protected abstract limitsSource(): string;

  async setSetpoint(celsius: number): Promise<void> {
    this.require("setSetpoint()");
    this.checkRange(celsius);
    await this.writeSetpoint(celsius);
    this.commanded = { kind: "setpoint", celsius };
  }

  async toSafeState(): Promise<void> {
    // Remembered before anything can fail: a reconnect then restores the safe state, not an old set point.
    this.commanded = { kind: "safe" };
    this.require("toSafeState()");
    await this.writeSetpoint(this.safeSetpoint());
  }

  /** @internal Re-applies the last command after a reconnect. */
  async restore(): Promise<void> {
    const commanded = this.commanded;
    if (commanded?.kind === "setpoint") {
      this.checkRange(commanded.celsius);
      await this.writeSetpoint(commanded.celsius);
    } else if (commanded?.kind === "safe") {
      await this.writeSetpoint(this.safeSetpoint());
    }
  }

  /** @internal */
  attach(modbus: ModbusDevice, session: ChamberSession): void {
    this.modbus = modbus;
    this.session = session;
  }

  /** @internal */
  detach(): void {
    this.modbus = undefined;
    this.session = undefined;
  }

  protected require(action: string): void {
    requireReady(this.id, this.session, action);
  }

  private checkRange(celsius: number): void {
    assertSetpointInRange(this.id, celsius, this.ranges.temperatureC, this.limitsSource());
  }

  /** The configured safe set point, clamped into the chamber's range. */
  private safeSetpoint(): number {
    const [lo, hi] = this.ranges.temperatureC;
    return Math.min(hi, Math.max(lo, this.safeSetpointC));
  }
}
