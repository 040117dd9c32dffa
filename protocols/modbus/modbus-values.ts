// Conversions between 16-bit Modbus registers and the values devices put in them.
import { ModbusRequestError } from "./modbus-errors.js";

/**
 * Order of the two registers of a 32-bit value. Within each register the bytes are always big-endian.
 * - "high-first": high word at the lower address (ABCD), the Modbus convention.
 * - "low-first": low word at the lower address (CDAB, "swapped words"; Watlow F4T, Binder MB1).
 */
export type WordOrder = "high-first" | "low-first";

/** Reads a register as a signed 16-bit value (0xFFFF → -1). */
export function toInt16(register: number): number {
  return (register << 16) >> 16;
}

/** Encodes a signed 16-bit value as a register (-1 → 0xFFFF); throws outside -32768..32767. */
export function fromInt16(value: number): number {
  if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff)
    throw new ModbusRequestError(`${value} does not fit a signed 16-bit register (-32768..32767)`);
  return value & 0xffff;
}

/** Reads two registers as a 32-bit IEEE float. */
export function toFloat32(registers: readonly number[], order: WordOrder): number {
  return wordsToBuffer(registers, order).readFloatBE(0);
}

/** Encodes a value as two registers of a 32-bit IEEE float (rounded to single precision). */
export function fromFloat32(value: number, order: WordOrder): [number, number] {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatBE(value, 0);
  return bufferToWords(bytes, order);
}

/** Reads two registers as a signed 32-bit integer. */
export function toInt32(registers: readonly number[], order: WordOrder): number {
  return wordsToBuffer(registers, order).readInt32BE(0);
}

/** Reads two registers as an unsigned 32-bit integer. */
export function toUint32(registers: readonly number[], order: WordOrder): number {
  return wordsToBuffer(registers, order).readUInt32BE(0);
}

/** Encodes a signed (-2^31..2^31-1) or unsigned (..2^32-1) 32-bit integer as two registers. */
export function fromInt32(value: number, order: WordOrder): [number, number] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff)
    throw new ModbusRequestError(`${value} does not fit 32 bits`);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0, 0);
  return bufferToWords(bytes, order);
}

function wordsToBuffer(registers: readonly number[], order: WordOrder): Buffer {
  if (registers.length < 2)
    throw new ModbusRequestError(`a 32-bit value needs 2 registers, got ${registers.length}`);
  const [first, second] = registers as [number, number];
  const [high, low] = order === "high-first" ? [first, second] : [second, first];
  const bytes = Buffer.alloc(4);
  bytes.writeUInt16BE(high & 0xffff, 0);
  bytes.writeUInt16BE(low & 0xffff, 2);
  return bytes;
}

function bufferToWords(bytes: Buffer, order: WordOrder): [number, number] {
  const high = bytes.readUInt16BE(0);
  const low = bytes.readUInt16BE(2);
  return order === "high-first" ? [high, low] : [low, high];
}
