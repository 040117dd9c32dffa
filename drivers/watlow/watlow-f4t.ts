/**
 * `watlow/f4t`: Watlow F4T touch-screen controller over Modbus TCP (or RTU).
 *
 * Follows the Watlow F4T Setup and Operations User's Guide, chapter "Modbus" (Modbus TCP on port
 * 502; 32-bit IEEE floats in two registers, low word first — "CDAB", swapped words) and its parameter
 * tables "Loop" (register numbers of loop 1; loop N adds 160·(N−1)) — cited below as
 * [F4T UG, Modbus: <parameter>]. Register numbers as in shared/reference/instruments.md; the set point
 * limits and the part number are from public driver code and flagged "verify" beside them.
 *
 * Two controller settings change what every float means, and the driver checks both at connect (and on
 * every reconnect) instead of trusting them:
 * - Display Units, F (30) / C (15), default F, register 1328 [F4T UG (Watlow F4T Setup and Operations
 *   User's Guide, 331-page edition), ch. 6 Appendix, Modbus parameter table, "Display Units", p. 225].
 *   Temperatures on Modbus follow it, so a controller in °F is refused with WATLOW_WRONG_UNITS.
 *   (Espec's ChamberConnectLibrary reads temperature units from 6730 over TCP / 14080 over RTU in
 *   chamberconnectlibrary/watlowf4t.py line 1002, `__profile_units`: unverified against the guide;
 *   any value of 1328 other than 15 or 30 is refused as an unknown data map, so a mismatch fails closed.)
 * - Word order of 32-bit values, low word first by default and configurable [F4T UG, ch. 6 Appendix,
 *   "Introduction to the Modbus Protocol", p. 221; ChamberConnectLibrary modbus.py `low_word_first`
 *   defaults to True]. The driver reads the loop's set point limits both ways and refuses a
 *   controller whose floats only make sense high word first.
 *
 * Transport: `tcp://192.168.1.30:502` (or `serial://...?baud=...&unit=1` for RTU).
 *
 * Options (all optional):
 *   loop: 1                 control loop (1..4) this chamber is
 *   unit: 1                 Modbus unit id (also `?unit=` in the URL)
 *   timeoutMs: 500  minGapMs: 0  connectTimeoutMs: 5000  retryMs: 2000
 *   rangeC: [lo, hi]        the chamber's own range; intersected with the loop's set point limits
 *   safeSetpointC: 22       safe state: the constant set point goes to this (room) temperature
 *   checkPartNumber: true   refuse a controller whose part number does not start with "F4T"
 */

import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import { fromFloat32, toFloat32 } from "../../protocols/modbus/modbus-values.js";
import type { ChamberReading, DeviceConfig, DriverContext } from "../capabilities.js";
import { ChamberOptionReader, intersectRanges } from "../common/chamber-options.js";
import { ModbusChamberDevice, readModbusLinkSettings } from "../common/modbus-chamber-link.js";
import { WatlowChamber } from "./watlow-chamber.js";
import { WatlowConfigError, WatlowModelError, WatlowUnitsError } from "./watlow-errors.js";

export const WATLOW_F4T_DRIVER = "watlow/f4t";

/** Loop-1 register numbers, [F4T UG, Modbus]; loop N adds LOOP_STRIDE·(N−1). */
export const F4T = {
  /** Part number, one ASCII character per register, 15 registers (verify: from public driver code). */
  partNumber: 16,
  partNumberLength: 15,
  /** "Set point low limit" / "high limit" of the loop, float (verify: from public driver code). */
  setpointLow: 2774,
  setpointHigh: 2776,
  /** "Closed loop set point" written by the operator: the constant set point, float. */
  constantSetpoint: 2782,
  /** "Current set point" the loop is controlling to (constant or profile), float, read only. */
  currentSetpoint: 2810,
  /** "Process value" of the loop's input, float. */
  processValue: 2820,
  loopStride: 160,
  /** "Display Units": F (30) / C (15), default F [F4T UG, ch. 6 Appendix, p. 225]; unsigned 16-bit, global. */
  displayUnits: 1328,
} as const;

/** Values of Display Units [F4T UG, ch. 6 Appendix, p. 225]. */
export const F4T_DISPLAY_UNITS = { fahrenheit: 30, celsius: 15 } as const;

/**
 * Whether a float read from a set point limit can be a temperature: finite, within the guide's
 * ±99,999 range of temperature parameters [F4T UG, ch. 6 Appendix, e.g. Alarm High Set Point, p. 225], and not a
 * denormal or tiny value — what a float read with the wrong word order typically decodes to.
 */
function plausibleTemperature(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= 99_999 && (value === 0 || Math.abs(value) >= 1e-3);
}

const WORDS = "low-first";

export class WatlowF4t extends ModbusChamberDevice<WatlowF4tChamber> {
  readonly driver = WATLOW_F4T_DRIVER;
  readonly chamber: WatlowF4tChamber;
  readonly loop: number;

  constructor(config: DeviceConfig, context?: Pick<DriverContext, "reportLink">) {
    const o = new ChamberOptionReader(config);
    const settings = readModbusLinkSettings(o, {
      exampleUrl: "tcp://192.168.1.30:502",
      units: [0, 255],
      timeoutMs: 500,
      minGapMs: 0,
    });
    const loop = o.integer("loop", 1, 1, 4)!;
    const rangeC = o.range("rangeC");
    const safeSetpointC = o.number("safeSetpointC", 22, -100, 300);
    const checkPartNumber = o.boolean("checkPartNumber", true);
    o.done();
    super(config, context, settings);
    this.loop = loop;
    this.chamber = new WatlowF4tChamber(this.id, loop, rangeC, safeSetpointC, checkPartNumber);
  }
}

export class WatlowF4tChamber extends WatlowChamber {
  private readonly offset: number;

  constructor(
    id: string,
    readonly loop: number,
    chamberRangeC: [number, number] | undefined,
    safeSetpointC: number,
    private readonly checkPartNumber: boolean,
  ) {
    super(id, chamberRangeC, safeSetpointC);
    // [F4T UG, Modbus]: each loop's parameters repeat 160 registers further on.
    this.offset = F4T.loopStride * (loop - 1);
  }

  override async read(): Promise<ChamberReading> {
    this.require("read()");
    const modbus = this.modbus!;
    // [F4T UG, Modbus: Process Value / Current Set Point]: floats, low word first.
    const pv = toFloat32(await modbus.readHoldingRegisters(F4T.processValue + this.offset, 2), WORDS);
    const sp = toFloat32(await modbus.readHoldingRegisters(F4T.currentSetpoint + this.offset, 2), WORDS);
    return { temperatureC: pv, setpointC: sp, outputPct: Number.NaN };
  }

  /**
   * @internal Checks the part number, the display units and the word order, and reads the loop's set point
   * limits; on connect and every reconnect.
   */
  override async identify(modbus: ModbusDevice): Promise<void> {
    if (this.checkPartNumber) {
      const registers = await modbus.readHoldingRegisters(F4T.partNumber, F4T.partNumberLength);
      const partNumber = String.fromCharCode(...registers.map((r) => r & 0xff).filter((c) => c !== 0)).trim();
      if (!partNumber.startsWith("F4T"))
        throw new WatlowModelError(
          this.id,
          "Watlow F4T (part number F4T...)",
          JSON.stringify(partNumber),
          `the part number (registers ${F4T.partNumber}..${F4T.partNumber + F4T.partNumberLength - 1})`,
        );
    }
    // [F4T UG, ch. 6 Appendix, p. 225: Display Units, F (30) / C (15), default F]: every temperature
    // on Modbus is in these units; the driver speaks °C only.
    const [units] = await modbus.readHoldingRegisters(F4T.displayUnits, 1);
    if (units === F4T_DISPLAY_UNITS.fahrenheit)
      throw new WatlowUnitsError(
        this.id,
        `the controller's Display Units are °F (register ${F4T.displayUnits} = ${units}), so every temperature on Modbus is in °F`,
        "set Display Units to C on the F4T (parameter class Display in the user's guide; the factory default is F)",
      );
    if (units !== F4T_DISPLAY_UNITS.celsius)
      throw new WatlowConfigError(
        this.id,
        `register ${F4T.displayUnits} (Display Units) reads ${units}, neither C (15) nor F (30); ` +
          "the controller's Modbus data map is not the one in the F4T user's guide",
      );
    const words = await modbus.readHoldingRegisters(F4T.setpointLow + this.offset, 4);
    const limitsC: [number, number] = [
      toFloat32(words.slice(0, 2), WORDS),
      toFloat32(words.slice(2, 4), WORDS),
    ];
    // [F4T UG, ch. 6 Appendix, p. 221]: low word first is the default and the driver's assumption; the
    // order is configurable, so check it on two known floats before trusting any other.
    if (!limitsC.every(plausibleTemperature)) {
      const swapped = [
        toFloat32(words.slice(0, 2), "high-first"),
        toFloat32(words.slice(2, 4), "high-first"),
      ];
      if (swapped.every(plausibleTemperature) && swapped[0]! < swapped[1]!)
        throw new WatlowConfigError(
          this.id,
          `loop ${this.loop} set point limits make sense only high word first ([${swapped[0]}, ${swapped[1]}] °C, ` +
            `registers ${F4T.setpointLow + this.offset}..${F4T.setpointLow + this.offset + 3}); ` +
            "set the controller's Modbus word order to low word first (the factory default)",
        );
      throw new WatlowConfigError(
        this.id,
        `loop ${this.loop} set point limits read [${limitsC[0]}, ${limitsC[1]}], not temperatures in either word order; ` +
          "check the controller's Modbus data map and word order (low word first)",
      );
    }
    if (!(limitsC[0] < limitsC[1]))
      throw new WatlowConfigError(
        this.id,
        `loop ${this.loop} set point limits read [${limitsC[0]}, ${limitsC[1]}] °C; is loop ${this.loop} enabled?`,
      );
    if (intersectRanges(limitsC, this.chamberRangeC) === undefined)
      throw new WatlowConfigError(
        this.id,
        `loop ${this.loop} set point limits [${limitsC[0]}, ${limitsC[1]}] °C do not overlap options.rangeC [${this.chamberRangeC}]`,
      );
    this.limitsC = limitsC;
  }

  protected override limitsSource(): string {
    return `loop ${this.loop} limits and options.rangeC`;
  }

  /** Writes the constant set point (FC16, two registers, low word first). */
  protected override async writeSetpoint(celsius: number): Promise<void> {
    // [F4T UG, Modbus: Closed Loop Set Point]: float, low word first.
    await this.modbus!.writeRegisters(F4T.constantSetpoint + this.offset, fromFloat32(celsius, WORDS));
  }
}
