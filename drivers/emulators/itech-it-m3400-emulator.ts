/**
 * Emulated ITECH IT-M3400 bidirectional supply on SCPI (`\n` both ways), answering the
 * `itech/it-m3400` driver over a socat pty, a loopback TCP port or a memory pair, with a cell on its
 * terminals (ea-itech-supply-physics.ts).
 *
 * Written from ITECH's command headers as the IT-M3400 programming guide gives them (quoted in issue
 * 12: `SENSe[:REMote][:STATe]`) and, for what no IT-M3400 document at hand says, from a public driver of
 * the ITECH IT6000C, the same SCPI family (Python package `openbench.drivers.itech_it6000c`): power
 * limits POW:LIM positive and POW:LIM:NEG negative, CURR:LIM:NEG negative, MEAS:CURR? negative while
 * sinking, protections in STAT:QUES:COND? (OVP bit 0, OCP+ 1, OCP− 2, OPP+ 3, OPP− 4, UVP 5, OTP 6,
 * UCP 7) latched until OUTP:PROT:CLE. None of these is confirmed for the IT-M3400.
 *
 * Commands (long or short forms, `SOURce:` optional):
 *   *IDN?  *CLS  *RST  SYST:ERR?  SYST:REM  SYST:LOC  SENS[:REM][:STAT] ON|OFF
 *   FUNC CURR|VOLT  FUNC?
 *   CURR <A> (signed; negative = sink)   VOLT:LIM:LOW <V>  VOLT:LIM[:HIGH] <V>      (current priority)
 *   VOLT <V>   CURR:LIM[:POS] <A> (≥ 0)  CURR:LIM:NEG <A> (≤ 0)                     (voltage priority)
 *   POW:LIM[:POS] <W> (≥ 0)  POW:LIM:NEG <W> (≤ 0)                                  (both priorities)
 *   and the queries of each; OUTP ON|OFF  OUTP? (1 / 0)  OUTP:PROT:CLE  STAT:QUES:COND?
 *   MEAS:VOLT[:DC]?  MEAS:CURR[:DC]?  MEAS:POW[:DC]?  (plain numbers, current negative when sinking)
 * Refusals go to the error queue (-113 unknown header, -104 bad number, -222 out of range, -200 for
 * OUTP ON while a protection is tripped). The power limits act in both priorities: where the current
 * would exceed them at the cell's voltage, the cell runs at the limit's power.
 *
 * Options (all optional):
 *   model: "IT-M3432"   ratings: { voltageV, currentA, powerW } (default: the model's line in
 *   IT_M3400_MODEL_RATINGS; required for another IT-M34xy model)
 *   serial: "800001234567890001"   cell: { chemistry, capacityAh }   initialSoc: 0.5
 *   powerLimitW: a power limit left on the instrument, both directions (default: the rated power)
 *   protection: "OVP" | "OCP+" | ... tripped at start   currentSign: "sink-negative" (default) |
 *   "sink-positive" (MEAS:CURR? positive while sinking: an instrument with the other convention)
 *   linkTiming: false   baud: 115200   turnaroundMs: 0
 *   faults: { timeout, garbage: { bytes }, lateReply: { delayMs }, error: { code, message }, disconnect: { forMs } }
 */
import {
  booleanArgument,
  DATA_OUT_OF_RANGE,
  numberArgument,
  type ScpiCommand,
  ScpiRefusal,
  UNDEFINED_HEADER,
} from "./ea-itech-scpi-server.js";
import { type PsbRatings, readCellOptions, readRatings } from "./ea-psb-scpi-emulator.js";
import { OptionReader } from "./emulator-options.js";
import type { EmulatorStartOptions } from "./registry.js";
import { prepareScpiSupply, type ScpiSupplyEmulator, serveScpiSupply } from "./scpi-supply-emulator.js";

export const ITECH_IT_M3400_EMULATOR = "itech/it-m3400";

/**
 * Ratings of the IT-M3400 models, one line per model as a public third-party PyVISA driver lists them
 * (class IT_M3400, "File for the Itech M3400 series bidirectional power supplies": IT-M3412 … IT-M3435 by
 * model number), which agrees with ITECH's datasheet model table as cellbench's driver cites it; the
 * datasheet itself was not at hand to re-read. Written out per model rather than decoded from the
 * digits, so that a driver decoding the model number meets an independent list. Source and sink ranges
 * are symmetric (±current, ±power). Another model is emulated with the `ratings` option.
 */
export const IT_M3400_MODEL_RATINGS: Readonly<Record<string, PsbRatings>> = {
  "IT-M3412": { voltageV: 60, currentA: 30, powerW: 200 },
  "IT-M3422": { voltageV: 60, currentA: 30, powerW: 400 },
  "IT-M3432": { voltageV: 60, currentA: 30, powerW: 800 },
  "IT-M3413": { voltageV: 150, currentA: 12, powerW: 200 },
  "IT-M3423": { voltageV: 150, currentA: 12, powerW: 400 },
  "IT-M3433": { voltageV: 150, currentA: 12, powerW: 800 },
  "IT-M3414": { voltageV: 300, currentA: 6, powerW: 200 },
  "IT-M3424": { voltageV: 300, currentA: 6, powerW: 400 },
  "IT-M3434": { voltageV: 300, currentA: 6, powerW: 800 },
  "IT-M3415": { voltageV: 600, currentA: 3, powerW: 200 },
  "IT-M3425": { voltageV: 600, currentA: 3, powerW: 400 },
  "IT-M3435": { voltageV: 600, currentA: 3, powerW: 800 },
};

export interface ItechSettings {
  func: "CURR" | "VOLT";
  currentA: number;
  lowV: number;
  highV: number;
  voltageV: number;
  positiveA: number;
  negativeA: number;
  /** Source power limit, W (≥ 0). */
  powerPositiveW: number;
  /** Sink power limit, W (≤ 0). */
  powerNegativeW: number;
}

/** Protections and their bits in STATus:QUEStionable (see the file header for the source). */
export const ITECH_PROTECTION_BITS = {
  OVP: 0,
  "OCP+": 1,
  "OCP-": 2,
  "OPP+": 3,
  "OPP-": 4,
  UVP: 5,
  OTP: 6,
  UCP: 7,
} as const;
export type ItechProtection = keyof typeof ITECH_PROTECTION_BITS;

export interface ItechItM3400Emulator extends ScpiSupplyEmulator {
  readonly settings: Readonly<ItechSettings>;
  readonly outputOn: boolean;
  readonly remote: boolean;
  readonly remoteSense: boolean;
  /** Protections tripped and not yet cleared. */
  readonly tripped: readonly ItechProtection[];
  /** Trips a protection: output off, its bit set until OUTP:PROT:CLE. */
  tripProtection(protection: ItechProtection): void;
}

/** Starts an emulated IT-M3400. */
export async function startItechItM3400Emulator(start: EmulatorStartOptions): Promise<ItechItM3400Emulator> {
  const reader = new OptionReader(ITECH_IT_M3400_EMULATOR, start.options);
  const modelOption = reader.raw("model");
  const model = typeof modelOption === "string" ? modelOption : "IT-M3432";
  if (!/^IT-?M34\d\d/i.test(model))
    reader.fail(`model must be an IT-M34xy model number, got ${JSON.stringify(modelOption)}`);
  const rated = readRatings(reader, "ratings") ?? IT_M3400_MODEL_RATINGS[model.toUpperCase()];
  if (rated === undefined)
    reader.fail(
      `model ${model} is not among the emulator's models (${Object.keys(IT_M3400_MODEL_RATINGS).join(", ")}): ` +
        "give its ratings as ratings: { voltageV, currentA, powerW }",
    );
  const ratings = rated as PsbRatings;
  const serialOption = reader.raw("serial");
  if (serialOption !== undefined && typeof serialOption !== "string") reader.fail("serial must be a text");
  const serial = (serialOption as string | undefined) ?? "800001234567890001";
  const powerLimitW = reader.number("powerLimitW", ratings.powerW, 0, ratings.powerW);
  const protectionOption = reader.raw("protection");
  if (
    protectionOption !== undefined &&
    !(typeof protectionOption === "string" && protectionOption in ITECH_PROTECTION_BITS)
  )
    reader.fail(`protection must be one of ${Object.keys(ITECH_PROTECTION_BITS).join(", ")}`);
  const currentSign = reader.raw("currentSign") ?? "sink-negative";
  if (currentSign !== "sink-negative" && currentSign !== "sink-positive")
    reader.fail('currentSign must be "sink-negative" or "sink-positive"');
  const parts = prepareScpiSupply(ITECH_IT_M3400_EMULATOR, reader, start, readCellOptions(reader));
  const { supply } = parts;

  const initial: ItechSettings = {
    func: "CURR",
    currentA: 0,
    lowV: 0,
    highV: ratings.voltageV,
    voltageV: 0,
    positiveA: ratings.currentA,
    negativeA: -ratings.currentA,
    powerPositiveW: ratings.powerW,
    powerNegativeW: -ratings.powerW,
  };
  // powerLimitW is a limit someone left on the instrument; *RST restores the rated limits.
  const s: ItechSettings = { ...initial, powerPositiveW: powerLimitW, powerNegativeW: -powerLimitW };
  let outputOn = false;
  let remote = false;
  let remoteSense = false;
  const tripped = new Set<ItechProtection>();

  const updateDrive = () => {
    if (!outputOn) supply.setDrive({ kind: "off" });
    else if (s.func === "CURR")
      supply.setDrive({
        kind: "current-priority",
        currentA: s.currentA,
        lowV: s.lowV,
        highV: s.highV,
        sourcePowerW: s.powerPositiveW,
        sinkPowerW: -s.powerNegativeW,
      });
    else
      supply.setDrive({
        kind: "voltage-priority",
        voltageV: s.voltageV,
        sourceCurrentA: s.positiveA,
        sourcePowerW: s.powerPositiveW,
        sinkCurrentA: -s.negativeA,
        sinkPowerW: -s.powerNegativeW,
      });
  };
  const tripProtection = (protection: ItechProtection) => {
    tripped.add(protection);
    outputOn = false;
    updateDrive();
  };
  if (protectionOption !== undefined) tripProtection(protectionOption as ItechProtection);

  const within = (value: number, low: number, high: number): number => {
    if (!(value >= low && value <= high)) throw DATA_OUT_OF_RANGE();
    return value;
  };
  const fields: Record<
    string,
    { key: keyof Omit<ItechSettings, "func">; unit: string; range: [number, number] }
  > = {
    CURR: { key: "currentA", unit: "A", range: [-ratings.currentA, ratings.currentA] },
    VOLT: { key: "voltageV", unit: "V", range: [0, ratings.voltageV] },
    "VOLT:LIM:LOW": { key: "lowV", unit: "V", range: [0, ratings.voltageV] },
    "VOLT:LIM": { key: "highV", unit: "V", range: [0, ratings.voltageV] },
    "VOLT:LIM:HIGH": { key: "highV", unit: "V", range: [0, ratings.voltageV] },
    "CURR:LIM": { key: "positiveA", unit: "A", range: [0, ratings.currentA] },
    "CURR:LIM:POS": { key: "positiveA", unit: "A", range: [0, ratings.currentA] },
    "CURR:LIM:NEG": { key: "negativeA", unit: "A", range: [-ratings.currentA, 0] },
    "POW:LIM": { key: "powerPositiveW", unit: "W", range: [0, ratings.powerW] },
    "POW:LIM:POS": { key: "powerPositiveW", unit: "W", range: [0, ratings.powerW] },
    "POW:LIM:NEG": { key: "powerNegativeW", unit: "W", range: [-ratings.powerW, 0] },
  };
  const f = (v: number) => (Object.is(v, -0) ? 0 : v).toFixed(5);

  const execute = (c: ScpiCommand): string | undefined => {
    const { query, argument } = c;
    const header = c.header.replace(/:DC$/, "");
    const field = fields[header];
    if (field) {
      if (query) return f(s[field.key]);
      s[field.key] = within(numberArgument(argument, field.unit), field.range[0], field.range[1]);
      updateDrive();
      return undefined;
    }
    switch (`${header}${query ? "?" : ""}`) {
      case "*IDN?":
        return `ITECH Ltd., ${model}, ${serial}, 1.02-1.04`;
      case "*RST":
        Object.assign(s, initial);
        outputOn = false;
        updateDrive();
        return undefined;
      case "SYST:REM":
        remote = true;
        return undefined;
      case "SYST:LOC":
        remote = false;
        return undefined;
      case "SENS":
      case "SENS:REM":
      case "SENS:REM:STAT":
        remoteSense = booleanArgument(argument);
        return undefined;
      case "SENS?":
      case "SENS:REM?":
      case "SENS:REM:STAT?":
        return remoteSense ? "1" : "0";
      case "STAT:QUES:COND?": {
        let bits = 0;
        for (const protection of tripped) bits |= 1 << ITECH_PROTECTION_BITS[protection];
        return String(bits);
      }
      case "OUTP:PROT:CLE":
        tripped.clear();
        return undefined;
      case "FUNC": {
        const func = argument.trim().toUpperCase();
        const canonical = func.startsWith("CURR") ? "CURR" : func.startsWith("VOLT") ? "VOLT" : undefined;
        if (canonical === undefined) throw DATA_OUT_OF_RANGE();
        s.func = canonical;
        updateDrive();
        return undefined;
      }
      case "FUNC?":
        return s.func;
      case "OUTP": {
        const on = booleanArgument(argument);
        if (on && tripped.size > 0) throw new ScpiRefusal(-200, "Execution error");
        outputOn = on;
        updateDrive();
        return undefined;
      }
      case "OUTP?":
        return outputOn ? "1" : "0";
      case "MEAS:VOLT?":
        return f(supply.measure().voltageV);
      case "MEAS:CURR?": {
        const currentA = supply.measure().currentA;
        return f(currentSign === "sink-positive" ? -currentA : currentA);
      }
      case "MEAS:POW?":
        return f(supply.measure().powerW);
      default:
        throw UNDEFINED_HEADER();
    }
  };

  const emulator = await serveScpiSupply(parts, execute, { errorQueryAll: false });
  return {
    ...emulator,
    get settings() {
      return { ...s };
    },
    get outputOn() {
      return outputOn;
    },
    get remote() {
      return remote;
    },
    get remoteSense() {
      return remoteSense;
    },
    get tripped() {
      return [...tripped];
    },
    tripProtection,
  };
}
