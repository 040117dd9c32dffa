/**
 * `itech/it-m3400`: ITECH IT-M3400 bidirectional DC supply (source and sink, "regenerative") over
 * SCPI (`\n`; USB-TMC/virtual COM, LAN port 30000, RS-232 — any transport URL).
 *
 * Follows: ITECH "IT-M3400 Series Programming Guide", command reference, cited below as
 * [PG: <command>]; model ratings from the IT-M3400 datasheet's model table. The guide itself was not
 * at hand: headers are the guide's as quoted in issue 12 and cellbench's instrument notes, and the
 * sign conventions come from a public driver of the ITECH IT6000C, which shares this command family
 * (Python package `openbench.drivers.itech_it6000c`, cited as [IT6000C driver]). UNVERIFIED for the
 * IT-M3400 (no published IT-M3400 source found): the sign of CURR:LIM:NEG and POW:LIM:NEG (sent
 * negative), the sign of MEAS:CURR:DC? while sinking (negative), the STAT:QUES:COND? protection bits
 * (itech-protection.ts), and whether FUNC may change while the output is on (the driver always
 * switches the output off first, which is safe either way). The driver checks the current sign at
 * run time (see read) and reads back the power limits (see connect).
 *
 *   connect     *IDN? (ITECH, IT-M34xx) [PG: *IDN?]; SYST:REM (front panel locked) [PG: SYSTem:REMote];
 *               OUTP OFF [PG: OUTPut]; SENS:REM ON|OFF when options.remoteSense is set
 *               [PG: SENSe[:REMote][:STATe], issue 12 finding 5 — earlier versions sent REM:SENS, which
 *               is not a documented header]
 *               POW:LIM <W> and POW:LIM:NEG <−W>, the channel's power (rating or options.limits), read
 *               back with POW:LIM? and POW:LIM:NEG?: a limit left on the instrument would cap the current
 *               silently; a different read-back refuses the connection (CYCLER_SETTING_NOT_APPLIED)
 *               [PG: POWer:LIMit, POWer:LIMit:NEGative; sign as in the IT6000C driver: positive for
 *               source, negative for sink]
 *   cc, profile FUNC CURR [PG: FUNCtion]; CURR <A>, signed: negative = sink [PG: CURRent];
 *               VOLT:LIM:LOW <V>, VOLT:LIM:HIGH <V> as the clamps [PG: VOLTage:LIMit:LOW, VOLTage:LIMit:HIGH]
 *   cv, cccv    FUNC VOLT; VOLT <V> [PG: VOLTage]; CURR:LIM:POS <A> (source) and CURR:LIM:NEG <−A> (sink)
 *               [PG: CURRent:LIMit:POSitive, CURRent:LIMit:NEGative]; cv writes its charge limit as the
 *               positive and its discharge limit as the negative limit, each its own; cccv limits the
 *               other quadrant to 0 A, so the instrument runs CC into the CV voltage and tapers by itself
 *   cp          not offered: the commands above have no power priority (ranges.modes omits "cp")
 *   read        STAT:QUES:COND? first: a tripped protection (OVP, OCP, OPP, UVP, OTP, UCP) is reported as
 *               CYCLER_DEVICE_ALARM with its name, and never cleared by the driver (no OUTP:PROT:CLE)
 *               [PG: STATus:QUEStionable:CONDition?]; then MEAS:VOLT:DC?, MEAS:CURR:DC? (current negative
 *               when sinking [IT6000C driver]) [PG: MEASure:VOLTage:DC?, MEASure:CURRent:DC?]. In FUNC
 *               CURR with the output on and the voltage inside the clamps, a current flowing against
 *               the set one (more than half of it) raises CYCLER_CURRENT_SIGN: the sign convention is
 *               then not the one assumed here (or the cell is wired reversed)
 *   errors      SYST:ERR? after every write until 0,"No error" [PG: SYSTem:ERRor?]
 *   close       SYST:LOC (front panel back) [PG: SYSTem:LOCal]; the output is left as it is
 *
 * While the output is live, changes are ordered so that each intermediate state stays within the old
 * or the new set point (limits that tighten first, then the level, then limits that loosen); a change
 * of FUNC switches the output off, sets everything, and switches it on again. `profile` mode is
 * stepped by the driver on the injected clock (profile-stepper.ts).
 *
 * Options: ratings { voltageV, currentA, powerW } (default: from the model in *IDN?), timeoutMs
 * (default 1000), connectTimeoutMs, retryMs, minGapMs, remoteSense ("on" | "off"), limits.
 */
import type { InstrumentIdentity } from "../../protocols/index.js";
import type {
  CyclerMode,
  CyclerRanges,
  CyclerReading,
  DeviceConfig,
  DriverContext,
} from "../capabilities.js";
import {
  CyclerCurrentSignError,
  CyclerDeviceAlarmError,
  CyclerRatingMismatchError,
  CyclerSettingNotAppliedError,
} from "../common/cycler-errors.js";
import { DriverOptionReader, type Ratings } from "../common/driver-options.js";
import { type CyclerScpi, ScpiCyclerDevice } from "../common/scpi-cycler-device.js";
import { queryStatusRegister } from "../common/status-register.js";
import type { ChannelBackend, LevelSetpoint } from "../common/supervised-channel.js";
import { readCyclerTimings } from "../common/supervised-cycler.js";
import { formatSetValue } from "../common/supply-set-values.js";
import { ITECH_PROTECTION_QUERY, itechProtectionNames } from "./itech-protection.js";

export const ITECH_IT_M3400_DRIVER = "itech/it-m3400";

export const ITECH_IDENTITY = { manufacturer: /itech/i, model: /^IT-?M34\d\d/i };

export const IT_M3400_MODES: readonly CyclerMode[] = ["rest", "cc", "cv", "cccv", "profile"];

/**
 * Returns the ratings of an IT-M34xy: x is the power class (1: 200 W, 2: 400 W, 3: 800 W), y the
 * voltage class (2: 60 V/30 A, 3: 150 V/12 A, 4: 300 V/6 A, 5: 600 V/3 A) [datasheet model table].
 */
export function itM3400Ratings(model: string): Ratings | undefined {
  const m = /IT-?M34([123])([2345])/i.exec(model);
  if (!m) return undefined;
  const powerW = ({ "1": 200, "2": 400, "3": 800 } as const)[m[1] as "1" | "2" | "3"];
  const [voltageV, currentA] = ({ "2": [60, 30], "3": [150, 12], "4": [300, 6], "5": [600, 3] } as const)[
    m[2] as "2" | "3" | "4" | "5"
  ];
  return { voltageV, currentA, powerW };
}

/** The instrument's settings as the driver last wrote them. */
interface ItechSettings {
  func: "CURR" | "VOLT";
  currentA: number;
  lowV: number;
  highV: number;
  voltageV: number;
  /** Source limit, A (≥ 0). */
  positiveA: number;
  /** Sink limit, A (≤ 0, sent as written). */
  negativeA: number;
}

type Field = Exclude<keyof ItechSettings, "func">;

const COMMANDS: Record<Field, string> = {
  currentA: "CURR",
  lowV: "VOLT:LIM:LOW",
  highV: "VOLT:LIM:HIGH",
  voltageV: "VOLT",
  positiveA: "CURR:LIM:POS",
  negativeA: "CURR:LIM:NEG",
};

export class ItechItM3400 extends ScpiCyclerDevice {
  readonly driver = ITECH_IT_M3400_DRIVER;
  private readonly configuredRatings: Ratings | undefined;
  private readonly remoteSense: "ON" | "OFF" | undefined;

  constructor(config: DeviceConfig, context: DriverContext) {
    const o = new DriverOptionReader(config);
    const url = o.transport();
    const channelId = o.channelId();
    const configuredRatings = o.ratings("ratings");
    const timings = readCyclerTimings(o);
    const sense = o.choice("remoteSense", "unset", ["unset", "on", "off"] as const);
    const limits = o.limits();
    o.done();
    super(config, context, {
      url,
      channelId,
      timings,
      limits,
      modes: IT_M3400_MODES,
      errorQuery: "SYST:ERR?",
      releaseCommand: "SYST:LOC",
      backend: (scpi, ranges) => new ItechBackend(config.id, scpi, ranges),
    });
    this.configuredRatings = configuredRatings;
    this.remoteSense = sense === "on" ? "ON" : sense === "off" ? "OFF" : undefined;
  }

  protected async initialize(reason: "connect" | "reconnect"): Promise<InstrumentIdentity> {
    const identity = await this.identifyAs(ITECH_IDENTITY, reason);
    const rated = this.configuredRatings ?? itM3400Ratings(identity.model);
    if (rated === undefined)
      throw new CyclerRatingMismatchError(
        this.id,
        `unknown ratings for model "${identity.model}"; set options.ratings { voltageV, currentA, powerW }`,
      );
    await this.commands.write("SYST:REM");
    await this.commands.write("OUTP OFF");
    this.channel.outputSwitchedOff();
    if (this.remoteSense) await this.commands.write(`SENS:REM ${this.remoteSense}`);
    this.rated = rated;
    await this.setPowerLimits(this.ranges().powerW);
    return identity;
  }

  /** Writes POW:LIM and POW:LIM:NEG (source and sink, the latter negative) and reads both back. */
  private async setPowerLimits(powerW: number): Promise<void> {
    for (const [command, value] of [
      ["POW:LIM", powerW],
      ["POW:LIM:NEG", -powerW],
    ] as const) {
      await this.commands.write(`${command} ${formatSetValue(value)}`);
      const readBack = await this.commands.queryNumber(`${command}?`, { siUnit: "W" });
      if (Math.abs(readBack - value) > Math.max(0.01, powerW * 1e-3))
        throw new CyclerSettingNotAppliedError(
          this.id,
          `${command}? reads ${readBack} W after "${command} ${formatSetValue(value)}" was written, so the ` +
            `instrument would limit the ${value >= 0 ? "source" : "sink"} power to ${Math.abs(readBack)} W`,
        );
    }
  }
}

class ItechBackend implements ChannelBackend {
  private written: ItechSettings | undefined;
  /** Whether the output is on as far as this backend switched it (false when unknown). */
  private outputOn = false;

  constructor(
    private readonly deviceId: string,
    private readonly scpi: CyclerScpi,
    private readonly ranges: () => CyclerRanges,
  ) {}

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<{ switchedOutputOff?: boolean }> {
    const next = settingsFor(setpoint);
    const previous = this.written;
    let live = outputOn;
    let switchedOutputOff = false;
    if (previous === undefined || previous.func !== next.func) {
      if (live) {
        await this.scpi.write("OUTP OFF");
        this.outputOn = false;
        live = false;
        switchedOutputOff = true;
      }
      await this.scpi.write(`FUNC ${next.func}`);
      this.written = undefined;
    }
    for (const field of orderedChanges(this.written, next, live)) {
      await this.scpi.write(`${COMMANDS[field]} ${formatSetValue(next[field])}`);
    }
    this.written = next;
    return { switchedOutputOff };
  }

  async setOutput(on: boolean): Promise<void> {
    this.outputOn = false;
    await this.scpi.write(on ? "OUTP ON" : "OUTP OFF");
    this.outputOn = on;
  }

  async measure(): Promise<CyclerReading> {
    const condition = await queryStatusRegister(this.scpi, ITECH_PROTECTION_QUERY);
    const tripped = itechProtectionNames(condition);
    if (tripped.length > 0)
      throw new CyclerDeviceAlarmError(
        this.deviceId,
        `${tripped.join(", ")}; ${ITECH_PROTECTION_QUERY} ${condition}`,
      );
    const voltageV = await this.scpi.queryNumber("MEAS:VOLT:DC?", { siUnit: "V" });
    const currentA = await this.scpi.queryNumber("MEAS:CURR:DC?", { siUnit: "A" });
    this.checkCurrentSign(voltageV, currentA);
    return { voltageV, currentA, temperatureC: Number.NaN };
  }

  forgetSettings(): void {
    this.written = undefined;
    this.outputOn = false;
  }

  /**
   * In FUNC CURR with the output on and the voltage inside the clamps, the instrument regulates the set
   * current: one flowing the other way (more than half of it) means its sign is not the assumed one.
   */
  private checkCurrentSign(voltageV: number, currentA: number): void {
    const set = this.written;
    if (!this.outputOn || set === undefined || set.func !== "CURR" || set.currentA === 0) return;
    const margin = Math.max(0.01, (set.highV - set.lowV) * 0.01);
    if (voltageV <= set.lowV + margin || voltageV >= set.highV - margin) return;
    const floorA = Math.max(0.5 * Math.abs(set.currentA), this.ranges().currentA[1] * 0.001);
    if (currentA * set.currentA < 0 && Math.abs(currentA) > floorA)
      throw new CyclerCurrentSignError(
        this.deviceId,
        `CURR ${formatSetValue(set.currentA)} is set but MEAS:CURR:DC? reads ${currentA} A at ${voltageV} V`,
      );
  }
}

/** Returns the IT-M3400 settings that realise a set point (fields of the other function are kept neutral). */
function settingsFor(setpoint: LevelSetpoint): ItechSettings {
  switch (setpoint.mode) {
    case "cc":
      return {
        func: "CURR",
        currentA: setpoint.currentA,
        lowV: setpoint.minV,
        highV: setpoint.maxV,
        voltageV: 0,
        positiveA: 0,
        negativeA: 0,
      };
    case "cv":
      return voltageMode(setpoint.voltageV, setpoint.chargeLimitA, -setpoint.dischargeLimitA);
    case "cccv":
      return setpoint.currentA >= 0
        ? voltageMode(setpoint.voltageV, setpoint.currentA, 0)
        : voltageMode(setpoint.voltageV, 0, setpoint.currentA);
    case "cp":
      // Unreachable: "cp" is not in the channel's modes, so validateSetpoint refuses it first.
      throw new RangeError("the IT-M3400 driver offers no constant-power mode");
  }
}

function voltageMode(voltageV: number, positiveA: number, negativeA: number): ItechSettings {
  return { func: "VOLT", currentA: 0, lowV: 0, highV: 0, voltageV, positiveA, negativeA };
}

/**
 * Returns the fields to write, in order. Output off (or nothing known): every field of the function.
 * Live: fields that tighten (a lower source or sink limit, a higher low clamp, a lower high clamp)
 * first, then the level (CURR or VOLT), then fields that loosen.
 */
function orderedChanges(previous: ItechSettings | undefined, next: ItechSettings, live: boolean): Field[] {
  const fields: Field[] =
    next.func === "CURR" ? ["currentA", "lowV", "highV"] : ["voltageV", "positiveA", "negativeA"];
  const level: Field = next.func === "CURR" ? "currentA" : "voltageV";
  if (previous === undefined) return fields;
  const changed = fields.filter((f) => formatSetValue(previous[f]) !== formatSetValue(next[f]));
  if (!live) return changed;
  const tightens = (f: Field) => {
    if (f === "lowV") return next.lowV > previous.lowV;
    if (f === "highV") return next.highV < previous.highV;
    if (f === "positiveA") return next.positiveA < previous.positiveA;
    if (f === "negativeA") return next.negativeA > previous.negativeA;
    return false;
  };
  const limits = changed.filter((f) => f !== level);
  return [
    ...limits.filter(tightens),
    ...changed.filter((f) => f === level),
    ...limits.filter((f) => !tightens(f)),
  ];
}
