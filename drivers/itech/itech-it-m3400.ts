/**
 * `itech/it-m3400`: ITECH IT-M3400 bidirectional DC supply (source and sink, "regenerative") over
 * SCPI (`\n`; USB-TMC/virtual COM, LAN port 30000, RS-232 — any transport URL).
 *
 * Follows: ITECH "IT-M3400 Series Programming Guide", command reference, cited below as
 * [PG: <command>]; model ratings from the IT-M3400 datasheet's model table. Not checked against the
 * guide itself (it was not at hand): the sign convention of CURR:LIM:NEG (sent here as a negative
 * number, as public drivers do) and whether FUNC may change while the output is on (the driver always
 * switches the output off first, which is safe either way). Commands as in cellbench's instrument notes.
 *
 *   connect     *IDN? (ITECH, IT-M34xx) [PG: *IDN?]; SYST:REM (front panel locked) [PG: SYSTem:REMote];
 *               OUTP OFF [PG: OUTPut]; REM:SENS ON|OFF when options.remoteSense is set [PG: REMote:SENSe]
 *   cc, profile FUNC CURR [PG: FUNCtion]; CURR <A>, signed: negative = sink [PG: CURRent];
 *               VOLT:LIM:LOW <V>, VOLT:LIM:HIGH <V> as the clamps [PG: VOLTage:LIMit:LOW, VOLTage:LIMit:HIGH]
 *   cv, cccv    FUNC VOLT; VOLT <V> [PG: VOLTage]; CURR:LIM:POS <A> (source) and CURR:LIM:NEG <−A> (sink)
 *               [PG: CURRent:LIMit:POSitive, CURRent:LIMit:NEGative]; cv writes its charge limit as the
 *               positive and its discharge limit as the negative limit, each its own; cccv limits the
 *               other quadrant to 0 A, so the instrument runs CC into the CV voltage and tapers by itself
 *   cp          not offered: the commands above have no power priority (ranges.modes omits "cp")
 *   read        MEAS:VOLT:DC?, MEAS:CURR:DC? (current negative when sinking) [PG: MEASure:VOLTage:DC?,
 *               MEASure:CURRent:DC?]
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
import type { InstrumentIdentity, ScpiClient } from "../../protocols/index.js";
import type { CyclerMode, CyclerReading, DeviceConfig, DriverContext } from "../capabilities.js";
import { CyclerRatingMismatchError } from "../common/cycler-errors.js";
import { DriverOptionReader, type Ratings } from "../common/driver-options.js";
import { ScpiCyclerDevice } from "../common/scpi-cycler-device.js";
import type { ChannelBackend, LevelSetpoint } from "../common/supervised-channel.js";
import { readCyclerTimings } from "../common/supervised-cycler.js";
import { formatSetValue } from "../common/supply-set-values.js";

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
      backend: (scpi) => new ItechBackend(scpi),
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
    await this.scpi.write("SYST:REM");
    await this.scpi.write("OUTP OFF");
    this.channel.outputSwitchedOff();
    if (this.remoteSense) await this.scpi.write(`REM:SENS ${this.remoteSense}`);
    this.rated = rated;
    return identity;
  }
}

class ItechBackend implements ChannelBackend {
  private written: ItechSettings | undefined;

  constructor(private readonly scpi: ScpiClient) {}

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<{ switchedOutputOff?: boolean }> {
    const next = settingsFor(setpoint);
    const previous = this.written;
    let live = outputOn;
    let switchedOutputOff = false;
    if (previous === undefined || previous.func !== next.func) {
      if (live) {
        await this.scpi.write("OUTP OFF");
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
    await this.scpi.write(on ? "OUTP ON" : "OUTP OFF");
  }

  async measure(): Promise<CyclerReading> {
    const voltageV = await this.scpi.queryNumber("MEAS:VOLT:DC?", { unit: "V" });
    const currentA = await this.scpi.queryNumber("MEAS:CURR:DC?", { unit: "A" });
    return { voltageV, currentA, temperatureC: Number.NaN };
  }

  forgetSettings(): void {
    this.written = undefined;
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
