/**
 * Emulated Elektro-Automatik PSB 10000 on SCPI (`\n` both ways), answering the `ea/psb-scpi` driver
 * over a socat pty, a loopback TCP port (the real instrument listens on 5025) or a memory pair. A cell
 * sits on its terminals (ea-itech-supply-physics.ts, the `sim/cycler` cell model on the given clock).
 *
 * Commands (long or short forms, `SOURce:` optional):
 *   *IDN?  *CLS  *RST                       SYST:ERR?  SYST:ERR:ALL?
 *   SYST:LOCK ON|OFF  SYST:LOCK:OWN? (REMOTE while locked, else NONE)
 *   SYST:NOM:VOLT? | CURR? | POW?  ("60.00 V")   SYST:CONF:MODE UIP|UIR  SYST:CONF:MODE?
 *   VOLT <V>  CURR <A>  POW <W>  SINK:CURR <A>  SINK:POW <W>   (and their queries)
 *   OUTP ON|OFF  OUTP?
 *   MEAS:VOLT?  MEAS:CURR?  MEAS:POW?  MEAS:ARR? ("4.10 V, -2.00 A, -8.2 W"; current negative when sinking)
 *   STAT:QUES:COND?   SYST:ALARM:COUNT:OVOL? | OCUR? | OPOW? | OTEM? | PFA?
 * Refusals go to the error queue: -113 unknown header, -104 bad number, -222 outside 0..102 % of the
 * rating, -203 "Command protected" for a setting while SYST:LOCK is off (the emulator's choice: the
 * real PSB is documented to ignore such settings), -200 "Execution error" for OUTP ON while an alarm
 * stands (the emulator's choice).
 *
 * Alarms, from EA's "Programming Guide ModBus & SCPI" (PGMBEN REV 17 §5.4.2 "Status registers" and
 * §5.4.15.3 alarm counters, as quoted in ami3go/RobotFrameworks_hw_drivers, rf_ea_ps9000t task
 * document): an alarm (OVP, OCP, OPP, OT, PF) switches the output off and sets its bit in the
 * condition register of STATus:QUEStionable, never an entry in the error queue; it stays set until
 * acknowledged, and reading the error queue (SYST:ERR?, SYST:ERR:ALL?) acknowledges every alarm whose
 * cause is gone; OT clears itself when the cause is gone. Alarm counters count trips until power-off.
 * The bit numbers (OVP 0, OCP 1, OPP 2, OT 3, PF 13) are not in that quotation: they follow a public
 * third-party PSB 10000 driver's reading of the guide's register model (unverified).
 * tripAlarm() raises one (its cause gone at once, or standing until clearAlarmCause()), and
 * acknowledgeAtPanel() is the operator acknowledging at the front panel.
 *
 * High-power models print values in kW (issue 12, finding 6; no EA document at hand says which): with
 * powerUnit "kW" every power reply (MEAS:POW?, MEAS:ARR?, SYST:NOM:POW?, POW?, SINK:POW?) is in kW.
 *
 * Options (all optional):
 *   model: "PSB 10060-60"   serial: "2411230001"   nominal: { voltageV: 60, currentA: 60, powerW: 1500 }
 *   cell: { chemistry: "li-ion-nmc", capacityAh: 3 }   initialSoc: 0.5
 *   alarm: "OVP" | "OCP" | "OPP" | "OT" | "PF" (latched at start, its cause gone)   powerUnit: "W" | "kW"
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
import {
  DEFAULT_EMULATED_CELL,
  type EmulatedCellOptions,
  type SupplyDrive,
  type VoltagePriority,
} from "./ea-itech-supply-physics.js";
import { OptionReader } from "./emulator-options.js";
import type { EmulatorStartOptions } from "./registry.js";
import { prepareScpiSupply, type ScpiSupplyEmulator, serveScpiSupply } from "./scpi-supply-emulator.js";

export const EA_PSB_SCPI_EMULATOR = "ea/psb-scpi";

export interface PsbRatings {
  voltageV: number;
  currentA: number;
  powerW: number;
}

export const DEFAULT_PSB_NOMINAL: PsbRatings = { voltageV: 60, currentA: 60, powerW: 1500 };

/** What the PSB emulators are without options: a PSB 10060-60. */
const PSB_DEFAULTS = { model: "PSB 10060-60", serial: "2411230001", nominal: DEFAULT_PSB_NOMINAL };

/**
 * Set values of a PSB (what SOUR:/SINK: commands or registers 498–502 hold): a PSB always regulates
 * in voltage priority, so they are that drive of its cell.
 */
export type PsbSetValues = VoltagePriority;

/** Alarms of a PSB and their bits in STATus:QUEStionable (see the file header for the source). */
export const PSB_ALARM_BITS = { OVP: 0, OCP: 1, OPP: 2, OT: 3, PF: 13 } as const;
export type PsbAlarm = keyof typeof PSB_ALARM_BITS;

/** The alarm counter query of each alarm [PGMBEN §5.4.15.3]. */
const ALARM_COUNTERS: Record<string, PsbAlarm> = {
  "SYST:ALAR:COUN:OVOL": "OVP",
  "SYST:ALAR:COUN:OCUR": "OCP",
  "SYST:ALAR:COUN:OPOW": "OPP",
  "SYST:ALAR:COUN:OTEM": "OT",
  "SYST:ALAR:COUN:PFA": "PF",
};

export interface EaPsbScpiEmulator extends ScpiSupplyEmulator {
  readonly setValues: Readonly<PsbSetValues>;
  readonly outputOn: boolean;
  readonly locked: boolean;
  /** Alarms set in STATus:QUEStionable (standing or not yet acknowledged). */
  readonly alarms: readonly PsbAlarm[];
  /** Trips an alarm: output off, its bit set; its cause stays until clearAlarmCause() when `causeStays`. */
  tripAlarm(alarm: PsbAlarm, options?: { causeStays?: boolean }): void;
  /** The alarm's cause is gone (OT then clears itself; the others wait for an acknowledgement). */
  clearAlarmCause(alarm: PsbAlarm): void;
  /** The operator acknowledges at the front panel: every alarm whose cause is gone clears. */
  acknowledgeAtPanel(): void;
}

/** Reads the options the PSB emulators share: model, serial, nominal, cell, initialSoc. */
export function readPsbOptions(reader: OptionReader): {
  model: string;
  serial: string;
  nominal: PsbRatings;
  cell: EmulatedCellOptions;
} {
  const text = (name: string, fallback: string): string => {
    const v = reader.raw(name);
    if (v === undefined) return fallback;
    if (typeof v !== "string" || v.trim() === "") reader.fail(`${name} must be a text`);
    return v as string;
  };
  const model = text("model", PSB_DEFAULTS.model);
  const serial = text("serial", PSB_DEFAULTS.serial);
  const nominal = readRatings(reader, "nominal") ?? PSB_DEFAULTS.nominal;
  return { model, serial, nominal, cell: readCellOptions(reader) };
}

/** Reads `<name>: { voltageV, currentA, powerW }` (all positive), or undefined when absent. */
export function readRatings(reader: OptionReader, name: string): PsbRatings | undefined {
  const option = reader.raw(name);
  if (option === undefined) return undefined;
  const n = option as Partial<PsbRatings>;
  const ok = (x: unknown) => typeof x === "number" && x > 0 && Number.isFinite(x);
  if (typeof n !== "object" || n === null || !ok(n.voltageV) || !ok(n.currentA) || !ok(n.powerW))
    reader.fail(`${name} must be { voltageV, currentA, powerW }, all positive numbers`);
  return n as PsbRatings;
}

/** Reads `cell: { chemistry, capacityAh }` and `initialSoc`. */
export function readCellOptions(reader: OptionReader): EmulatedCellOptions {
  const cell = reader.raw("cell");
  const initialSoc = reader.number("initialSoc", DEFAULT_EMULATED_CELL.initialSoc, 0, 1);
  if (cell === undefined) return { ...DEFAULT_EMULATED_CELL, initialSoc };
  const c = cell as Partial<EmulatedCellOptions>;
  if (typeof cell !== "object" || cell === null) reader.fail("cell must be { chemistry, capacityAh }");
  const chemistry = c.chemistry ?? DEFAULT_EMULATED_CELL.chemistry;
  if (!["li-ion-nmc", "li-ion-lfp", "asslb-sulfide"].includes(chemistry))
    reader.fail("cell.chemistry must be li-ion-nmc, li-ion-lfp or asslb-sulfide");
  const capacityAh = c.capacityAh ?? DEFAULT_EMULATED_CELL.capacityAh;
  if (typeof capacityAh !== "number" || !(capacityAh > 0))
    reader.fail("cell.capacityAh must be a positive number");
  return { chemistry, capacityAh, initialSoc };
}

/** Returns the set values of a PSB after *RST (or power-on): 0 V, no current, rated power. */
export function initialPsbSetValues(nominal: PsbRatings): PsbSetValues {
  return {
    voltageV: 0,
    sourceCurrentA: 0,
    sourcePowerW: nominal.powerW,
    sinkCurrentA: 0,
    sinkPowerW: nominal.powerW,
  };
}

/** Returns the drive of a PSB's cell: its set values while the output is on, else off. */
export function psbDrive(set: Readonly<PsbSetValues>, outputOn: boolean): SupplyDrive {
  return outputOn ? { kind: "voltage-priority", ...set } : { kind: "off" };
}

/** Formats a measured value the way the PSB's display does: 4 significant digits of the rating. */
export function formatPsbValue(value: number, nominal: number, unit: string): string {
  const decimals = Math.max(0, 3 - Math.floor(Math.log10(nominal)));
  const text = value.toFixed(decimals);
  return `${/^-0\.?0*$/.test(text) ? text.slice(1) : text} ${unit}`;
}

/** Starts an emulated PSB 10000 on SCPI. */
export async function startEaPsbScpiEmulator(start: EmulatorStartOptions): Promise<EaPsbScpiEmulator> {
  const reader = new OptionReader(EA_PSB_SCPI_EMULATOR, start.options);
  const { model, serial, nominal, cell } = readPsbOptions(reader);
  const alarmOption = reader.raw("alarm");
  if (alarmOption !== undefined && !(typeof alarmOption === "string" && alarmOption in PSB_ALARM_BITS))
    reader.fail(`alarm must be one of ${Object.keys(PSB_ALARM_BITS).join(", ")}`);
  const powerUnit = reader.raw("powerUnit") ?? "W";
  if (powerUnit !== "W" && powerUnit !== "kW") reader.fail('powerUnit must be "W" or "kW"');
  const parts = prepareScpiSupply(EA_PSB_SCPI_EMULATOR, reader, start, cell);
  const { supply } = parts;

  const initial = initialPsbSetValues(nominal);
  const set: PsbSetValues = { ...initial };
  let outputOn = false;
  let locked = false;
  let confMode = "UIP";
  /** Alarms set in the register: whether the cause still stands. */
  const alarms = new Map<PsbAlarm, { causeStands: boolean }>();
  const counters = new Map<PsbAlarm, number>();

  const updateDrive = () => supply.setDrive(psbDrive(set, outputOn));
  const formatPower = (watts: number) =>
    powerUnit === "kW"
      ? formatPsbValue(watts / 1000, nominal.powerW / 1000, "kW")
      : formatPsbValue(watts, nominal.powerW, "W");
  const format = (value: number, unit: string, rating: number) =>
    unit === "W" ? formatPower(value) : formatPsbValue(value, rating, unit);
  const tripAlarm = (alarm: PsbAlarm, causeStays = false) => {
    alarms.set(alarm, { causeStands: causeStays });
    counters.set(alarm, (counters.get(alarm) ?? 0) + 1);
    outputOn = false;
    updateDrive();
  };
  const acknowledge = () => {
    for (const [alarm, state] of alarms) if (!state.causeStands) alarms.delete(alarm);
  };
  if (alarmOption !== undefined) tripAlarm(alarmOption as PsbAlarm);

  const SET_VALUES: Record<string, { key: keyof PsbSetValues; unit: string; nominal: number }> = {
    VOLT: { key: "voltageV", unit: "V", nominal: nominal.voltageV },
    CURR: { key: "sourceCurrentA", unit: "A", nominal: nominal.currentA },
    POW: { key: "sourcePowerW", unit: "W", nominal: nominal.powerW },
    "SINK:CURR": { key: "sinkCurrentA", unit: "A", nominal: nominal.currentA },
    "SINK:POW": { key: "sinkPowerW", unit: "W", nominal: nominal.powerW },
  };

  const requireLock = () => {
    if (!locked) throw new ScpiRefusal(-203, "Command protected");
  };

  const execute = (c: ScpiCommand): string | undefined => {
    const { header, query, argument } = c;
    const setValue = SET_VALUES[header];
    if (setValue) {
      if (query) return format(set[setValue.key], setValue.unit, setValue.nominal);
      const value = numberArgument(argument, setValue.unit);
      if (value < 0 || value > setValue.nominal * 1.02) throw DATA_OUT_OF_RANGE();
      requireLock();
      set[setValue.key] = value;
      updateDrive();
      return undefined;
    }
    switch (`${header}${query ? "?" : ""}`) {
      case "*IDN?":
        return `EA Elektro-Automatik GmbH & Co. KG, ${model}, ${serial}, V3.02 15.02.2024`;
      case "*RST":
        Object.assign(set, initial);
        outputOn = false;
        updateDrive();
        return undefined;
      case "SYST:LOCK":
        locked = booleanArgument(argument);
        return undefined;
      case "SYST:LOCK:OWN?":
        return locked ? "REMOTE" : "NONE";
      case "SYST:NOM:VOLT?":
        return formatPsbValue(nominal.voltageV, nominal.voltageV, "V");
      case "SYST:NOM:CURR?":
        return formatPsbValue(nominal.currentA, nominal.currentA, "A");
      case "SYST:NOM:POW?":
        return formatPower(nominal.powerW);
      case "SYST:CONF:MODE?":
        return confMode;
      case "SYST:CONF:MODE": {
        const mode = argument.trim().toUpperCase().replaceAll("/", "");
        if (mode !== "UIP" && mode !== "UIR") throw DATA_OUT_OF_RANGE();
        requireLock();
        confMode = mode;
        return undefined;
      }
      case "OUTP": {
        const on = booleanArgument(argument);
        requireLock();
        if (on && alarms.size > 0) throw new ScpiRefusal(-200, "Execution error");
        outputOn = on;
        updateDrive();
        return undefined;
      }
      case "STAT:QUES:COND?": {
        let bits = 0;
        for (const alarm of alarms.keys()) bits |= 1 << PSB_ALARM_BITS[alarm];
        return String(bits);
      }
      case "OUTP?":
        return outputOn ? "ON" : "OFF";
      case "MEAS:VOLT?":
        return formatPsbValue(supply.measure().voltageV, nominal.voltageV, "V");
      case "MEAS:CURR?":
        return formatPsbValue(supply.measure().currentA, nominal.currentA, "A");
      case "MEAS:POW?":
        return formatPower(supply.measure().powerW);
      case "MEAS:ARR?": {
        const m = supply.measure();
        return [
          formatPsbValue(m.voltageV, nominal.voltageV, "V"),
          formatPsbValue(m.currentA, nominal.currentA, "A"),
          formatPower(m.powerW),
        ].join(", ");
      }
      default: {
        const counted = query ? ALARM_COUNTERS[header] : undefined;
        if (counted) return String(counters.get(counted) ?? 0);
        throw UNDEFINED_HEADER();
      }
    }
  };

  const emulator = await serveScpiSupply(parts, execute, {
    errorQueryAll: true,
    onErrorQueueRead: acknowledge,
  });
  return {
    ...emulator,
    get alarms() {
      return [...alarms.keys()];
    },
    tripAlarm: (alarm, options) => tripAlarm(alarm, options?.causeStays),
    clearAlarmCause: (alarm) => {
      const state = alarms.get(alarm);
      if (state === undefined) return;
      if (alarm === "OT") alarms.delete(alarm);
      else state.causeStands = false;
    },
    acknowledgeAtPanel: acknowledge,
    get setValues() {
      return { ...set };
    },
    get outputOn() {
      return outputOn;
    },
    get locked() {
      return locked;
    },
  };
}
