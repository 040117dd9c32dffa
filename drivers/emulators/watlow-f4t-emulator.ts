/**
 * Emulated Watlow F4T controller: Modbus TCP (or RTU on a pty), 32-bit IEEE floats in two registers,
 * low word first. Per loop N (offset 160·(N−1)): process value 2820, constant set point 2782 (read /
 * write), current set point 2810 (read only), set point range low / high 2774 / 2776; part number
 * as ASCII, one character per register, at 16..30. Written from Espec North America's library, which
 * drives real F4Ts (github.com/EspecNorthAmerica/ChamberConnectLibrary at 1d2deb8,
 * chamberconnectlibrary/watlowf4t.py: 2782 / 2810 read as "constant" / "current" set point :234-235,
 * 2782 written :241, 2820 :245, 2774 / 2776 range :252-259, loop stride 160 throughout, part number
 * read_holding_string(16, 15) :863) and shared/reference/instruments.md (2820, 2782, 2810), not from
 * the driver. The part number and range registers are not in the guide's table at hand: unconfirmed.
 * Each loop has its own chamber air. Registers outside the map answer exception 2; a float written
 * in halves or out of range, exception 3.
 *
 * Two settings of the real controller change what a client sees, and the emulator models both:
 * - "Display Units" (register 1328, F (30) / C (15), read / write with FC06) [Watlow F4T Setup and
 *   Operations User's Guide, ch. 6 Appendix, Modbus parameter table, p. 225]: every temperature on
 *   Modbus (process value, set points, set point limits) is in the display units. The real controller
 *   ships in °F; the emulator defaults to °C, the setting cellbench needs, and runs in °F on request.
 * - Word order of 32-bit values [same guide, ch. 6 Appendix, "Introduction to the Modbus Protocol",
 *   p. 221: by default the low-order register holds the low word; configurable]: "low-first" (default)
 *   or "high-first".
 *
 * Options (all optional):
 *   unit: 1                 unit id
 *   loops: 1                number of control loops (1..4)
 *   partNumber: "F4T1R1AAAA1A1AA"   (15 characters)
 *   initialC, ambientC, rangeC     the air of every loop (as sim/chamber); rangeC is also 2774 / 2776
 *   displayUnits: "C" | "F" default "C" (register 1328 = 15 / 30); rangeC stays in °C
 *   wordOrder: "low-first" | "high-first"   default "low-first"
 *   framing: "tcp" | "rtu"  default: tcp on tcp:// listen addresses
 *   faults: ModbusFaults    see modbus-line.ts
 */
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { fromFloat32, toFloat32, type WordOrder } from "../../protocols/modbus/modbus-values.js";
import { SystemClock } from "../clock.js";
import { EmulatedChamber } from "./emulated-chamber.js";
import { FaultDeck } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import {
  type EmulatedModbusLine,
  type EmulatedModbusUnit,
  MODBUS_FAULT_KNOBS,
  type ModbusFaults,
} from "./modbus-line.js";
import { attachModbusUnits, readRegisterBlock } from "./modbus-unit-wiring.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const WATLOW_F4T_EMULATOR = "watlow/f4t";

export const F4T_REGISTERS = {
  partNumber: 16,
  partNumberLength: 15,
  rangeLow: 2774,
  rangeHigh: 2776,
  constantSetpoint: 2782,
  currentSetpoint: 2810,
  processValue: 2820,
  loopStride: 160,
  /** Display Units: F (30) / C (15) [F4T UG, ch. 6 Appendix, p. 225]. */
  displayUnits: 1328,
} as const;

/** Enumeration values of Display Units [F4T UG, ch. 6 Appendix, p. 225]. */
export const F4T_DISPLAY_UNITS = { F: 30, C: 15 } as const;
export type F4tDisplayUnits = keyof typeof F4T_DISPLAY_UNITS;

const toDisplay = (celsius: number, units: F4tDisplayUnits): number =>
  units === "F" ? (celsius * 9) / 5 + 32 : celsius;
const fromDisplay = (value: number, units: F4tDisplayUnits): number =>
  units === "F" ? ((value - 32) * 5) / 9 : value;

type LoopField = "rangeLow" | "rangeHigh" | "constantSetpoint" | "currentSetpoint" | "processValue";
const LOOP_FIELDS: readonly LoopField[] = [
  "rangeLow",
  "rangeHigh",
  "constantSetpoint",
  "currentSetpoint",
  "processValue",
];

export class WatlowF4tDevice implements EmulatedModbusUnit {
  readonly faults: FaultDeck<ModbusFaults>;
  readonly turnaroundMs = 0;
  readonly minRequestGapMs = 0;
  /** Every float written: loop, register and value (in °C, whatever the display units). */
  readonly writes: Array<{ loop: number; address: number; value: number }> = [];
  /** Display Units (register 1328); the operator may change it at any time. */
  displayUnits: F4tDisplayUnits = "C";
  /** Order of the two registers of every float. */
  wordOrder: WordOrder = "low-first";

  constructor(
    readonly unit: number,
    readonly loops: readonly EmulatedChamber[],
    readonly partNumber: string,
    readonly rangeC: [number, number],
    faults: unknown,
  ) {
    this.faults = new FaultDeck<ModbusFaults>(`watlow/f4t unit ${unit}`, MODBUS_FAULT_KNOBS, faults);
  }

  handle(request: ModbusRequest): ModbusResponse {
    const fc = request.functionCode;
    if (fc === 0x03) return readRegisterBlock(request, (address) => this.read(address));
    if (fc === 0x10) {
      const target = this.locate(request.address);
      if (target === undefined || target.field !== "constantSetpoint" || target.word !== 0)
        return { functionCode: fc, exceptionCode: 2 };
      if (request.values.length !== 2) return { functionCode: fc, exceptionCode: 3 };
      const value = fromDisplay(toFloat32(request.values, this.wordOrder), this.displayUnits);
      if (!Number.isFinite(value) || value < this.rangeC[0] || value > this.rangeC[1])
        return { functionCode: fc, exceptionCode: 3 };
      this.loops[target.loop - 1]!.setSetpoint(value);
      this.writes.push({ loop: target.loop, address: request.address, value });
      return { functionCode: 0x10, address: request.address, quantity: 2 };
    }
    if (fc === 0x06 && request.address === F4T_REGISTERS.displayUnits) {
      const units = (Object.keys(F4T_DISPLAY_UNITS) as F4tDisplayUnits[]).find(
        (u) => F4T_DISPLAY_UNITS[u] === request.value,
      );
      if (units === undefined) return { functionCode: fc, exceptionCode: 3 };
      this.displayUnits = units;
      return { functionCode: fc, address: request.address, value: request.value };
    }
    if (fc === 0x06) return { functionCode: fc, exceptionCode: this.locate(request.address) ? 3 : 2 };
    return { functionCode: fc, exceptionCode: 1 };
  }

  private read(address: number): number | undefined {
    const p = F4T_REGISTERS;
    if (address >= p.partNumber && address < p.partNumber + p.partNumberLength)
      return this.partNumber.charCodeAt(address - p.partNumber) || 0;
    if (address === p.displayUnits) return F4T_DISPLAY_UNITS[this.displayUnits];
    const target = this.locate(address);
    if (target === undefined) return undefined;
    const state = this.loops[target.loop - 1]!.state();
    const value =
      target.field === "processValue"
        ? state.airC
        : target.field === "rangeLow"
          ? this.rangeC[0]
          : target.field === "rangeHigh"
            ? this.rangeC[1]
            : state.setpointC;
    return fromFloat32(toDisplay(value, this.displayUnits), this.wordOrder)[target.word];
  }

  private locate(address: number): { loop: number; field: LoopField; word: 0 | 1 } | undefined {
    for (let loop = 1; loop <= this.loops.length; loop++) {
      const offset = F4T_REGISTERS.loopStride * (loop - 1);
      for (const field of LOOP_FIELDS) {
        const base = F4T_REGISTERS[field] + offset;
        if (address === base || address === base + 1) return { loop, field, word: address === base ? 0 : 1 };
      }
    }
    return undefined;
  }
}

export interface WatlowF4tEmulator extends RunningEmulator {
  readonly line: EmulatedModbusLine;
  readonly device: WatlowF4tDevice;
}

/** Starts an emulated F4T. */
export async function startWatlowF4tEmulator(start: EmulatorStartOptions): Promise<WatlowF4tEmulator> {
  const reader = new OptionReader(WATLOW_F4T_EMULATOR, start.options);
  const unit = reader.integer("unit", 1, 0, 255);
  const loopCount = reader.integer("loops", 1, 1, 4);
  const partNumber = reader.raw("partNumber") ?? "F4T1R1AAAA1A1AA";
  if (typeof partNumber !== "string" || partNumber.length > F4T_REGISTERS.partNumberLength)
    reader.fail(`partNumber must be a text of at most ${F4T_REGISTERS.partNumberLength} characters`);
  const air = EmulatedChamber.readOptions(reader);
  const displayUnits = reader.choice<F4tDisplayUnits>("displayUnits", "C", ["C", "F"]);
  const wordOrder = reader.choice<WordOrder>("wordOrder", "low-first", ["low-first", "high-first"]);
  const framing = reader.raw("framing");
  if (framing !== undefined && framing !== "tcp" && framing !== "rtu")
    reader.fail('framing must be "tcp" or "rtu"');
  const faults = reader.raw("faults");
  reader.done();
  const clock = start.clock ?? new SystemClock();
  const loops = Array.from({ length: loopCount }, () => new EmulatedChamber(clock, air));
  const device = new WatlowF4tDevice(unit, loops, partNumber as string, air.rangeC, faults);
  device.displayUnits = displayUnits;
  device.wordOrder = wordOrder;
  const attached = await attachModbusUnits(start.listen, { framing: framing as "tcp" | "rtu" | undefined }, [
    [unit, device],
  ]);
  return {
    name: WATLOW_F4T_EMULATOR,
    listen: attached.line.url,
    line: attached.line,
    device,
    stop: attached.stop,
  };
}
