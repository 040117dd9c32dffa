/**
 * `ea/psb-modbus`: Elektro-Automatik PSB 10000 over Modbus RTU (USB virtual COM port, RS-232/485
 * interface modules) or Modbus TCP (Ethernet, port 502).
 *
 * Follows: EA "Programming Guide ModBus & SCPI" for the PSB 10000 series (PGMBEN, REV 24), chapter
 * "ModBus" and its register list, cited below as [PG MB: <register>] or [PG §<section>]. The section
 * numbers below (§4.11.2 alarms, §4.11.4 sink set values, §4.11.5.2 device state, §8.3.5.2 actual
 * current) are those of cellbench's audit against that guide (issue 12); the guide itself was not at
 * hand when this was written, so page numbers are not given — check them against your copy. Registers
 * 402, 405, 500–502, 505–509 and the 0xCCCC scaling are also in cellbench's instrument notes
 * (../shared/reference/instruments.md); registers 1–20 (device type), 409 (operation mode coding) and
 * the state bits 9–10 and 16–20 come from public third-party PSB 10000 code and were NOT confirmed
 * against EA's register list: check them on the instrument.
 *
 *   identity    FC03 1..20: device type, ASCII, 2 characters per register, high byte first ("PSB 10060-60")
 *               [PG MB: 1 "Device type" — unconfirmed]
 *   remote      coil 402 ON (FC05 0xFF00) before settings, OFF on close [PG MB: 402 "Remote mode"]
 *   output      coil 405 ON / OFF [PG MB: 405 "DC output"]
 *   mode        coil 409 OFF = U/I/P, ON = U/I/R (FC05), written OFF at every (re)connect and read back
 *               (FC01) [PG MB: 409 "Operation mode UIP/UIR" — the coding is third-party, unconfirmed].
 *               In U/I/R the resistance set value acts and can limit the current; the SCPI driver sets
 *               U/I/P too (SYST:CONF:MODE UIP).
 *   alarms      coil 411 acknowledges alarms [PG §4.11.2, MB: 411]; alarm bits stay set until then. The
 *               driver NEVER writes 411: an alarm stays a fault until the operator acknowledges it.
 *   set values  holding 500 U, 501 I (source), 502 P (source) [PG MB: 500–502];
 *               499 I (sink), 498 P (sink) [PG §4.11.4, MB: 498–499] (FC06, one register each)
 *   scaling     raw = value / nominal · 0xCCCC (0xCCCC = 52428 = 100 %; up to 102 % = 53477 accepted)
 *               [PG MB: "Translating set values and actual values"]
 *   state       FC03 505–506, one 32-bit word, 505 the high half [PG §4.11.5.2, MB: 505 "Device state"]:
 *               bit 7 output on, bit 11 remote, bit 15 alarms active, bit 31 source (0) / sink (1) mode
 *               [PG §4.11.5.2]; bits 9–10 regulation mode (0 CV, 1 CR, 2 CC, 3 CP) and bits 16–20
 *               OVP, OCP, OPP, OT, PF — unconfirmed (the driver names them, and always quotes the raw word)
 *   actuals     507 U, 508 I, 509 P, scaled like set values [PG MB: 507–509]; the actual current is
 *               unsigned [PG §8.3.5.2], so it is negated while state bit 31 (sink mode) is set.
 *               (Earlier versions took the sign from bit 12, after third-party code: wrong per §4.11.5.2.)
 *
 * The instrument's nominal ratings scale every value, so they are configured (options.nominal) and
 * checked against the device type, whose name carries voltage and current (PSB 10060-60: 60 V, 60 A).
 * `profile` mode is stepped by the driver on the injected clock (profile-stepper.ts).
 *
 * Options: nominal { voltageV, currentA, powerW } (required), unit (default: the URL's ?unit=, else 0,
 * which the PSB answers on over USB), framing ("rtu" | "tcp", default by URL), timeoutMs (default
 * 1000), minGapMs, connectTimeoutMs, retryMs, limits.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import {
  IdentityMismatchError,
  type ModbusDevice,
  type ModbusLineLease,
  parseTransportUrl,
  sharedModbusBuses,
} from "../../protocols/index.js";
import type { CyclerRanges, CyclerReading, Device, DeviceConfig, DriverContext } from "../capabilities.js";
import {
  CyclerDeviceAlarmError,
  CyclerNotConnectedError,
  CyclerRatingMismatchError,
  CyclerRemoteDeniedError,
} from "../common/cycler-errors.js";
import {
  type ChannelLimits,
  DriverOptionReader,
  limitsOutsideRatings,
  type Ratings,
  rangesFrom,
} from "../common/driver-options.js";
import type { InstrumentSession, LinkState } from "../common/instrument-session.js";
import type { ChannelBackend, LevelSetpoint, SupervisedChannel } from "../common/supervised-channel.js";
import { readCyclerTimings, superviseCycler } from "../common/supervised-cycler.js";
import {
  planSetValueWrites,
  type SetValueName,
  type SupplySetValues,
  supplySetValues,
} from "../common/supply-set-values.js";
import { ALL_CYCLER_MODES } from "../sim/sim-cycler.js";

export const EA_PSB_MODBUS_DRIVER = "ea/psb-modbus";

/** Register and coil addresses [PG MB: register list]; see the file header for what is unconfirmed. */
export const EA_MODBUS = {
  deviceType: 1,
  deviceTypeRegisters: 20,
  remoteCoil: 402,
  outputCoil: 405,
  /** OFF = U/I/P, ON = U/I/R [PG MB: 409; coding unconfirmed]. */
  operationModeCoil: 409,
  /** ON acknowledges alarms [PG §4.11.2, MB: 411]; the driver never writes it. */
  acknowledgeAlarmsCoil: 411,
  sinkPower: 498,
  sinkCurrent: 499,
  voltage: 500,
  sourceCurrent: 501,
  sourcePower: 502,
  state: 505,
  actualVoltage: 507,
  actualCurrent: 508,
  actualPower: 509,
} as const;

/** State word bits (505–506 as one 32-bit value) [PG §4.11.5.2, MB: 505]. */
export const EA_STATE = {
  outputOn: 1 << 7,
  remote: 1 << 11,
  alarm: 1 << 15,
  /** Source (0) or sink (1) mode [PG §4.11.5.2: bit 31]. Unsigned: 0x8000_0000. */
  sinkMode: 0x8000_0000,
} as const;

/** Named alarm bits of the state word, OVP, OCP, OPP, OT, PF at bits 16–20 — unconfirmed (see header). */
export const EA_ALARM_BITS: ReadonlyArray<readonly [name: string, bit: number]> = [
  ["OVP", 16],
  ["OCP", 17],
  ["OPP", 18],
  ["OT", 19],
  ["PF", 20],
];

/**
 * Returns the alarms a state word reports: none unless bit 15 (alarms active) is set, then the named
 * bits that are set, or ["alarm"] when none is (the names' bit positions are unconfirmed, bit 15 is not).
 */
export function eaAlarmNames(state: number): string[] {
  if ((state & EA_STATE.alarm) === 0) return [];
  const names = EA_ALARM_BITS.filter(([, bit]) => ((state >>> bit) & 1) === 1).map(([name]) => name);
  return names.length > 0 ? names : ["alarm"];
}

/** The instrument does not take the operation mode the driver needs (U/I/P). */
export class EaOperationModeError extends CellbenchError {
  constructor(deviceId: string, detail: string) {
    super(
      "CYCLER_MODE_REFUSED",
      `device "${deviceId}" stays in U/I/R mode (${detail}): the resistance set value would limit the current. ` +
        "Switch the instrument to U/I/P (or release the interface that holds it) and reconnect",
    );
  }
}

/** Raw value of 100 % of a rating [PG MB: "Translating set values and actual values"]. */
export const EA_FULL_SCALE = 0xcccc;

const SET_VALUE_REGISTERS: Record<SetValueName, number> = {
  voltageV: EA_MODBUS.voltage,
  sourceCurrentA: EA_MODBUS.sourceCurrent,
  sinkCurrentA: EA_MODBUS.sinkCurrent,
  sourcePowerW: EA_MODBUS.sourcePower,
  sinkPowerW: EA_MODBUS.sinkPower,
};

/** Returns the raw register value of `value` on an instrument rated `nominal`. */
export function toEaRaw(value: number, nominal: number): number {
  return Math.round((value / nominal) * EA_FULL_SCALE);
}

/** Returns the value of a raw register on an instrument rated `nominal`. */
export function fromEaRaw(raw: number, nominal: number): number {
  return (raw / EA_FULL_SCALE) * nominal;
}

/** Decodes ASCII held two characters per register, high byte first; NULs and padding trimmed. */
export function registersToAscii(registers: readonly number[]): string {
  const bytes = Buffer.alloc(registers.length * 2);
  registers.forEach((r, i) => {
    bytes.writeUInt16BE(r & 0xffff, i * 2);
  });
  return bytes.toString("latin1").replace(/\0.*$/s, "").trim();
}

/** Returns the voltage and current a PSB model name encodes ("PSB 10060-60" → 60 V, 60 A), if it does. */
export function ratingsOfModel(model: string): { voltageV: number; currentA: number } | undefined {
  const m = /^PSBE?\s*1(\d{4})-(\d+)/i.exec(model.trim());
  if (!m) return undefined;
  return { voltageV: Number(m[1]), currentA: Number(m[2]) };
}

export class EaPsbModbus implements Device {
  readonly driver = EA_PSB_MODBUS_DRIVER;
  readonly id: string;
  readonly channels: readonly SupervisedChannel[];
  readonly session: InstrumentSession;
  readonly unit: number;
  private lease: ModbusLineLease | undefined;
  private device: ModbusDevice | undefined;
  private readonly acquireLine: () => ModbusLineLease;
  private readonly nominal: Ratings;
  private readonly limits: ChannelLimits;
  private readonly channel: SupervisedChannel;
  private model: string | undefined;

  constructor(config: DeviceConfig, context: DriverContext) {
    this.id = config.id;
    const o = new DriverOptionReader(config);
    const url = o.transport();
    const channelId = o.channelId();
    const nominal = o.ratings("nominal");
    if (nominal === undefined)
      o.fail(
        "options.nominal { voltageV, currentA, powerW } is required: Modbus values are fractions of the ratings",
      );
    this.nominal = nominal as Ratings;
    const urlUnit = parseTransportUrl(url).deviceParams.unit;
    const unitFromUrl = urlUnit === undefined ? undefined : Number(urlUnit);
    if (
      unitFromUrl !== undefined &&
      !(Number.isInteger(unitFromUrl) && unitFromUrl >= 0 && unitFromUrl <= 255)
    )
      o.fail(`the URL's unit must be an integer in [0, 255], got "${urlUnit}"`);
    this.unit = o.integer("unit", unitFromUrl ?? 0, 0, 255) as number;
    const framing = o.choice("framing", /^\s*tcp:/i.test(url) ? "tcp" : "rtu", ["rtu", "tcp"] as const);
    const timings = readCyclerTimings(o);
    this.limits = o.limits();
    const outside = limitsOutsideRatings(this.nominal, this.limits);
    if (outside) o.fail(`${outside} (options.nominal)`);
    o.done();
    this.acquireLine = () => {
      const lease = sharedModbusBuses.acquire(url, { framing });
      this.lease = lease;
      this.device = lease.bus.device({
        unit: this.unit,
        timeoutMs: timings.timeoutMs,
        minGapMs: timings.minGapMs,
      });
      return lease;
    };
    const { session, channel } = superviseCycler({
      deviceId: this.id,
      channelId,
      context,
      transport: this.acquireLine().transport,
      timings,
      // The line may carry other devices: its last holder closes it.
      closeTransportOnFailure: false,
      initialize: (reason) => this.initialize(reason),
      backend: new EaModbusBackend(
        this.id,
        () => this.modbus,
        this.nominal,
        () => this.ranges(),
      ),
      ranges: () => this.ranges(),
    });
    this.session = session;
    this.channel = channel;
    this.channels = [this.channel];
  }

  get linkState(): LinkState {
    return this.session.state;
  }

  /** Device type read from registers 1–20 at connect. */
  get deviceType(): string | undefined {
    return this.model;
  }

  /** The Modbus unit this device talks to (while it holds its line). */
  get modbus(): ModbusDevice {
    if (this.device === undefined) throw new CyclerNotConnectedError(this.id, "a Modbus request");
    return this.device;
  }

  async connect(): Promise<void> {
    if (this.lease === undefined) this.session.rebind(this.acquireLine().transport);
    try {
      await this.session.connect();
    } catch (err) {
      // The line may carry other devices: let go of it (the last holder closes it) rather than close it.
      await this.releaseLine();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.channel.stopStepping();
    if (this.session.state === "ready")
      await this.modbus.writeCoil(EA_MODBUS.remoteCoil, false).catch(() => undefined);
    this.session.close();
    await this.releaseLine();
  }

  private async releaseLine(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    this.device = undefined;
    await lease?.release();
  }

  private ranges(): CyclerRanges {
    return rangesFrom(this.nominal, this.limits, ALL_CYCLER_MODES);
  }

  private async initialize(reason: "connect" | "reconnect"): Promise<void> {
    const source = `registers ${EA_MODBUS.deviceType}–${EA_MODBUS.deviceType + EA_MODBUS.deviceTypeRegisters - 1} of unit ${this.unit} on ${this.lease?.transport.url}`;
    const model = registersToAscii(
      await this.modbus.readHoldingRegisters(EA_MODBUS.deviceType, EA_MODBUS.deviceTypeRegisters),
    );
    if (!/^PSB/i.test(model))
      throw new IdentityMismatchError("an EA PSB (device type PSB ...)", model, source);
    if (reason === "reconnect" && this.model !== undefined && model !== this.model)
      throw new IdentityMismatchError(`the ${this.model} seen at connect`, model, source);
    const encoded = ratingsOfModel(model);
    if (encoded && (encoded.voltageV !== this.nominal.voltageV || encoded.currentA !== this.nominal.currentA))
      throw new CyclerRatingMismatchError(
        this.id,
        `the instrument is a ${model} (${encoded.voltageV} V, ${encoded.currentA} A) but options.nominal says ` +
          `${this.nominal.voltageV} V, ${this.nominal.currentA} A; set options.nominal to the instrument's ratings`,
      );
    await this.modbus.writeCoil(EA_MODBUS.remoteCoil, true);
    await this.modbus.writeCoil(EA_MODBUS.outputCoil, false);
    this.channel.outputSwitchedOff();
    // U/I/P: in U/I/R the resistance set value acts and can limit the current [PG MB: 409].
    await this.modbus.writeCoil(EA_MODBUS.operationModeCoil, false);
    const [uir] = await this.modbus.readCoils(EA_MODBUS.operationModeCoil, 1);
    if (uir !== false)
      throw new EaOperationModeError(
        this.id,
        `coil ${EA_MODBUS.operationModeCoil} reads back ON after it was written OFF`,
      );
    const state = await readState(this.modbus);
    if ((state & EA_STATE.remote) === 0)
      throw new CyclerRemoteDeniedError(this.id, "state bit 11 (remote) stays clear after coil 402 was set");
    this.model = model;
  }
}

/** Reads the 32-bit device state (505 high word, 506 low word). */
async function readState(modbus: ModbusDevice): Promise<number> {
  const [high = 0, low = 0] = await modbus.readHoldingRegisters(EA_MODBUS.state, 2);
  return ((high << 16) | low) >>> 0;
}

class EaModbusBackend implements ChannelBackend {
  private written: Partial<SupplySetValues> | undefined;

  constructor(
    private readonly deviceId: string,
    private readonly unitDevice: () => ModbusDevice,
    private readonly nominal: Ratings,
    private readonly ranges: () => CyclerRanges,
  ) {}

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<undefined> {
    const next = supplySetValues(setpoint, this.ranges());
    const raw = (name: SetValueName, value: number) => toEaRaw(value, this.nominalOf(name));
    const same = (name: SetValueName, a: number, b: number) => raw(name, a) === raw(name, b);
    for (const [name, value] of planSetValueWrites(this.written, next, outputOn, same)) {
      await this.unitDevice().writeRegister(SET_VALUE_REGISTERS[name], raw(name, value));
      this.written = { ...this.written, [name]: value };
    }
    return undefined;
  }

  async setOutput(on: boolean): Promise<void> {
    await this.unitDevice().writeCoil(EA_MODBUS.outputCoil, on);
  }

  async measure(): Promise<CyclerReading> {
    const [high = 0, low = 0, u = 0, i = 0] = await this.unitDevice().readHoldingRegisters(
      EA_MODBUS.state,
      5,
    );
    const state = ((high << 16) | low) >>> 0;
    // Alarm bits stay set until acknowledged (411, [PG §4.11.2]); the driver never acknowledges: the
    // fault stands until the operator clears it at the instrument.
    const alarms = eaAlarmNames(state);
    if (alarms.length > 0)
      throw new CyclerDeviceAlarmError(
        this.deviceId,
        `${alarms.join(", ")}; state word 0x${state.toString(16).padStart(8, "0")}`,
      );
    if ((state & EA_STATE.remote) === 0)
      throw new CyclerRemoteDeniedError(
        this.deviceId,
        "state bit 11 (remote) went clear: someone took local control",
      );
    // The actual current is unsigned [PG §8.3.5.2]: bit 31 says sink [PG §4.11.5.2].
    const sign = (state & EA_STATE.sinkMode) !== 0 ? -1 : 1;
    return {
      voltageV: fromEaRaw(u, this.nominal.voltageV),
      currentA: sign * fromEaRaw(i, this.nominal.currentA),
      temperatureC: Number.NaN,
    };
  }

  forgetSettings(): void {
    this.written = undefined;
  }

  private nominalOf(name: SetValueName): number {
    if (name === "voltageV") return this.nominal.voltageV;
    if (name === "sourcePowerW" || name === "sinkPowerW") return this.nominal.powerW;
    return this.nominal.currentA;
  }
}
