/**
 * Emulated ITECH IT-M3400 bidirectional supply on SCPI (`\n` both ways), answering the
 * `itech/it-m3400` driver over a socat pty, a loopback TCP port or a memory pair, with a cell on its
 * terminals (ea-itech-supply-physics.ts).
 *
 * Commands (long or short forms, `SOURce:` optional):
 *   *IDN?  *CLS  *RST  SYST:ERR?  SYST:REM  SYST:LOC  REM:SENS ON|OFF
 *   FUNC CURR|VOLT  FUNC?
 *   CURR <A> (signed; negative = sink)   VOLT:LIM:LOW <V>  VOLT:LIM[:HIGH] <V>      (current priority)
 *   VOLT <V>   CURR:LIM[:POS] <A> (≥ 0)  CURR:LIM:NEG <A> (≤ 0)                     (voltage priority)
 *   and the queries of each; OUTP ON|OFF  OUTP? (1 / 0)
 *   MEAS:VOLT[:DC]?  MEAS:CURR[:DC]?  MEAS:POW[:DC]?  (plain numbers, current negative when sinking)
 * Refusals go to the error queue (-113 unknown header, -104 bad number, -222 out of range). In current
 * priority the emulator does not limit power; in voltage priority the rated power limits both quadrants.
 *
 * Options (all optional):
 *   model: "IT-M3432" (ratings follow the model number, as in drivers/itech/itech-it-m3400.ts)
 *   serial: "800001234567890001"   cell: { chemistry, capacityAh }   initialSoc: 0.5
 *   linkTiming: false   baud: 115200   turnaroundMs: 0
 *   faults: { timeout, garbage: { bytes }, lateReply: { delayMs }, error: { code, message }, disconnect: { forMs } }
 */
import { itM3400Ratings } from "../itech/itech-it-m3400.js";
import {
  booleanArgument,
  DATA_OUT_OF_RANGE,
  numberArgument,
  type ScpiCommand,
  UNDEFINED_HEADER,
} from "./ea-itech-scpi-server.js";
import { readCellOptions } from "./ea-psb-scpi-emulator.js";
import { OptionReader } from "./emulator-options.js";
import type { EmulatorStartOptions } from "./registry.js";
import { prepareScpiSupply, type ScpiSupplyEmulator, serveScpiSupply } from "./scpi-supply-emulator.js";

export const ITECH_IT_M3400_EMULATOR = "itech/it-m3400";

export interface ItechSettings {
  func: "CURR" | "VOLT";
  currentA: number;
  lowV: number;
  highV: number;
  voltageV: number;
  positiveA: number;
  negativeA: number;
}

export interface ItechItM3400Emulator extends ScpiSupplyEmulator {
  readonly settings: Readonly<ItechSettings>;
  readonly outputOn: boolean;
  readonly remote: boolean;
}

/** Starts an emulated IT-M3400. */
export async function startItechItM3400Emulator(start: EmulatorStartOptions): Promise<ItechItM3400Emulator> {
  const reader = new OptionReader(ITECH_IT_M3400_EMULATOR, start.options);
  const modelOption = reader.raw("model");
  const model = typeof modelOption === "string" ? modelOption : "IT-M3432";
  const rated = itM3400Ratings(model);
  if (rated === undefined)
    reader.fail(`model must be an IT-M34xy model number, got ${JSON.stringify(modelOption)}`);
  const ratings = rated as NonNullable<typeof rated>;
  const serialOption = reader.raw("serial");
  if (serialOption !== undefined && typeof serialOption !== "string") reader.fail("serial must be a text");
  const serial = (serialOption as string | undefined) ?? "800001234567890001";
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
  };
  const s: ItechSettings = { ...initial };
  let outputOn = false;
  let remote = false;
  let remoteSense = false;

  const updateDrive = () => {
    if (!outputOn) supply.setDrive({ kind: "off" });
    else if (s.func === "CURR")
      supply.setDrive({ kind: "current-priority", currentA: s.currentA, lowV: s.lowV, highV: s.highV });
    else
      supply.setDrive({
        kind: "voltage-priority",
        voltageV: s.voltageV,
        sourceCurrentA: s.positiveA,
        sourcePowerW: ratings.powerW,
        sinkCurrentA: -s.negativeA,
        sinkPowerW: ratings.powerW,
      });
  };

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
      case "REM:SENS":
        remoteSense = booleanArgument(argument);
        return undefined;
      case "REM:SENS?":
        return remoteSense ? "1" : "0";
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
      case "OUTP":
        outputOn = booleanArgument(argument);
        updateDrive();
        return undefined;
      case "OUTP?":
        return outputOn ? "1" : "0";
      case "MEAS:VOLT?":
        return f(supply.measure().voltageV);
      case "MEAS:CURR?":
        return f(supply.measure().currentA);
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
  };
}
