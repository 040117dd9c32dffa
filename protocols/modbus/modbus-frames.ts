// Framing of "MODBUS over serial line" V1.02 (RTU: address, PDU, CRC low byte first) and
// "MODBUS Messaging on TCP/IP Implementation Guide" V1.0b (MBAP header: transaction id, protocol 0,
// length, unit id). Decoders are pure: they return null while a frame is incomplete.
import { crc16 } from "./crc16.js";
import { ModbusBadFrameError, ModbusCrcError, ModbusRequestError } from "./modbus-errors.js";
import {
  decodeRequestPdu,
  decodeResponsePdu,
  encodeRequestPdu,
  encodeResponsePdu,
  fc2,
  type ModbusRequest,
  type ModbusResponse,
} from "./modbus-pdu.js";

export interface RtuFrame<T> {
  unit: number;
  pdu: T;
}

export interface TcpFrame<T> {
  transactionId: number;
  unit: number;
  pdu: T;
}

/**
 * Outcome of decoding the start of a byte buffer: a frame, or an error for a frame that is
 * complete but unusable. Either way `length` bytes are consumed; keep the rest for the next call.
 */
export type DecodeResult<T> =
  | { ok: true; frame: T; length: number }
  | { ok: false; error: ModbusCrcError | ModbusBadFrameError; length: number };

/** Wraps a PDU into an RTU frame: unit id, PDU, CRC (low byte first). */
export function encodeRtuFrame(unit: number, pdu: Uint8Array): Buffer {
  checkUnit(unit);
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unit;
  frame.set(pdu, 1);
  frame.writeUInt16LE(crc16(frame.subarray(0, frame.length - 2)), frame.length - 2);
  return frame;
}

export function encodeRtuRequest(unit: number, request: ModbusRequest): Buffer {
  return encodeRtuFrame(unit, encodeRequestPdu(request));
}

export function encodeRtuResponse(unit: number, response: ModbusResponse): Buffer {
  return encodeRtuFrame(unit, encodeResponsePdu(response));
}

/**
 * Decodes the RTU request at the start of `bytes` (the server side). An unsupported function code
 * cannot be delimited, so everything buffered is consumed (a silence-timed receiver would do the same).
 */
export function decodeRtuRequest(bytes: Uint8Array): DecodeResult<RtuFrame<ModbusRequest>> | null {
  return decodeRtu(bytes, requestFrameLength(bytes), decodeRequestPdu);
}

/** Decodes the RTU response at the start of `bytes` (the client side). */
export function decodeRtuResponse(bytes: Uint8Array): DecodeResult<RtuFrame<ModbusResponse>> | null {
  return decodeRtu(bytes, responseFrameLength(bytes), decodeResponsePdu);
}

/** Length of the RTU request frame starting at `bytes[0]`: null until known, undefined for an unknown function. */
export function requestFrameLength(bytes: Uint8Array): number | null | undefined {
  const functionCode = bytes[1];
  if (functionCode === undefined) return null;
  if (functionCode >= 0x01 && functionCode <= 0x06) return 8;
  if (functionCode === 0x0f || functionCode === 0x10) {
    const byteCount = bytes[6];
    return byteCount === undefined ? null : 9 + byteCount;
  }
  return undefined;
}

/** Length of the RTU response frame starting at `bytes[0]`: null until known, undefined for an unknown function. */
export function responseFrameLength(bytes: Uint8Array): number | null | undefined {
  const functionCode = bytes[1];
  if (functionCode === undefined) return null;
  if (functionCode & 0x80) return 5;
  if (functionCode >= 0x01 && functionCode <= 0x04) {
    const byteCount = bytes[2];
    return byteCount === undefined ? null : 5 + byteCount;
  }
  if (functionCode === 0x05 || functionCode === 0x06 || functionCode === 0x0f || functionCode === 0x10)
    return 8;
  return undefined;
}

function decodeRtu<T>(
  bytes: Uint8Array,
  length: number | null | undefined,
  decodePdu: (pdu: Uint8Array) => T,
): DecodeResult<RtuFrame<T>> | null {
  const unit = bytes[0]!;
  const functionCode = bytes[1];
  if (length === null) return null;
  if (length === undefined)
    return {
      ok: false,
      error: new ModbusBadFrameError(`function code ${fc2(functionCode!)} is not supported`, {
        unit,
        functionCode,
        exceptionCode: 1,
      }),
      length: bytes.length,
    };
  if (bytes.length < length) return null;
  const frame = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  const received = frame.readUInt16LE(length - 2);
  const computed = crc16(frame.subarray(0, length - 2));
  if (received !== computed) return { ok: false, error: new ModbusCrcError(received, computed), length };
  try {
    return { ok: true, frame: { unit, pdu: decodePdu(frame.subarray(1, length - 2)) }, length };
  } catch (err) {
    if (!(err instanceof ModbusBadFrameError)) throw err;
    return { ok: false, error: withUnit(err, unit), length };
  }
}

const MBAP_LENGTH = 7;

/** Wraps a PDU into a Modbus TCP ADU: MBAP header (transaction id, protocol 0, length, unit id) and PDU. */
export function encodeTcpFrame(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  if (!Number.isInteger(transactionId) || transactionId < 0 || transactionId > 0xffff)
    throw new ModbusRequestError(`transaction id ${transactionId} outside 0..65535`);
  if (!Number.isInteger(unit) || unit < 0 || unit > 0xff)
    throw new ModbusRequestError(`unit id ${unit} outside 0..255`);
  const frame = Buffer.alloc(MBAP_LENGTH + pdu.length);
  frame.writeUInt16BE(transactionId, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unit;
  frame.set(pdu, MBAP_LENGTH);
  return frame;
}

export function encodeTcpRequest(transactionId: number, unit: number, request: ModbusRequest): Buffer {
  return encodeTcpFrame(transactionId, unit, encodeRequestPdu(request));
}

export function encodeTcpResponse(transactionId: number, unit: number, response: ModbusResponse): Buffer {
  return encodeTcpFrame(transactionId, unit, encodeResponsePdu(response));
}

/**
 * Decodes the Modbus TCP request at the start of `bytes`. A header that cannot be valid (protocol id
 * not 0, impossible length) consumes everything buffered: the stream is out of step and the
 * connection should be dropped.
 */
export function decodeTcpRequest(bytes: Uint8Array): DecodeResult<TcpFrame<ModbusRequest>> | null {
  return decodeTcp(bytes, decodeRequestPdu);
}

/** Decodes the Modbus TCP response at the start of `bytes`. */
export function decodeTcpResponse(bytes: Uint8Array): DecodeResult<TcpFrame<ModbusResponse>> | null {
  return decodeTcp(bytes, decodeResponsePdu);
}

function decodeTcp<T>(
  bytes: Uint8Array,
  decodePdu: (pdu: Uint8Array) => T,
): DecodeResult<TcpFrame<T>> | null {
  if (bytes.length < MBAP_LENGTH) return null;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const transactionId = data.readUInt16BE(0);
  const protocolId = data.readUInt16BE(2);
  const length = data.readUInt16BE(4);
  const unit = data[6]!;
  if (protocolId !== 0 || length < 2 || length > 254)
    return {
      ok: false,
      error: new ModbusBadFrameError(
        protocolId !== 0
          ? `MBAP protocol id ${protocolId}, expected 0`
          : `MBAP length ${length} outside 2..254`,
        { unit },
      ),
      length: bytes.length,
    };
  const total = 6 + length;
  if (data.length < total) return null;
  try {
    return {
      ok: true,
      frame: { transactionId, unit, pdu: decodePdu(data.subarray(MBAP_LENGTH, total)) },
      length: total,
    };
  } catch (err) {
    if (!(err instanceof ModbusBadFrameError)) throw err;
    return { ok: false, error: withUnit(err, unit), length: total };
  }
}

function withUnit(error: ModbusBadFrameError, unit: number): ModbusBadFrameError {
  return new ModbusBadFrameError(error.reason, { ...error.details, unit });
}

function checkUnit(unit: number): void {
  if (!Number.isInteger(unit) || unit < 0 || unit > 247)
    throw new ModbusRequestError(`unit id ${unit} outside 0..247 (0 is broadcast on RS-485)`);
}
