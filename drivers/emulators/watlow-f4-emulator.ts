/**
 * Emulated Watlow Series F4 controller on a Modbus RTU line (FC03 read / FC06 write, 16-bit signed
 * registers scaled by the input's decimal places), its air driven by the chamber physics on a clock.
 * Register map from Espec North America's library, which drives real F4s
 * (github.com/EspecNorthAmerica/ChamberConnectLibrary at 1d2deb8, chamberconnectlibrary/watlowf4.py:
 * 100/104 input values, 103/107 output 1A/1B power, 200 mode, 300/319 set points, 602/603 limits,
 * 606 decimals, 608 units, 901 °C/°F, 25 save; 108 input 3 "product" :453), a public pymodbus F4
 * script (class WatlowF4Chamber: read_diagnostics reads 0..5 — 0 the model, 5270 read as "F4", 1–2 the
 * serial number, 5 the date of manufacture — and checks 606..608 with 607 "input 1 error latching" = 0)
 * and shared/reference/instruments.md (101/105/109 input errors: no public source at hand,
 * unconfirmed), not from the driver. Registers
 * outside the map answer exception 2 (ILLEGAL DATA ADDRESS), values outside limits exception 3.
 * Link timing: 11-bit characters and t3.5 ("MODBUS over serial line" V1.02, 2.5.1.1) and a 30 ms
 * device turnaround, the pause Watlow recommends (chamberconnectlibrary/modbus.py:373-375).
 *
 * Options (all optional):
 *   unit: 1 | [1, 2]       unit id(s); several ids make several controllers, each with its own air
 *   decimals: 1            register 606, decimal places of input 1 (0..3)
 *   units: 0               register 608, units of input 1 (0 temperature, 1 %RH, 2 PSI, 3 none)
 *   temperatureUnit: "C"   register 901 ("C" = 1, "F" = 0)
 *   model: 5270            register 0 ("F4" in ASCII codes 52, 70)
 *   mode: 0                register 200 (0/1 constant, 2 profile running, 3 profile held)
 *   limitsC: rangeC        registers 602 / 603, set point 1 low / high limit
 *   initialC, ambientC, rangeC: the air (as sim/chamber)
 *   linkTiming: false      emulate 11-bit characters, t3.5 and the turnaround at the line's baud rate
 *   baud: 19200            baud rate for link timing when listening on a memory pair
 *   turnaroundMs: 30       reply latency under link timing
 *   minRequestGapMs: 0     requests sooner than this after the previous reply are missed
 *   faults: ModbusFaults   see modbus-line.ts
 */

import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { fromInt16, toInt16 } from "../../protocols/modbus/modbus-values.js";
import { SystemClock } from "../clock.js";
import { EmulatedChamber } from "./emulated-chamber.js";
import { FaultDeck } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import { readLinkTiming } from "./link-timing.js";
import {
  type EmulatedModbusLine,
  type EmulatedModbusUnit,
  MODBUS_FAULT_KNOBS,
  type ModbusFaults,
} from "./modbus-line.js";
import { attachModbusUnits, readRegisterBlock } from "./modbus-unit-wiring.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const WATLOW_F4_EMULATOR = "watlow/f4";
/** Register 0 of an F4: the ASCII codes of "4" (52) and "F" (70) written as the decimal 5270. */
export const WATLOW_F4_MODEL_CODE = 5270;

export const F4_REGISTERS = {
  model: 0,
  saveToEeprom: 25,
  input1Value: 100,
  input1Error: 101,
  output1aPower: 103,
  input2Value: 104,
  input2Error: 105,
  output1bPower: 107,
  input3Value: 108,
  input3Error: 109,
  mode: 200,
  setpoint1: 300,
  setpoint2: 319,
  setpoint1Low: 602,
  setpoint1High: 603,
  input1Decimals: 606,
  input1ErrorLatching: 607,
  input1Units: 608,
  temperatureUnit: 901,
} as const;

const READ_ONLY = new Set<number>([
  F4_REGISTERS.model,
  F4_REGISTERS.input1Value,
  F4_REGISTERS.input1Error,
  F4_REGISTERS.output1aPower,
  F4_REGISTERS.input2Value,
  F4_REGISTERS.input2Error,
  F4_REGISTERS.output1bPower,
  F4_REGISTERS.input3Value,
  F4_REGISTERS.input3Error,
  F4_REGISTERS.mode,
  F4_REGISTERS.input1Decimals,
  F4_REGISTERS.input1ErrorLatching,
  F4_REGISTERS.input1Units,
  F4_REGISTERS.temperatureUnit,
]);
const DEFINED = new Set<number>([...Object.values(F4_REGISTERS), 1, 2, 3, 4, 5]);

/** What a WatlowF4Device starts with: its air, its fault knobs (unparsed) and its settable state. */
export type WatlowF4DeviceSettings = Pick<
  WatlowF4Device,
  | "chamber"
  | "turnaroundMs"
  | "minRequestGapMs"
  | "decimals"
  | "units"
  | "temperatureUnit"
  | "model"
  | "mode"
  | "limitsC"
> & { faults: unknown };

/** One emulated F4 (one unit id) with its own chamber air. */
export class WatlowF4Device implements EmulatedModbusUnit {
  readonly faults: FaultDeck<ModbusFaults>;
  readonly chamber: EmulatedChamber;
  turnaroundMs: number;
  minRequestGapMs: number;
  /** Register 606 (changed on the front panel while running, in tests). */
  decimals: number;
  /** Register 608. */
  units: number;
  /** Register 901: 1 = °C, 0 = °F. */
  temperatureUnit: number;
  model: number;
  mode: number;
  /** Register 101: non-zero when input 1 has a sensor error. */
  inputError = 0;
  limitsC: [number, number];
  /** Every register write received, in order (address and raw value). */
  readonly writes: Array<{ address: number; value: number }> = [];
  private setpoint2Raw = 0;

  constructor(
    readonly unit: number,
    settings: WatlowF4DeviceSettings,
  ) {
    this.chamber = settings.chamber;
    this.faults = new FaultDeck<ModbusFaults>(`watlow/f4 unit ${unit}`, MODBUS_FAULT_KNOBS, settings.faults);
    this.turnaroundMs = settings.turnaroundMs;
    this.minRequestGapMs = settings.minRequestGapMs;
    this.decimals = settings.decimals;
    this.units = settings.units;
    this.temperatureUnit = settings.temperatureUnit;
    this.model = settings.model;
    this.mode = settings.mode;
    this.limitsC = settings.limitsC;
  }

  /** Number of writes to register 25 (save to EEPROM) so far. */
  get eepromWrites(): number {
    return this.writes.filter((w) => w.address === F4_REGISTERS.saveToEeprom).length;
  }

  handle(request: ModbusRequest): ModbusResponse {
    const fc = request.functionCode;
    if (fc === 0x03 || fc === 0x04) return readRegisterBlock(request, (address) => this.read(address));
    if (fc === 0x06) {
      const code = this.write(request.address, request.value);
      if (code !== 0) return { functionCode: fc, exceptionCode: code };
      return { functionCode: 0x06, address: request.address, value: request.value };
    }
    if (fc === 0x10) {
      for (let i = 0; i < request.values.length; i++) {
        const code = this.write(request.address + i, request.values[i]!);
        if (code !== 0) return { functionCode: fc, exceptionCode: code };
      }
      return { functionCode: 0x10, address: request.address, quantity: request.values.length };
    }
    return { functionCode: fc, exceptionCode: 1 };
  }

  private scale(celsius: number): number {
    const shown = this.temperatureUnit === 1 ? celsius : (celsius * 9) / 5 + 32;
    const raw = Math.round(shown * 10 ** this.decimals);
    return fromInt16(Math.max(-32768, Math.min(32767, raw)));
  }

  private unscale(raw: number): number {
    const shown = toInt16(raw) / 10 ** this.decimals;
    return this.temperatureUnit === 1 ? shown : ((shown - 32) * 5) / 9;
  }

  private read(address: number): number | undefined {
    if (!DEFINED.has(address)) return undefined;
    const R = F4_REGISTERS;
    switch (address) {
      case R.model:
        return this.model;
      case R.input1Value:
        return this.scale(this.chamber.state().airC);
      case R.input1Error:
        return this.inputError;
      case R.output1aPower:
        return Math.round(Math.max(0, this.chamber.state().outputPct) * 100);
      case R.output1bPower:
        return Math.round(Math.max(0, -this.chamber.state().outputPct) * 100);
      case R.mode:
        return this.mode;
      case R.setpoint1:
        return this.scale(this.chamber.state().setpointC);
      case R.setpoint2:
        return this.setpoint2Raw;
      case R.setpoint1Low:
        return this.scale(this.limitsC[0]);
      case R.setpoint1High:
        return this.scale(this.limitsC[1]);
      case R.input1Decimals:
        return this.decimals;
      case R.input1Units:
        return this.units;
      case R.temperatureUnit:
        return this.temperatureUnit;
      default:
        return 0;
    }
  }

  /** Returns 0 on success, else the exception code. */
  private write(address: number, value: number): number {
    if (!DEFINED.has(address)) return 2;
    if (READ_ONLY.has(address)) return 2;
    this.writes.push({ address, value });
    const R = F4_REGISTERS;
    switch (address) {
      case R.setpoint1: {
        const celsius = this.unscale(value);
        const tolerance = 10 ** -this.decimals / 2;
        if (celsius < this.limitsC[0] - tolerance || celsius > this.limitsC[1] + tolerance) return 3;
        this.chamber.setSetpoint(celsius);
        return 0;
      }
      case R.setpoint2:
        this.setpoint2Raw = value;
        return 0;
      case R.setpoint1Low:
      case R.setpoint1High: {
        const limits: [number, number] = [...this.limitsC];
        limits[address === R.setpoint1Low ? 0 : 1] = this.unscale(value);
        if (!(limits[0] < limits[1])) return 3;
        this.limitsC = limits;
        return 0;
      }
      default:
        return 0;
    }
  }
}

export interface WatlowF4Emulator extends RunningEmulator {
  readonly line: EmulatedModbusLine;
  readonly devices: ReadonlyMap<number, WatlowF4Device>;
  /** The device on `unit` (default: the first). */
  device(unit?: number): WatlowF4Device;
}

/** Starts emulated F4 controllers on one line (one per unit id). */
export async function startWatlowF4Emulator(start: EmulatorStartOptions): Promise<WatlowF4Emulator> {
  const reader = new OptionReader(WATLOW_F4_EMULATOR, start.options);
  const unitIds = reader.integers("unit", [1], 1, 247);
  const decimals = reader.integer("decimals", 1, 0, 3);
  const units = reader.integer("units", 0, 0, 3);
  const temperatureUnit = reader.choice("temperatureUnit", "C", ["C", "F"]) === "C" ? 1 : 0;
  const model = reader.integer("model", WATLOW_F4_MODEL_CODE, 0, 65535);
  const mode = reader.integer("mode", 0, 0, 3);
  const air = EmulatedChamber.readOptions(reader);
  const limitsC = reader.range("limitsC", air.rangeC);
  const { linkTiming, baudRate, turnaroundMs } = readLinkTiming(reader, {
    baud: 19200,
    maxBaud: 1_000_000,
    turnaroundMs: 30,
  });
  const minRequestGapMs = reader.number("minRequestGapMs", 0, 0, 10_000);
  const faults = reader.raw("faults");
  reader.done();
  const clock = start.clock ?? new SystemClock();
  const devices = new Map<number, WatlowF4Device>();
  for (const unit of unitIds) {
    devices.set(
      unit,
      new WatlowF4Device(unit, {
        chamber: new EmulatedChamber(clock, air),
        faults,
        turnaroundMs,
        minRequestGapMs,
        decimals,
        units,
        temperatureUnit,
        model,
        mode,
        limitsC,
      }),
    );
  }
  const attached = await attachModbusUnits(start.listen, { framing: "rtu", linkTiming, baudRate }, devices);
  return {
    name: WATLOW_F4_EMULATOR,
    listen: attached.line.url,
    line: attached.line,
    devices,
    device: (unit) => {
      const d = unit === undefined ? devices.values().next().value : devices.get(unit);
      if (d === undefined) throw new Error(`no emulated F4 on unit ${unit}`);
      return d;
    },
    stop: attached.stop,
  };
}
