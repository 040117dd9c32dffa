/**
 * `watlow/f4`: Watlow Series F4 ramping controller over Modbus RTU.
 *
 * Follows the Watlow Series F4 User's Manual, chapter "Communications" (Modbus RTU: FC03 read
 * holding registers, FC06 write single register; 16-bit signed values; no float registers) and its
 * appendix "Modbus Register Numbers" — cited below as [F4 UM, Modbus registers: <parameter>].
 * Facts were cross-checked against shared/reference/instruments.md and public driver code; the
 * register numbers in this file are the ones listed there. Where Espec North America's library reads
 * or writes the same register on an F4 it is cited as [CCL, <line>]: github.com/EspecNorthAmerica/
 * ChamberConnectLibrary at 1d2deb8 (2018), chamberconnectlibrary/watlowf4.py unless another file is named.
 * Registers 0 (model number) and 101 (input 1 error) have no public source at hand: unverified.
 *
 * Transport: `serial:///dev/serial/by-id/...?baud=19200&unit=1` (9600 or 19200 8N1 on the F4's
 * Communications setup page). The unit id comes from `?unit=` or `options.unit` (default 1).
 * Several F4s (and other Modbus devices) on one RS-485 line share one bus queue.
 *
 * Options (all optional):
 *   unit: 1                 Modbus address (1..247)
 *   timeoutMs: 500          reply timeout per transaction (see below)
 *   minGapMs: 30            pause between transactions with this controller (it needs ~30 ms)
 *   rangeC: [lo, hi]        the chamber's own range; intersected with set point limits 602 / 603
 *   safeSetpointC: 22       safe state: set point 1 goes to this (room) temperature
 *   connectTimeoutMs: 5000  retryMs: 2000 (identification after a reconnect)
 *
 * Register 25 (save to EEPROM) is never written: set point 1 is volatile on purpose, so thousands of
 * set-point changes do not wear out the controller's EEPROM.
 *
 * Reply timeout, 500 ms. Espec's library waits far longer (10 s for an F4, [CCL, :278]; 3 s by default,
 * [CCL, chamberconnectlibrary/modbus.py:382]), but it drives one controller from a script. Here a
 * timeout is how long a dead controller holds its RS-485 line: every other unit on the line waits
 * behind it, up to the timeout plus the 250 ms quiet period after it. 500 + 250 ms stays below the
 * shortest default watchdog (1 s), so a dead F4 cannot hold back a healthy neighbour's safe-state write
 * for a whole watchdog period; at 3 s it would for 3.25 s. The bench's watchdog itself is unaffected:
 * it runs on its own loop and faults the runs in a silent chamber after `sampling.watchdog`. Against
 * the turnaround the emulator models (30 ms device latency as Watlow asks, [CCL, modbus.py:373-375],
 * plus 11-bit characters and t3.5), the slowest transaction of this driver, the 3-register read at
 * connect, takes 55.8 ms at 9600 baud and 42.9 ms at 19200: the timeout is 9.0× and 11.7× that (a set
 * point write, measured through the emulator: 52.9 ms median at 9600, 41.5 ms at 19200, modelled 52.3
 * and 41.2). Reproduce (prints what it measures):
 *   npx vitest run --project suite test/drivers/watlow/watlow-f4.turnaround.test.ts
 * Alone on its line an F4 can take `timeoutMs: 3000`.
 */

import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import { fromInt16, toInt16 } from "../../protocols/modbus/modbus-values.js";
import type { ChamberReading, DeviceConfig, DriverContext } from "../capabilities.js";
import { ChamberOptionReader, intersectRanges } from "../common/chamber-options.js";
import { ModbusChamberDevice, readModbusLinkSettings } from "../common/modbus-chamber-link.js";
import { WatlowChamber } from "./watlow-chamber.js";
import {
  WatlowConfigError,
  WatlowInputError,
  WatlowModelError,
  WatlowProfileActiveError,
  WatlowUnitsError,
} from "./watlow-errors.js";

export const WATLOW_F4_DRIVER = "watlow/f4";

/** Default reply timeout, ms (see the header). */
export const WATLOW_F4_DEFAULT_TIMEOUT_MS = 500;

/** Register numbers, [F4 UM, Modbus registers]. */
export const F4 = {
  /** "Model number": 5270 on an F4, i.e. the ASCII codes 52 ("4") and 70 ("F"). Unverified. */
  model: 0,
  /** "Save to EEPROM" — never written by this driver ([CCL, :522] writes it to save profiles). */
  saveToEeprom: 25,
  /** "Input 1 process value", signed, × 10^decimals [CCL, :352]. */
  input1Value: 100,
  /** "Input 1 error" (0 = no error). Unverified. */
  input1Error: 101,
  /** "Output 1A power", % × 100 [CCL, :424]. */
  output1aPower: 103,
  /** "Mode": 0/1 static set point, 2 profile running, 3 profile held [CCL, :330]. */
  mode: 200,
  /** "Set point 1" (static set point of loop 1), signed, × 10^decimals [CCL, :329 and :347]. */
  setpoint1: 300,
  /** "Set point 1 low limit" / "high limit", signed, × 10^decimals [CCL, :358-359]. */
  setpoint1Low: 602,
  setpoint1High: 603,
  /** "Input 1 decimal places" (0..3) [CCL, :111]. */
  input1Decimals: 606,
  /** "Input 1 units": 0 temperature, 1 %RH, 2 PSI, 3 none [CCL, :394]. */
  input1Units: 608,
  /** "°C or °F" display units of temperatures: 1 °C, 0 °F [CCL, :396]. */
  temperatureUnit: 901,
} as const;

/** Register 0 of a Series F4. */
export const F4_MODEL_CODE = 5270;
const UNIT_NAMES = ["temperature", "%RH", "PSI", "none"];

export class WatlowF4 extends ModbusChamberDevice<WatlowF4Chamber> {
  readonly driver = WATLOW_F4_DRIVER;
  readonly chamber: WatlowF4Chamber;

  constructor(config: DeviceConfig, context?: Pick<DriverContext, "reportLink">) {
    const o = new ChamberOptionReader(config);
    const settings = readModbusLinkSettings(o, {
      exampleUrl: "serial:///dev/serial/by-id/<adapter>?baud=19200&unit=1",
      units: [1, 247],
      timeoutMs: WATLOW_F4_DEFAULT_TIMEOUT_MS,
      // Watlow asks for about 30 ms between transactions [CCL, modbus.py:373-375].
      minGapMs: 30,
    });
    const rangeC = o.range("rangeC");
    const safeSetpointC = o.number("safeSetpointC", 22, -100, 300);
    o.done();
    super(config, context, settings);
    this.chamber = new WatlowF4Chamber(this, rangeC, safeSetpointC);
  }
}

export class WatlowF4Chamber extends WatlowChamber {
  private decimalPlaces: number | undefined;

  constructor(
    readonly device: WatlowF4,
    chamberRangeC: [number, number] | undefined,
    safeSetpointC: number,
  ) {
    super(device.id, chamberRangeC, safeSetpointC);
  }

  /** Decimal places of input 1 as last read from register 606. */
  get decimals(): number | undefined {
    return this.decimalPlaces;
  }

  override async read(): Promise<ChamberReading> {
    this.require("read()");
    const modbus = this.modbus!;
    const scale = 10 ** this.decimalPlaces!;
    const [pvRaw, inputError] = await modbus.readHoldingRegisters(F4.input1Value, 2);
    // [F4 UM, Modbus registers: Input 1 error]: a failed sensor still yields a number in register 100.
    if (inputError !== 0) throw new WatlowInputError(this.id, F4.input1Error, inputError!);
    const [spRaw] = await modbus.readHoldingRegisters(F4.setpoint1, 1);
    const [outRaw] = await modbus.readHoldingRegisters(F4.output1aPower, 1);
    return {
      // [F4 UM, Modbus registers: Input 1 process value / Set point 1]: signed 16 bit × 10^decimals (register 606).
      temperatureC: toInt16(pvRaw!) / scale,
      setpointC: toInt16(spRaw!) / scale,
      // [F4 UM, Modbus registers: Output 1A power]: % × 100 (heating output).
      outputPct: toInt16(outRaw!) / 100,
    };
  }

  /** @internal Reads model, units, decimal places, limits and mode; on connect and after every reconnect. */
  override async identify(modbus: ModbusDevice): Promise<void> {
    const [model] = await modbus.readHoldingRegisters(F4.model, 1);
    if (model !== F4_MODEL_CODE)
      throw new WatlowModelError(
        this.id,
        `Watlow F4 (register 0 = ${F4_MODEL_CODE})`,
        String(model),
        "register 0",
      );
    const [decimals, , units] = await modbus.readHoldingRegisters(F4.input1Decimals, 3);
    if (units !== 0)
      throw new WatlowUnitsError(
        this.id,
        `input 1 units are "${UNIT_NAMES[units!] ?? units}" (register ${F4.input1Units} = ${units})`,
        "set Analog Input 1 units to Temperature in the controller's Setup menu",
      );
    const [temperatureUnit] = await modbus.readHoldingRegisters(F4.temperatureUnit, 1);
    if (temperatureUnit !== 1)
      throw new WatlowUnitsError(
        this.id,
        `the controller works in °F (register ${F4.temperatureUnit} = ${temperatureUnit})`,
        "set the temperature units to °C in the controller's System setup menu",
      );
    if (decimals === undefined || decimals > 3)
      throw new WatlowConfigError(
        this.id,
        `register ${F4.input1Decimals} (input 1 decimal places) reads ${decimals}, expected 0..3`,
      );
    const scale = 10 ** decimals;
    const [lowRaw, highRaw] = await modbus.readHoldingRegisters(F4.setpoint1Low, 2);
    const limitsC: [number, number] = [toInt16(lowRaw!) / scale, toInt16(highRaw!) / scale];
    if (!(limitsC[0] < limitsC[1]))
      throw new WatlowConfigError(
        this.id,
        `set point 1 limits read [${limitsC[0]}, ${limitsC[1]}] °C (registers 602/603); set a low limit below the high limit`,
      );
    if (intersectRanges(limitsC, this.chamberRangeC) === undefined)
      throw new WatlowConfigError(
        this.id,
        `set point 1 limits [${limitsC[0]}, ${limitsC[1]}] °C do not overlap options.rangeC [${this.chamberRangeC}]`,
      );
    const [mode] = await modbus.readHoldingRegisters(F4.mode, 1);
    if (mode === 2 || mode === 3) throw new WatlowProfileActiveError(this.id, mode);
    this.decimalPlaces = decimals;
    this.limitsC = limitsC;
  }

  protected override limitsSource(): string {
    return this.limitsC ? "set point 1 limits (registers 602/603) and options.rangeC" : "options.rangeC";
  }

  /** Writes set point 1 (FC06). Register 25 (save to EEPROM) is deliberately never written. */
  protected override async writeSetpoint(celsius: number): Promise<void> {
    const scale = 10 ** this.decimalPlaces!;
    // [F4 UM, Modbus registers: Set point 1]: signed 16 bit × 10^decimals.
    await this.modbus!.writeRegister(F4.setpoint1, fromInt16(Math.round(celsius * scale)));
  }
}
