/**
 * Emulated Keysight DAQ970A (34970A command set) with thermocouple multiplexers, answering the
 * `keysight/daq970a` driver over a socat pty, a loopback TCP port (the real instrument's socket is
 * 5025) or a memory pair. Written from the manuals, not from the driver: it keeps what each documented
 * command does to the instrument's state, so a driver that sends a wrong command or a right one in the
 * wrong order reads wrong values or finds an error in the queue.
 *
 * Sources: Agilent/Keysight "34970A/34972A User's Guide" [UG], as quoted in public pages and code
 * (manualsonline/manualsdump copies of chapters 4 and 5), and the 34980A Command Reference
 * (documentation.help/34980A) for the reference-junction commands.
 *
 *   *IDN?  *RST  *CLS                   SYST:ERR?  (`+0,"No error"`; 20 entries, then -350 "Queue overflow")
 *   CONFigure:TEMPerature TCouple,<B|E|J|K|N|R|S|T>[,...],(@list): sets the channels to that type,
 *       puts their earlier settings (open-thermocouple check, reference junction) back to the *RST state
 *       [UG ch.4: "the previous configuration on that channel is lost"], redefines the scan list as
 *       exactly those channels, and turns the reading-format fields off [UG ch.4 "Reading Format"].
 *       Units are not changed (the manuals do not say CONF changes them; the emulator's reading).
 *   UNIT:TEMPerature {C|F|K}[,(@list)]   UNIT:TEMPerature? [(@list)] → "C,F" (per channel)
 *   [SENSe:]TEMPerature:TRANsducer:TCouple:CHECk {ON|OFF}[,(@list)] (and ?): with it on an open input
 *       reads +9.9E+37 [UG: "reports an overload condition for that channel"]; with it off it reads
 *       noise (the emulator's model of a floating input)
 *   [SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction:TYPE {INTernal|EXTernal|FIXed}[,(@list)] (and ?)
 *   [SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction <-20..80 °C>[,(@list)] (and ?) [34980A]
 *       A fixed junction other than the emulated terminal block's temperature (option
 *       `junctionC`, default 25 °C) shifts every reading by the difference; EXTernal without a
 *       reference channel reads +9.9E+37 [34980A: "until you store a reference temperature, all
 *       thermocouple measurements that specify an external reference source will be returned as 9.9E+37"].
 *   ROUTe:SCAN (@list)  ROUTe:SCAN? (#2NN(@101,102))  ROUTe:SCAN:SIZE? [UG ch.5 "Scanning Commands"]
 *       (a signed integer, "+20" for 20 channels [Keysight DAQ970A/DAQ973A Programming Guide, p. 215,
 *       ROUTe:SCAN:SIZE?]); channels are scanned in ascending order whatever order the list names them
 *       in [34980A: ROUTe:SCAN, "scans the list of channels in ascending order ... (channels are
 *       reordered as needed)"; not found in the 34970A/DAQ970A pages at hand]
 *   TRIGger:SOURce {BUS|IMMediate|EXTernal|TIMer}  TRIGger:COUNt <n>  (sweeps per READ?/INIT)
 *       [TRIG:COUN as in the DAQ970A/DAQ973A Programming Guide's example, p. 204]
 *   FORMat:READing:{CHANnel|UNIT|TIME|ALARm} {ON|OFF} [UG ch.4 "Reading Format"]: the channel number
 *       follows the reading ("+2.51E+01,101"), the unit is appended to it ("+2.51E+01 C")
 *   READ? (INIT then FETC?)  INITiate  FETCh?  ABORt
 * Channels are scanned in ascending order (see ROUTe:SCAN above). Refusals go to the error
 * queue: -113 unknown header, -109 missing parameter, -104 not a number or channel list, -224
 * illegal value, -222 a channel not installed or a junction outside -20..80 °C, -221 READ? with an
 * empty scan list (the numbers are SCPI-99's; which one the real instrument uses for each case is not
 * documented at hand). Several commands on one line (`;`) are not supported.
 *
 * Scan time: each channel takes one integration of 1 PLC (CONF's default resolution, 20 ms at 50 Hz,
 * 16.7 ms at 60 Hz [UG ch.4 "Integration Time"]) plus one for the auto-zero reading (on by default
 * [UG ch.4 "Autozero"]) plus, with the check on, one resistance measurement [UG: TC:CHECk]; so 60 ms
 * per thermocouple at 50 Hz. This is the emulator's estimate from those sections, not a published
 * scan rate (the 250 ch/s of the data sheet is for fast DC volts without auto-zero).
 *
 * Options (all optional):
 *   model: "DAQ970A"  serial: "MY58000123"  manufacturer: "Keysight Technologies"
 *   slots: [1] (slots holding a 20-channel 34901A)   temperatureUnit: "C" | "F" | "K" (every channel at start)
 *   temperatureOf: (input: string) => number (°C at the thermocouple's tip; default 25)
 *   junctionC: 25   mainsHz: 50 | 60   scanTiming: true   linkTiming: false   baud: 115200   turnaroundMs: 0
 *   faults: { openThermocouple: { input? }, overload: { input?, sign? (-1 | 1) }, timeout, garbage: { bytes },
 *             slowScan: { delayMs }, lateReply: { delayMs }, disconnect: { forMs } }
 *   (a knob without `input` hits every input; `next: N` counts readings of matching inputs)
 */
import type { ScpiErrorEntry } from "../../protocols/scpi/scpi-errors.js";
import { AsciiLineLink, type AsciiLinkFaults, type ReceivedLine } from "./ascii-line-link.js";
import { FaultDeck, type FaultRate, type KnobParams } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import {
  booleanArgument,
  DaqRefusal,
  dataOutOfRange,
  discreteArgument,
  formatReading,
  type HeaderPattern,
  headerPattern,
  matchesHeader,
  missingParameter,
  numberArgument,
  parseChannelList,
  type ReceivedCommand,
  settingsConflict,
  splitCommand,
  undefinedHeader,
} from "./keysight-scpi-syntax.js";
import { readLinkTiming } from "./link-timing.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const KEYSIGHT_DAQ970A_EMULATOR = "keysight/daq970a";

export interface DaqFaults extends AsciiLinkFaults {
  openThermocouple?: FaultRate & { input?: string };
  overload?: FaultRate & { input?: string; sign?: number };
  timeout?: FaultRate;
  slowScan?: FaultRate & { delayMs?: number };
}

const DAQ_FAULT_KNOBS: { readonly [K in keyof DaqFaults]-?: KnobParams } = {
  openThermocouple: { input: "text" },
  overload: { input: "text", sign: { min: -1, max: 1, integer: true } },
  timeout: {},
  slowScan: { delayMs: { min: 0, max: 600_000 } },
  garbage: { bytes: { min: 1, max: 256, integer: true } },
  lateReply: { delayMs: { min: 0, max: 600_000 } },
  disconnect: { forMs: { min: 0, max: 600_000 } },
};

type Unit = "C" | "F" | "K";
const UNITS: readonly Unit[] = ["C", "F", "K"];
const TC_TYPES = ["B", "E", "J", "K", "N", "R", "S", "T"] as const;
type Junction = "INTernal" | "EXTernal" | "FIXed";
/** SCPI's overload reading [UG ch.5; SCPI-99 +INFinity]. */
const OVERLOAD = 9.9e37;
const CHANNELS_PER_SLOT = 20;
const ERROR_QUEUE_SIZE = 20;

interface ChannelState {
  /** Thermocouple type once CONF:TEMP has set the channel up; undefined: still DC volts (*RST). */
  type: (typeof TC_TYPES)[number] | undefined;
  unit: Unit;
  check: boolean;
  junction: Junction;
  fixedJunctionC: number;
}

export interface KeysightDaq970aEmulator extends RunningEmulator {
  readonly faults: FaultDeck<DaqFaults>;
  /** Every command line received, in order. */
  readonly commands: readonly string[];
  /** The error queue (oldest first). */
  readonly errorQueue: readonly ScpiErrorEntry[];
  /** The scan list as the last CONF or ROUT:SCAN left it. */
  readonly scanList: readonly number[];
  /** Readings taken (one per channel per sweep). */
  readonly readingsTaken: number;
  /** A channel's settings, e.g. channel(101).unit. */
  channel(channel: number): Readonly<ChannelState> | undefined;
  /** Sets the temperature at an input's tip, °C (wins over `temperatureOf`). */
  setTemperature(input: string, celsius: number): void;
  /** Cuts the link for `ms`. */
  disconnectFor(ms: number): void;
}

/** Starts an emulated DAQ970A. */
export async function startKeysightDaq970aEmulator(
  start: EmulatorStartOptions,
): Promise<KeysightDaq970aEmulator> {
  const reader = new OptionReader(KEYSIGHT_DAQ970A_EMULATOR, start.options);
  const text = (name: string, fallback: string): string => {
    const v = reader.raw(name);
    if (v === undefined) return fallback;
    if (typeof v !== "string" || v.trim() === "" || v.includes(","))
      reader.fail(`${name} must be a text without commas`);
    return v as string;
  };
  const manufacturer = text("manufacturer", "Keysight Technologies");
  const model = text("model", "DAQ970A");
  const serial = text("serial", "MY58000123");
  const slots = reader.integers("slots", [1], 1, 3);
  const startUnit = reader.choice<Unit>("temperatureUnit", "C", UNITS);
  const temperatureOfOption = reader.raw("temperatureOf");
  if (temperatureOfOption !== undefined && typeof temperatureOfOption !== "function")
    reader.fail("temperatureOf must be a function (input: string) => °C");
  const temperatureOf = temperatureOfOption as ((input: string) => number) | undefined;
  const junctionC = reader.number("junctionC", 25, -20, 80);
  const mainsHz = reader.integer("mainsHz", 50, 50, 60);
  if (mainsHz !== 50 && mainsHz !== 60) reader.fail(`mainsHz must be 50 or 60, got ${mainsHz}`);
  const scanTiming = reader.boolean("scanTiming", true);
  const timing = readLinkTiming(reader, { baud: 115_200 });
  const faults = new FaultDeck<DaqFaults>(KEYSIGHT_DAQ970A_EMULATOR, DAQ_FAULT_KNOBS, reader.raw("faults"));
  reader.done();

  const exists = (c: number) =>
    slots.includes(Math.floor(c / 100)) && c % 100 >= 1 && c % 100 <= CHANNELS_PER_SLOT;
  const channels = new Map<number, ChannelState>();
  const resetChannel = (state: ChannelState, unit: Unit) =>
    Object.assign(state, { type: undefined, unit, check: false, junction: "INTernal", fixedJunctionC: 0 });
  for (const slot of slots)
    for (let c = 1; c <= CHANNELS_PER_SLOT; c++)
      channels.set(slot * 100 + c, resetChannel({} as ChannelState, startUnit));
  const set = new Map<string, number>();
  const errorQueue: ScpiErrorEntry[] = [];
  const commands: string[] = [];
  let scanList: number[] = [];
  const format = { channel: false, unit: false, time: false, alarm: false };
  let triggerCount = 1;
  let stored: Promise<string> | undefined;
  let readingsTaken = 0;

  const pushError = (code: number, message: string) => {
    if (errorQueue.length >= ERROR_QUEUE_SIZE) {
      errorQueue[ERROR_QUEUE_SIZE - 1] = { code: -350, message: "Queue overflow" };
      return;
    }
    errorQueue.push({ code, message });
  };

  /** The channels of an optional `(@list)` argument; without one, the scan list's. */
  const listOrScan = (arg: string | undefined): number[] =>
    arg === undefined ? scanList : parseChannelList(arg, exists);

  const celsiusAt = (channel: number): number => {
    const input = String(channel);
    return set.get(input) ?? temperatureOf?.(input) ?? 25;
  };

  const hits = <K extends "openThermocouple" | "overload">(knob: K, input: string) => {
    const setting = faults.current[knob];
    if (setting === undefined || (setting.input !== undefined && setting.input !== input)) return undefined;
    return faults.fire(knob);
  };

  /** One reading of `channel` in its unit, or the overload value. */
  const measure = (channel: number): number => {
    readingsTaken++;
    const state = channels.get(channel)!;
    const input = String(channel);
    if (state.type === undefined) return 2e-6 * (faults.randomInt(100) - 50); // DC volts of a shorted input
    const overload = hits("overload", input);
    if (overload) return (overload.sign === -1 ? -1 : 1) * OVERLOAD;
    if (hits("openThermocouple", input))
      return state.check ? OVERLOAD : convert(25 + faults.randomInt(4000) / 10 - 200, state.unit);
    if (state.junction === "EXTernal") return OVERLOAD;
    const junctionError = state.junction === "FIXed" ? junctionC - state.fixedJunctionC : 0;
    return convert(celsiusAt(channel) + junctionError, state.unit);
  };

  const scanMs = (): number => {
    if (!scanTiming) return 0;
    const plcMs = 1000 / mainsHz;
    const perSweep = scanList.reduce((ms, c) => ms + plcMs * (channels.get(c)!.check ? 3 : 2), 0);
    return perSweep * triggerCount;
  };

  /** Runs the sweeps (taking the scan time) and returns the formatted readings. */
  const runScan = async (): Promise<string> => {
    if (scanList.length === 0) throw settingsConflict();
    const order = [...scanList].sort((a, b) => a - b);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, scanMs()));
    const fields: string[] = [];
    for (let sweep = 0; sweep < triggerCount; sweep++)
      for (const c of order) {
        const value = measure(c);
        const unit = channels.get(c)!.type === undefined ? "VDC" : channels.get(c)!.unit;
        const parts = [`${formatReading(value)}${format.unit ? ` ${unit}` : ""}`];
        if (format.time) parts.push(((performance.now() - started) / 1000).toFixed(3));
        if (format.channel) parts.push(String(c));
        if (format.alarm) parts.push("0");
        fields.push(parts.join(","));
      }
    return fields.join(",");
  };

  type Handler = (c: ReceivedCommand) => string | Promise<string> | undefined;
  const table: [HeaderPattern, Handler][] = [];
  const on = (header: string, handler: Handler) => table.push([headerPattern(header), handler]);

  on("*IDN?", () => `${manufacturer},${model},${serial},A.03.02-01.00-03.01-00.02-03.00-01.00`);
  on("*CLS", () => {
    errorQueue.length = 0;
    return undefined;
  });
  on("*RST", () => {
    for (const state of channels.values()) resetChannel(state, "C");
    scanList = [];
    Object.assign(format, { channel: false, unit: false, time: false, alarm: false });
    triggerCount = 1;
    stored = undefined;
    return undefined;
  });
  on("SYSTem:ERRor?", () => {
    const next = errorQueue.shift();
    return next ? `${next.code},"${next.message}"` : '+0,"No error"';
  });
  on("CONFigure:TEMPerature", ({ args }) => {
    if (args.length < 3) throw missingParameter();
    discreteArgument(args[0], ["TCouple"]);
    const type = discreteArgument(args[1], TC_TYPES);
    const list = parseChannelList(args[args.length - 1]!, exists);
    for (const c of list) {
      const state = channels.get(c)!;
      Object.assign(state, { type, check: false, junction: "INTernal", fixedJunctionC: 0 });
    }
    scanList = list;
    Object.assign(format, { channel: false, unit: false, time: false, alarm: false });
    return undefined;
  });
  on("UNIT:TEMPerature", ({ args }) => {
    const unit = discreteArgument(args[0], UNITS);
    for (const c of listOrScan(args[1])) channels.get(c)!.unit = unit;
    return undefined;
  });
  on("UNIT:TEMPerature?", ({ args }) =>
    listOrScan(args[0])
      .map((c) => channels.get(c)!.unit)
      .join(","),
  );
  on("[SENSe:]TEMPerature:TRANsducer:TCouple:CHECk", ({ args }) => {
    const check = booleanArgument(args[0]);
    for (const c of listOrScan(args[1])) channels.get(c)!.check = check;
    return undefined;
  });
  on("[SENSe:]TEMPerature:TRANsducer:TCouple:CHECk?", ({ args }) =>
    listOrScan(args[0])
      .map((c) => (channels.get(c)!.check ? "1" : "0"))
      .join(","),
  );
  on("[SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction:TYPE", ({ args }) => {
    const junction = discreteArgument<Junction>(args[0], ["INTernal", "EXTernal", "FIXed"]);
    for (const c of listOrScan(args[1])) channels.get(c)!.junction = junction;
    return undefined;
  });
  on("[SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction:TYPE?", ({ args }) =>
    listOrScan(args[0])
      .map((c) => channels.get(c)!.junction.replace(/[a-z]+$/, ""))
      .join(","),
  );
  on("[SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction", ({ args }) => {
    const celsius = numberArgument(args[0]);
    if (celsius < -20 || celsius > 80) throw dataOutOfRange();
    for (const c of listOrScan(args[1])) channels.get(c)!.fixedJunctionC = celsius;
    return undefined;
  });
  on("ROUTe:SCAN", ({ args }) => {
    if (args.length === 0) throw missingParameter();
    scanList = parseChannelList(args[0]!, exists);
    return undefined;
  });
  on("ROUTe:SCAN?", () => {
    const body = `(@${scanList.join(",")})`;
    return `#${String(body.length).length}${body.length}${body}`;
  });
  on("ROUTe:SCAN:SIZE?", () => `+${scanList.length}`);
  on("TRIGger:SOURce", ({ args }) => {
    discreteArgument(args[0], ["BUS", "IMMediate", "EXTernal", "TIMer"]);
    return undefined;
  });
  on("TRIGger:COUNt", ({ args }) => {
    const count = numberArgument(args[0]);
    if (!Number.isInteger(count) || count < 1 || count > 50_000) throw dataOutOfRange();
    triggerCount = count;
    return undefined;
  });
  for (const field of ["CHANnel", "UNIT", "TIME", "ALARm"] as const)
    on(`FORMat:READing:${field}`, ({ args }) => {
      format[
        field === "CHANnel" ? "channel" : field === "ALARm" ? "alarm" : field === "UNIT" ? "unit" : "time"
      ] = booleanArgument(args[0]);
      return undefined;
    });
  on("ABORt", () => {
    stored = undefined;
    return undefined;
  });
  on("INITiate", () => {
    if (scanList.length === 0) throw settingsConflict();
    stored = runScan();
    stored.catch(() => undefined);
    return undefined;
  });
  on("FETCh?", () => {
    if (stored === undefined) throw settingsConflict();
    return stored;
  });
  on("READ?", () => runScan());

  const link: AsciiLineLink<DaqFaults> = new AsciiLineLink({
    listen: start.listen,
    faults,
    timing,
    terminator: "\n",
    serve: async (received: ReceivedLine) => {
      if (link.stopped) return;
      commands.push(received.line);
      if (link.disconnectOnFault()) return;
      const command = splitCommand(received.line);
      const handler = table.find(([pattern]) => matchesHeader(pattern, command.header, command.query))?.[1];
      let reply: string | undefined;
      try {
        if (handler === undefined) throw undefinedHeader();
        reply = await handler(command);
      } catch (err) {
        if (!(err instanceof DaqRefusal)) throw err;
        pushError(err.code, err.scpiMessage);
        return;
      }
      if (reply === undefined || !command.query) return;
      if (faults.fire("timeout")) return;
      const slow = /^(READ|FETC|FETCH)$/i.test(command.header.replace(/^:/, ""))
        ? faults.fire("slowScan")
        : undefined;
      if (slow) await new Promise((resolve) => setTimeout(resolve, slow.delayMs ?? 2000));
      await link.reply(received, reply);
    },
  });
  await link.start();

  return {
    name: KEYSIGHT_DAQ970A_EMULATOR,
    listen: link.url,
    faults,
    commands,
    errorQueue,
    get scanList() {
      return [...scanList];
    },
    get readingsTaken() {
      return readingsTaken;
    },
    channel: (c) => {
      const state = channels.get(c);
      return state ? { ...state } : undefined;
    },
    setTemperature: (input, celsius) => {
      set.set(input, celsius);
    },
    disconnectFor: (ms) => link.disconnectFor(ms),
    stop: () => link.stop(),
  };
}

/** Converts °C to the channel's unit [UG: UNIT:TEMPerature]. */
function convert(celsius: number, unit: Unit): number {
  if (unit === "F") return (celsius * 9) / 5 + 32;
  if (unit === "K") return celsius + 273.15;
  return celsius;
}
