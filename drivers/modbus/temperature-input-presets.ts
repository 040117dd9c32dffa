/**
 * Register maps of temperature input modules whose maps are published, for `options.preset`.
 *
 * [R4DCB08]: Eletechsup "R4DCB08 modbus rtu protocol" (the vendor's protocol sheet for the 8-channel
 * DS18B20 module R4DCB08), as kept in github.com/acpiccolo/R4DCB08-Temperature-Collector at 66b4b9b,
 * "docs/R4DCB08 modbus rtu protocol.docx": register table and the worked examples after it.
 * [DAM-PT100]: Juying Electronics, "PT100 series acquisition instructions" (DAM-PT100 16-channel PT100
 * module), new.juyingele.com/en/service/2180.html (Chinese original: service/2179.html).
 */
import type { WordOrder } from "../../protocols/modbus/modbus-values.js";

/** How a module lays out its input values. Addresses are protocol addresses (0-based). */
export interface TemperatureInputMap {
  /** 3 (read holding registers) or 4 (read input registers). */
  functionCode: 3 | 4;
  /** Address of input 1; input n sits at registerBase + (n − 1) × (registers per value). */
  registerBase: number;
  dataType: "int16" | "float32";
  /** int16: °C per count (0.1 for tenths of a degree). */
  scale?: number;
  /** float32: which register holds the high half. */
  wordOrder?: WordOrder;
  /** Raw register value (int16, 0..65535) or float the module reports for an open sensor. */
  openValue?: number;
  /** Raw register value (int16) or float the module reports for an input above its range. */
  overloadValue?: number;
  /** Measuring range, °C; a value outside it is reported as out-of-range. */
  rangeC?: [number, number];
}

/** A register every module of a preset must hold at connect (its identity or a required setting). */
export interface PresetCheck {
  functionCode: 3 | 4;
  address: number;
  expected: number;
  /** What a different value means, with the value. */
  problem(value: number): string;
  /** What to change on the module. */
  fix: string;
}

export interface TemperatureInputPreset extends TemperatureInputMap {
  description: string;
  /** Inputs the module has (input numbers 1..inputCount). */
  inputCount: number;
  /** Checked at connect and after every reconnect, before the first scan. */
  check?: PresetCheck;
}

export type TemperatureInputPresetName = "eletechsup-r4dcb08" | "juying-dam-pt100";

export const TEMPERATURE_INPUT_PRESETS: Readonly<Record<TemperatureInputPresetName, TemperatureInputPreset>> =
  {
    "eletechsup-r4dcb08": {
      description: "Eletechsup R4DCB08, 8 × DS18B20, Modbus RTU 9600 8N1",
      inputCount: 8,
      // [R4DCB08, register table]: "Read-only register, Read Function code is 03"; 0x0000..0x0007 CH1..CH8
      // temperature, 0.1 °C, signed ("the highest bit 1 indicates a negative value ... subtracting 65536").
      functionCode: 3,
      registerBase: 0x0000,
      dataType: "int16",
      scale: 0.1,
      // [R4DCB08, register table]: "When the data is 0X8000(32768), it indicates no sensor or error".
      openValue: 0x8000,
      // DS18B20 range as the collector's README gives it ("Technical Specifications"); not in the sheet.
      rangeC: [-55, 125],
      check: {
        // [R4DCB08, register table]: 0x00FD automatic temperature report, 0 = query mode (default),
        // 1..255 = the module sends readings unasked every N s, which would collide on a shared line.
        functionCode: 3,
        address: 0x00fd,
        expected: 0,
        problem: (v) => `automatic temperature reporting is on (register 0x00FD = ${v} s)`,
        fix: "write 0 to register 0x00FD (query mode): a module that sends unasked collides with every other device on the RS-485 line",
      },
    },
    "juying-dam-pt100": {
      description: "Juying DAM-PT100, 16 × PT100 (-200..650 °C), floats over Modbus FC04",
      inputCount: 16,
      // [DAM-PT100]: "3x0051 ~ 3x0081 ... floating point": the query FE 04 00 32 00 02 is answered
      // 41 CB 70 A4 = 25.43 °C, i.e. FC04 from address 0x0032, high word first.
      functionCode: 4,
      registerBase: 0x0032,
      dataType: "float32",
      wordOrder: "high-first",
      // [DAM-PT100]: "measuring range of -200 °C to 650 °C". The sheet names no open-sensor value.
      rangeC: [-200, 650],
    },
  };

export const PRESET_NAMES = Object.keys(TEMPERATURE_INPUT_PRESETS) as TemperatureInputPresetName[];
