/**
 * Reads a modbus/temperature-inputs device entry: the Modbus link (transport, unit, timeouts) and the
 * module's register map, from `options.preset` and/or explicit options (an explicit option overrides
 * the preset's value), with errors naming the option and what to write instead.
 */
import type { WordOrder } from "../../protocols/modbus/modbus-values.js";
import type { DeviceConfig } from "../capabilities.js";
import { DeviceOptionReader, shown } from "../common/device-option-reader.js";
import { type ModbusLinkSettings, readModbusLinkSettings } from "../common/modbus-chamber-link.js";
import {
  PRESET_NAMES,
  type PresetCheck,
  TEMPERATURE_INPUT_PRESETS,
  type TemperatureInputPresetName,
} from "./temperature-input-presets.js";
import { TemperatureInputsOptionsError } from "./temperature-inputs-errors.js";

/** Default reply timeout, ms: what a silent module may cost every other device on its line. */
export const TEMPERATURE_INPUTS_DEFAULT_TIMEOUT_MS = 500;

/** A register map with every field decided. */
export type ResolvedInputMap =
  | (MapCommon & { dataType: "int16"; scale: number })
  | (MapCommon & { dataType: "float32"; wordOrder: WordOrder });

interface MapCommon {
  functionCode: 3 | 4;
  registerBase: number;
  /** int16: the raw register (0..65535); float32: the value. */
  openValue?: number;
  overloadValue?: number;
  rangeC?: readonly [number, number];
}

export interface TemperatureInputSettings {
  link: ModbusLinkSettings;
  map: ResolvedInputMap;
  /** Input numbers in rising order. */
  inputs: readonly number[];
  preset?: TemperatureInputPresetName;
  check?: PresetCheck;
}

export class TemperatureInputOptionReader extends DeviceOptionReader {
  transport(example: string): string {
    return this.requireTransport(`a transport URL is required, e.g. transport: ${example}`);
  }

  number(
    name: string,
    fallback: number,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
  ): number {
    return this.optionalNumber(name, min, max) ?? fallback;
  }

  optionalNumber(name: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY) {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      this.fail(`options.${name} must be a number in [${min}, ${max}], got ${shown(v)}`);
    return v as number;
  }

  choice<T extends string>(name: string, allowed: readonly T[], why = ""): T | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !allowed.includes(v as T))
      this.fail(`options.${name} must be one of ${allowed.join(", ")}${why}, got ${shown(v)}`);
    return v as T;
  }

  range(name: string): [number, number] | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x)) ||
      !(v[0] < v[1])
    )
      this.fail(`options.${name} must be [low, high] in °C with low < high, got ${shown(v)}`);
    return [v[0], v[1]] as [number, number];
  }

  /** Returns the input numbers (whole numbers from 1, each once), sorted; undefined when absent. */
  inputs(max: number): number[] | undefined {
    const v = this.take("inputs");
    if (v === undefined) return undefined;
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      !v.every((x) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= max)
    )
      this.fail(
        `options.inputs must be a list of input numbers in 1..${max} (as the module labels them), got ${shown(v)}`,
      );
    if (new Set(v).size !== v.length) this.fail(`options.inputs lists an input twice: ${shown(v)}`);
    return [...(v as number[])].sort((a, b) => a - b);
  }

  fail(problem: string): never {
    throw new TemperatureInputsOptionsError(this.config.id, this.config.driver, problem);
  }
}

/** Reads and checks the whole entry; throws TEMPERATURE_INPUTS_BAD_OPTIONS naming what to change. */
export function readTemperatureInputSettings(config: DeviceConfig): TemperatureInputSettings {
  const o: TemperatureInputOptionReader = new TemperatureInputOptionReader(config);
  if ((config.channels ?? []).length > 0)
    o.fail(
      "has no cycler channels; list the thermocouple or RTD inputs under options.inputs instead of channels",
    );
  const link = readModbusLinkSettings(o, {
    exampleUrl: "serial:///dev/serial/by-id/<adapter>?baud=9600&unit=1",
    units: [1, 247],
    timeoutMs: TEMPERATURE_INPUTS_DEFAULT_TIMEOUT_MS,
    minGapMs: 0,
  });
  const presetName = o.choice("preset", PRESET_NAMES);
  const preset = presetName === undefined ? undefined : TEMPERATURE_INPUT_PRESETS[presetName];
  const need: (name: string, what: string) => never = (name, what) =>
    o.fail(
      `options.${name} is required without a preset (${what}); or set options.preset to one of ${PRESET_NAMES.join(", ")}`,
    );

  const functionCode = o.integer("functionCode", preset?.functionCode, 3, 4) as 3 | 4 | undefined;
  const registerBase = o.integer("registerBase", preset?.registerBase, 0, 0xffff);
  const dataType = o.choice("dataType", ["int16", "float32"] as const) ?? preset?.dataType;
  const scale = o.optionalNumber("scale");
  const wordOrder = o.choice(
    "wordOrder",
    ["high-first", "low-first"] as const,
    " (which register holds the high half)",
  );
  const openValue = o.optionalNumber("openValue");
  const overloadValue = o.optionalNumber("overloadValue");
  const rangeC = o.range("rangeC") ?? preset?.rangeC;
  const inputs = o.inputs(preset?.inputCount ?? 0xffff) ?? range1(preset?.inputCount);
  o.done();

  if (functionCode === undefined)
    need("functionCode", "3 = read holding registers, 4 = read input registers");
  if (registerBase === undefined)
    need("registerBase", "the protocol address of input 1, 0-based: register 30001 or 40001 is 0");
  if (dataType === undefined) need("dataType", '"int16" (with scale) or "float32" (with wordOrder)');
  if (inputs === undefined) need("inputs", "the input numbers in use, e.g. [1, 2, 3, 4]");

  const common = {
    functionCode: functionCode as 3 | 4,
    registerBase: registerBase as number,
    ...(rangeC === undefined ? {} : { rangeC }),
  };
  let map: ResolvedInputMap;
  if (dataType === "int16") {
    if (wordOrder !== undefined) o.fail('options.wordOrder applies to dataType "float32" only; remove it');
    const s = scale ?? (preset?.dataType === "int16" ? preset.scale : undefined);
    if (s === undefined || s === 0)
      o.fail('options.scale (°C per count, e.g. 0.1) is required with dataType "int16" and must not be 0');
    map = {
      ...common,
      dataType,
      scale: s,
      ...rawInt16("openValue", openValue ?? int16Preset(preset?.openValue, preset?.dataType), o),
      ...rawInt16("overloadValue", overloadValue ?? int16Preset(preset?.overloadValue, preset?.dataType), o),
    };
  } else {
    if (scale !== undefined) o.fail('options.scale applies to dataType "int16" only; remove it');
    const order = wordOrder ?? (preset?.dataType === "float32" ? preset.wordOrder : undefined);
    if (order === undefined)
      o.fail('options.wordOrder ("high-first" or "low-first") is required with dataType "float32"');
    const open = openValue ?? (preset?.dataType === "float32" ? preset.openValue : undefined);
    const overload = overloadValue ?? (preset?.dataType === "float32" ? preset.overloadValue : undefined);
    map = {
      ...common,
      dataType: "float32",
      wordOrder: order,
      ...(open === undefined ? {} : { openValue: open }),
      ...(overload === undefined ? {} : { overloadValue: overload }),
    };
  }
  const width = map.dataType === "int16" ? 1 : 2;
  const last = map.registerBase + (inputs[inputs.length - 1]! - 1) * width + width - 1;
  if (last > 0xffff)
    o.fail(
      `input ${inputs[inputs.length - 1]} would sit at register ${last}, beyond 65535; check registerBase and inputs`,
    );
  return {
    link,
    map,
    inputs,
    ...(presetName === undefined ? {} : { preset: presetName }),
    ...(preset?.check === undefined ? {} : { check: preset.check }),
  };
}

function range1(count: number | undefined): number[] | undefined {
  return count === undefined ? undefined : Array.from({ length: count }, (_, i) => i + 1);
}

function int16Preset(value: number | undefined, dataType: string | undefined): number | undefined {
  return dataType === "int16" ? value : undefined;
}

/** An int16 marker value as the raw register (accepts -32768..65535: 0x8000 and -32768 are one value). */
function rawInt16(
  name: "openValue" | "overloadValue",
  value: number | undefined,
  o: TemperatureInputOptionReader,
): { openValue?: number; overloadValue?: number } {
  if (value === undefined) return {};
  if (!Number.isInteger(value) || value < -0x8000 || value > 0xffff)
    o.fail(
      `options.${name} must be a raw register value in -32768..65535 for dataType "int16", got ${value}`,
    );
  return { [name]: value & 0xffff };
}
