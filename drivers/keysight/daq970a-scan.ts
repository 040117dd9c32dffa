/**
 * The scan of the `keysight/daq970a` driver as pure functions: the configuration commands for a set
 * of thermocouple inputs, and the parse of one READ? reply into a reading per input. Sources are cited
 * in keysight-daq970a.ts, which sends these commands.
 */
import { parseScpiQuantity, ScpiReplyError } from "../../protocols/index.js";
import type { TemperatureInputReading } from "../capabilities.js";
import { DaqBadScanError } from "./daq970a-errors.js";

/** Thermocouple types of `CONFigure:TEMPerature TCouple,<type>` [34970A UG: SENS:TEMP:TRAN:TC:TYPE]. */
export const THERMOCOUPLE_TYPES = ["B", "E", "J", "K", "N", "R", "S", "T"] as const;
export type ThermocoupleType = (typeof THERMOCOUPLE_TYPES)[number];

/**
 * Temperature range of each type's reference function, °C (NIST Monograph 175, ITS-90 thermocouple
 * tables): a finite reading outside it is not a temperature the type can report.
 */
export const THERMOCOUPLE_RANGE_C: Record<ThermocoupleType, readonly [number, number]> = {
  B: [0, 1820],
  E: [-270, 1000],
  J: [-210, 1200],
  K: [-270, 1372],
  N: [-270, 1300],
  R: [-50, 1768],
  S: [-50, 1768],
  T: [-270, 400],
};

/** Where thermocouple readings take their reference-junction temperature from. */
export type ReferenceJunction = { kind: "internal" } | { kind: "fixed"; celsius: number };

export interface ScanSetup {
  /** Input ids ("101") with their type, in scan order (ascending channel number). */
  inputs: readonly { id: string; type: ThermocoupleType }[];
  referenceJunction: ReferenceJunction;
}

/** Returns the channel list `(@101,102,205)` of `ids`. */
export function channelList(ids: readonly string[]): string {
  return `(@${ids.join(",")})`;
}

/**
 * Returns the writes that configure the scan, in order: CONF per type (each redefines the scan list
 * and turns the reading-format fields off), then units, reference junction, open-thermocouple check,
 * the whole scan list, one sweep per trigger, and the channel number after each reading.
 */
export function configurationCommands(setup: ScanSetup): string[] {
  const all = channelList(setup.inputs.map((i) => i.id));
  const commands: string[] = [];
  for (const type of THERMOCOUPLE_TYPES) {
    const ids = setup.inputs.filter((i) => i.type === type).map((i) => i.id);
    if (ids.length > 0) commands.push(`CONF:TEMP TC,${type},${channelList(ids)}`);
  }
  commands.push(`UNIT:TEMP C,${all}`);
  if (setup.referenceJunction.kind === "internal") commands.push(`TEMP:TRAN:TC:RJUN:TYPE INT,${all}`);
  else {
    commands.push(`TEMP:TRAN:TC:RJUN:TYPE FIX,${all}`);
    commands.push(`TEMP:TRAN:TC:RJUN ${setup.referenceJunction.celsius},${all}`);
  }
  commands.push(
    `TEMP:TRAN:TC:CHEC ON,${all}`,
    `ROUT:SCAN ${all}`,
    "TRIG:SOUR IMM",
    "TRIG:COUN 1",
    "FORM:READ:CHAN ON",
  );
  return commands;
}

/** SCPI's overload value, as the instrument sends it for an open or over-range input. */
const OVERLOAD = "9.9E+37";

/**
 * Parses a READ? reply with channel numbers on (`+2.51E+01,101,+9.9E+37,102`) into a reading per
 * input. Every configured input must appear exactly once and nothing else; throws DAQ_BAD_SCAN otherwise.
 */
export function parseScan(
  deviceId: string,
  reply: string,
  setup: ScanSetup,
): Map<string, TemperatureInputReading> {
  const fields = reply.split(",").map((f) => f.trim());
  const expected = setup.inputs.length * 2;
  if (fields.length !== expected)
    throw new DaqBadScanError(
      deviceId,
      reply,
      `has ${fields.length} fields, expected ${expected} (a reading and a channel number for each of ` +
        `${setup.inputs.length} inputs)`,
    );
  const types = new Map(setup.inputs.map((i) => [i.id, i.type]));
  const readings = new Map<string, TemperatureInputReading>();
  for (let i = 0; i < fields.length; i += 2) {
    const valueText = fields[i]!;
    const channelText = fields[i + 1]!;
    const channel = /^\+?\d+(?:\.\d*)?(?:E\+?\d+)?$/i.test(channelText) ? Number(channelText) : Number.NaN;
    const id = Number.isInteger(channel) ? String(channel) : "";
    const type = types.get(id);
    if (type === undefined)
      throw new DaqBadScanError(deviceId, reply, `names channel "${channelText}", which is not configured`);
    if (readings.has(id)) throw new DaqBadScanError(deviceId, reply, `holds channel ${id} twice`);
    readings.set(id, reading(deviceId, reply, valueText, type));
  }
  return new Map(setup.inputs.map((input) => [input.id, readings.get(input.id)!]));
}

function reading(
  deviceId: string,
  reply: string,
  text: string,
  type: ThermocoupleType,
): TemperatureInputReading {
  let value: number;
  try {
    const quantity = parseScpiQuantity(text, { allowNonFinite: true });
    if (quantity.unit !== "") throw new ScpiReplyError(text, `carries a unit (${quantity.unit})`);
    value = quantity.value;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DaqBadScanError(deviceId, reply, `holds "${text}", which is not a reading (${why})`);
  }
  if (value === Number.POSITIVE_INFINITY)
    return {
      ok: false,
      fault: "open",
      detail:
        `+${OVERLOAD}: the thermocouple check found the input open (more than 5 kΩ), or the input is ` +
        `above the type-${type} range; check the thermocouple and its terminals`,
    };
  if (value === Number.NEGATIVE_INFINITY)
    return {
      ok: false,
      fault: "overload",
      detail: `-${OVERLOAD}: the input is below the type-${type} range; check the wiring and the thermocouple type`,
    };
  if (Number.isNaN(value))
    return {
      ok: false,
      fault: "out-of-range",
      detail: `${text}: the instrument reports no number (SCPI NaN)`,
    };
  const [lo, hi] = THERMOCOUPLE_RANGE_C[type];
  if (value < lo || value > hi)
    return {
      ok: false,
      fault: "out-of-range",
      detail: `${value} °C lies outside the type-${type} range ${lo}..${hi} °C; check the thermocouple type`,
    };
  return { ok: true, temperatureC: value };
}
