/**
 * Register maps of the emulated temperature input modules, written from each module's documentation
 * (not from the driver's presets, so that a driver asking the wrong register or function code meets the
 * refusal a real module would give):
 *
 * [R4DCB08]: Eletechsup "R4DCB08 modbus rtu protocol" (github.com/acpiccolo/R4DCB08-Temperature-Collector
 * at 66b4b9b, "docs/R4DCB08 modbus rtu protocol.docx"): FC03 reads, FC06 writes; 0x0000..0x0007 CH1..CH8
 * in 0.1 °C, signed, 0x8000 = "no sensor or error"; 0x0008..0x000F corrections (0.1 °C, added to the
 * reading); 0x00FD automatic report (s, 0 = query mode); 0x00FE station address; 0x00FF baud code (3 = 9600).
 * [DAM-PT100]: Juying, "PT100 series acquisition instructions" (new.juyingele.com/en/service/2180.html):
 * FC04; 3x0001..3x0016 (addresses 0..15) in 0.01 °C; floats from 3x0051 (address 0x32, the sheet's query
 * FE 04 00 32 00 02), high word first (41 CB 70 A4 = 25.43 °C); range -200..650 °C.
 *
 * Not documented, chosen here (and marked so): a function code a sheet does not list answers exception 1
 * (ILLEGAL FUNCTION), an address it does not list exception 2 (ILLEGAL DATA ADDRESS), both as the
 * "MODBUS Application Protocol" V1.1b3, section 7, prescribes; the DAM-PT100 sheet names no open-sensor
 * value, so an open or overloaded PT100 reads DAM_PT100_BEYOND_RANGE_C here.
 */
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { fromFloat32 } from "../../protocols/modbus/modbus-values.js";
import { readRegisterBlock } from "./modbus-unit-wiring.js";

/** The module's inputs as the emulator simulates them (input numbers from 1). */
export interface EmulatedInputs {
  temperatureC(input: number): number;
  open(input: number): boolean;
  overload(input: number): boolean;
}

export interface EmulatedModuleMap {
  readonly inputCount: number;
  /** Answers one request addressed to the module. */
  handle(request: ModbusRequest, inputs: EmulatedInputs): ModbusResponse;
}

const ILLEGAL_FUNCTION = 1;
const ILLEGAL_DATA_ADDRESS = 2;

/** [R4DCB08] one module: its writable registers live here. */
export class R4dcb08Map implements EmulatedModuleMap {
  readonly inputCount = 8;
  /** 0x0008..0x000F, raw (0.1 °C, signed). */
  readonly corrections = new Array<number>(8).fill(0);

  constructor(
    /** 0x00FD: automatic report period, s (0 = query mode). */
    public autoReportS: number,
    /** 0x00FE. */
    public address: number,
    /** 0x00FF: 0 1200, 1 2400, 2 4800, 3 9600, 4 19200. */
    public baudCode = 3,
  ) {}

  handle(request: ModbusRequest, inputs: EmulatedInputs): ModbusResponse {
    const fc = request.functionCode;
    if (fc === 0x03) return readRegisterBlock(request, (a) => this.read(a, inputs));
    if (fc === 0x06) {
      if (!this.write(request.address, request.value))
        return { functionCode: fc, exceptionCode: ILLEGAL_DATA_ADDRESS };
      return { functionCode: fc, address: request.address, value: request.value };
    }
    return { functionCode: fc, exceptionCode: ILLEGAL_FUNCTION };
  }

  private read(address: number, inputs: EmulatedInputs): number | undefined {
    if (address <= 0x0007) {
      const input = address + 1;
      if (inputs.open(input) || inputs.overload(input)) return 0x8000;
      const tenths = Math.round(inputs.temperatureC(input) * 10) + toSigned(this.corrections[address]!);
      // 0x8000 itself means "no sensor or error": a real reading stops one count short of it.
      return Math.max(-32767, Math.min(32767, tenths)) & 0xffff;
    }
    if (address <= 0x000f) return this.corrections[address - 0x0008];
    if (address === 0x00fd) return this.autoReportS;
    if (address === 0x00fe) return this.address;
    if (address === 0x00ff) return this.baudCode;
    return undefined;
  }

  private write(address: number, value: number): boolean {
    if (address >= 0x0008 && address <= 0x000f) this.corrections[address - 0x0008] = value;
    else if (address === 0x00fd) this.autoReportS = value;
    else if (address === 0x00fe) this.address = value;
    else if (address === 0x00ff) this.baudCode = value;
    else return false;
    return true;
  }
}

/** What an open or overloaded PT100 reads on the emulated DAM-PT100 (not documented: beyond 650 °C). */
export const DAM_PT100_BEYOND_RANGE_C = 999.9;

/** [DAM-PT100] one module. */
export class DamPt100Map implements EmulatedModuleMap {
  readonly inputCount = 16;

  handle(request: ModbusRequest, inputs: EmulatedInputs): ModbusResponse {
    if (request.functionCode !== 0x04)
      return { functionCode: request.functionCode, exceptionCode: ILLEGAL_FUNCTION };
    return readRegisterBlock(request, (a) => this.read(a, inputs));
  }

  private celsius(input: number, inputs: EmulatedInputs): number {
    return inputs.open(input) || inputs.overload(input)
      ? DAM_PT100_BEYOND_RANGE_C
      : inputs.temperatureC(input);
  }

  private read(address: number, inputs: EmulatedInputs): number | undefined {
    if (address <= 15) {
      // [DAM-PT100]: "16-bit signed (-200 ~ 327 °C) or unsigned (0 - 650 °C)", in 0.01 °C.
      const hundredths = Math.round(this.celsius(address + 1, inputs) * 100);
      return Math.max(-32768, Math.min(65535, hundredths)) & 0xffff;
    }
    if (address >= 0x32 && address < 0x32 + 32) {
      const offset = address - 0x32;
      const words = fromFloat32(this.celsius(Math.floor(offset / 2) + 1, inputs), "high-first");
      return words[offset % 2];
    }
    return undefined;
  }
}

function toSigned(word: number): number {
  return (word << 16) >> 16;
}
