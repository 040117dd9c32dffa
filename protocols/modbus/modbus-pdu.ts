// PDUs of "MODBUS Application Protocol Specification" V1.1b3, section 6 (function codes 01-06, 15, 16)
// and section 7 (exception responses). Framing (RTU address + CRC, TCP MBAP header) lives elsewhere.
import { ModbusBadFrameError, ModbusRequestError } from "./modbus-errors.js";

export const FunctionCode = {
  ReadCoils: 0x01,
  ReadDiscreteInputs: 0x02,
  ReadHoldingRegisters: 0x03,
  ReadInputRegisters: 0x04,
  WriteSingleCoil: 0x05,
  WriteSingleRegister: 0x06,
  WriteMultipleCoils: 0x0f,
  WriteMultipleRegisters: 0x10,
} as const;

export interface ReadBitsRequest {
  functionCode: 0x01 | 0x02;
  address: number;
  quantity: number;
}
export interface ReadRegistersRequest {
  functionCode: 0x03 | 0x04;
  address: number;
  quantity: number;
}
export interface WriteSingleCoilRequest {
  functionCode: 0x05;
  address: number;
  value: boolean;
}
export interface WriteSingleRegisterRequest {
  functionCode: 0x06;
  address: number;
  value: number;
}
export interface WriteMultipleCoilsRequest {
  functionCode: 0x0f;
  address: number;
  values: boolean[];
}
export interface WriteMultipleRegistersRequest {
  functionCode: 0x10;
  address: number;
  values: number[];
}
export type ModbusRequest =
  | ReadBitsRequest
  | ReadRegistersRequest
  | WriteSingleCoilRequest
  | WriteSingleRegisterRequest
  | WriteMultipleCoilsRequest
  | WriteMultipleRegistersRequest;

export interface ReadBitsResponse {
  functionCode: 0x01 | 0x02;
  /** byteCount × 8 bits; the first requested bit is the lowest bit of the first byte. */
  bits: boolean[];
}
export interface ReadRegistersResponse {
  functionCode: 0x03 | 0x04;
  values: number[];
}
export interface WriteSingleCoilResponse {
  functionCode: 0x05;
  address: number;
  value: boolean;
}
export interface WriteSingleRegisterResponse {
  functionCode: 0x06;
  address: number;
  value: number;
}
export interface WriteMultipleResponse {
  functionCode: 0x0f | 0x10;
  address: number;
  quantity: number;
}
export interface ExceptionResponse {
  /** The function code of the request (without the 0x80 flag). */
  functionCode: number;
  exceptionCode: number;
}
export type ModbusResponse =
  | ReadBitsResponse
  | ReadRegistersResponse
  | WriteSingleCoilResponse
  | WriteSingleRegisterResponse
  | WriteMultipleResponse
  | ExceptionResponse;

/** Returns true for an exception response. */
export function isException(response: ModbusResponse): response is ExceptionResponse {
  return "exceptionCode" in response;
}

// Quantity limits, spec section 6.
const MAX_READ_BITS = 2000;
const MAX_READ_REGISTERS = 125;
const MAX_WRITE_COILS = 1968;
const MAX_WRITE_REGISTERS = 123;

/** Encodes a request PDU; throws MODBUS_INVALID_REQUEST for values the protocol cannot carry. */
export function encodeRequestPdu(request: ModbusRequest): Buffer {
  checkUint16("address", request.address);
  switch (request.functionCode) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04: {
      const max = request.functionCode <= 0x02 ? MAX_READ_BITS : MAX_READ_REGISTERS;
      checkQuantity(request.quantity, max);
      checkSpan(request.address, request.quantity);
      return pdu(request.functionCode, u16(request.address), u16(request.quantity));
    }
    case 0x05:
      return pdu(0x05, u16(request.address), u16(request.value ? 0xff00 : 0x0000));
    case 0x06:
      checkUint16("value", request.value);
      return pdu(0x06, u16(request.address), u16(request.value));
    case 0x0f: {
      checkQuantity(request.values.length, MAX_WRITE_COILS);
      checkSpan(request.address, request.values.length);
      const packed = packBits(request.values);
      return pdu(0x0f, u16(request.address), u16(request.values.length), [packed.length], packed);
    }
    case 0x10: {
      checkQuantity(request.values.length, MAX_WRITE_REGISTERS);
      checkSpan(request.address, request.values.length);
      request.values.forEach((v, i) => {
        checkUint16(`values[${i}]`, v);
      });
      return pdu(
        0x10,
        u16(request.address),
        u16(request.values.length),
        [request.values.length * 2],
        ...request.values.map(u16),
      );
    }
  }
}

/**
 * Decodes a complete request PDU. Throws ModbusBadFrameError whose `exceptionCode` is the answer
 * a server owes: 1 for an unsupported function code, 3 for a malformed quantity or value.
 */
export function decodeRequestPdu(bytes: Uint8Array): ModbusRequest {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const functionCode = data[0];
  if (functionCode === undefined) throw new ModbusBadFrameError("empty PDU");
  const bad = (reason: string, exceptionCode: 1 | 3 = 3) =>
    new ModbusBadFrameError(reason, { functionCode, exceptionCode });
  const expectLength = (length: number) => {
    if (data.length !== length)
      throw bad(`function ${fc2(functionCode)} request PDU is ${data.length} bytes, expected ${length}`);
  };
  switch (functionCode) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04: {
      expectLength(5);
      const quantity = data.readUInt16BE(3);
      const max = functionCode <= 0x02 ? MAX_READ_BITS : MAX_READ_REGISTERS;
      if (quantity < 1 || quantity > max) throw bad(`quantity ${quantity} outside 1..${max}`);
      return { functionCode, address: data.readUInt16BE(1), quantity };
    }
    case 0x05: {
      expectLength(5);
      const raw = data.readUInt16BE(3);
      if (raw !== 0xff00 && raw !== 0x0000)
        throw bad(`coil value 0x${raw.toString(16)} is neither 0xFF00 nor 0x0000`);
      return { functionCode, address: data.readUInt16BE(1), value: raw === 0xff00 };
    }
    case 0x06:
      expectLength(5);
      return { functionCode, address: data.readUInt16BE(1), value: data.readUInt16BE(3) };
    case 0x0f: {
      if (data.length < 6) throw bad("write multiple coils PDU is too short");
      const quantity = data.readUInt16BE(3);
      const byteCount = data[5]!;
      if (quantity < 1 || quantity > MAX_WRITE_COILS)
        throw bad(`quantity ${quantity} outside 1..${MAX_WRITE_COILS}`);
      if (byteCount !== Math.ceil(quantity / 8))
        throw bad(`byte count ${byteCount} does not fit ${quantity} coils`);
      expectLength(6 + byteCount);
      return { functionCode, address: data.readUInt16BE(1), values: unpackBits(data.subarray(6), quantity) };
    }
    case 0x10: {
      if (data.length < 6) throw bad("write multiple registers PDU is too short");
      const quantity = data.readUInt16BE(3);
      const byteCount = data[5]!;
      if (quantity < 1 || quantity > MAX_WRITE_REGISTERS)
        throw bad(`quantity ${quantity} outside 1..${MAX_WRITE_REGISTERS}`);
      if (byteCount !== quantity * 2) throw bad(`byte count ${byteCount} does not fit ${quantity} registers`);
      expectLength(6 + byteCount);
      const values: number[] = [];
      for (let i = 0; i < quantity; i++) values.push(data.readUInt16BE(6 + 2 * i));
      return { functionCode, address: data.readUInt16BE(1), values };
    }
    default:
      throw bad(`function code ${fc2(functionCode)} is not supported`, 1);
  }
}

/** Encodes a response PDU (what a server or emulator sends). */
export function encodeResponsePdu(response: ModbusResponse): Buffer {
  if (isException(response)) {
    if (response.exceptionCode < 1 || response.exceptionCode > 0xff)
      throw new ModbusRequestError(`exception code ${response.exceptionCode} outside 1..255`);
    return pdu(response.functionCode | 0x80, [response.exceptionCode]);
  }
  switch (response.functionCode) {
    case 0x01:
    case 0x02: {
      const packed = packBits(response.bits);
      return pdu(response.functionCode, [packed.length], packed);
    }
    case 0x03:
    case 0x04:
      if (response.values.length > MAX_READ_REGISTERS)
        throw new ModbusRequestError(`${response.values.length} registers exceed ${MAX_READ_REGISTERS}`);
      response.values.forEach((v, i) => {
        checkUint16(`values[${i}]`, v);
      });
      return pdu(response.functionCode, [response.values.length * 2], ...response.values.map(u16));
    case 0x05:
      return pdu(0x05, u16(response.address), u16(response.value ? 0xff00 : 0));
    case 0x06:
      return pdu(0x06, u16(response.address), u16(response.value));
    case 0x0f:
    case 0x10:
      return pdu(response.functionCode, u16(response.address), u16(response.quantity));
  }
}

/** Decodes a complete response PDU; throws ModbusBadFrameError when it is malformed. */
export function decodeResponsePdu(bytes: Uint8Array): ModbusResponse {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const functionCode = data[0];
  if (functionCode === undefined) throw new ModbusBadFrameError("empty PDU");
  const bad = (reason: string) => new ModbusBadFrameError(reason, { functionCode });
  if (functionCode & 0x80) {
    if (data.length !== 2) throw bad(`exception PDU is ${data.length} bytes, expected 2`);
    return { functionCode: functionCode & 0x7f, exceptionCode: data[1]! };
  }
  switch (functionCode) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04: {
      const byteCount = data[1];
      if (byteCount === undefined || data.length !== 2 + byteCount)
        throw bad(`byte count ${byteCount} does not match PDU length ${data.length}`);
      if (functionCode === 0x01 || functionCode === 0x02)
        return { functionCode, bits: unpackBits(data.subarray(2), byteCount * 8) };
      if (byteCount % 2 !== 0) throw bad(`odd byte count ${byteCount} in a register reply`);
      const values: number[] = [];
      for (let i = 0; i < byteCount / 2; i++) values.push(data.readUInt16BE(2 + 2 * i));
      return { functionCode, values };
    }
    case 0x05:
    case 0x06:
    case 0x0f:
    case 0x10: {
      if (data.length !== 5)
        throw bad(`function ${fc2(functionCode)} reply PDU is ${data.length} bytes, expected 5`);
      const address = data.readUInt16BE(1);
      const word = data.readUInt16BE(3);
      if (functionCode === 0x05) return { functionCode, address, value: word === 0xff00 };
      if (functionCode === 0x06) return { functionCode, address, value: word };
      return { functionCode, address, quantity: word };
    }
    default:
      throw bad(`function code ${fc2(functionCode)} is not supported`);
  }
}

/**
 * Returns why `response` cannot be the answer to `request` (wrong function, byte count, or echo),
 * or undefined when it fits. Exception responses fit when their function code matches.
 */
export function responseMismatch(request: ModbusRequest, response: ModbusResponse): string | undefined {
  if (response.functionCode !== request.functionCode)
    return `function ${fc2(response.functionCode)} answers a function ${fc2(request.functionCode)} request`;
  if (isException(response)) return undefined;
  switch (request.functionCode) {
    case 0x01:
    case 0x02: {
      const bits = (response as ReadBitsResponse).bits.length;
      return bits === Math.ceil(request.quantity / 8) * 8
        ? undefined
        : `${bits / 8} data bytes for ${request.quantity} bits`;
    }
    case 0x03:
    case 0x04: {
      const count = (response as ReadRegistersResponse).values.length;
      return count === request.quantity
        ? undefined
        : `${count} registers for a request of ${request.quantity}`;
    }
    case 0x05:
    case 0x06: {
      const echo = response as WriteSingleCoilResponse | WriteSingleRegisterResponse;
      return echo.address === request.address && echo.value === request.value
        ? undefined
        : `echo address ${echo.address} value ${String(echo.value)} differs from the request`;
    }
    case 0x0f:
    case 0x10: {
      const echo = response as WriteMultipleResponse;
      return echo.address === request.address && echo.quantity === request.values.length
        ? undefined
        : `echo address ${echo.address} quantity ${echo.quantity} differs from the request`;
    }
  }
}

/** Describes a request the way timeouts and errors name it: `[unit=1 fc=03 addr=100 n=1]`. */
export function describeRequest(unit: number, request: ModbusRequest): string {
  const head = `unit=${unit} fc=${fc2(request.functionCode)} addr=${request.address}`;
  switch (request.functionCode) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
      return `[${head} n=${request.quantity}]`;
    case 0x05:
      return `[${head} value=${request.value ? "on" : "off"}]`;
    case 0x06:
      return `[${head} value=${request.value}]`;
    case 0x0f:
    case 0x10:
      return `[${head} n=${request.values.length}]`;
  }
}

function pdu(functionCode: number, ...parts: ArrayLike<number>[]): Buffer {
  const length = 1 + parts.reduce((sum, part) => sum + part.length, 0);
  const out = Buffer.alloc(length);
  out[0] = functionCode;
  let offset = 1;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u16(value: number): number[] {
  return [(value >>> 8) & 0xff, value & 0xff];
}

function packBits(bits: readonly boolean[]): number[] {
  const bytes = new Array<number>(Math.ceil(bits.length / 8)).fill(0);
  bits.forEach((bit, i) => {
    if (bit) bytes[i >> 3]! |= 1 << (i & 7);
  });
  return bytes;
}

function unpackBits(bytes: Uint8Array, count: number): boolean[] {
  const bits: boolean[] = [];
  for (let i = 0; i < count; i++) bits.push((((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) === 1);
  return bits;
}

function checkUint16(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new ModbusRequestError(
      `${name} ${value} is not an integer in 0..65535 (use the int16/float32 helpers to convert)`,
    );
}

function checkQuantity(quantity: number, max: number): void {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > max)
    throw new ModbusRequestError(`quantity ${quantity} outside 1..${max}`);
}

function checkSpan(address: number, quantity: number): void {
  if (address + quantity > 0x10000)
    throw new ModbusRequestError(`address ${address} + quantity ${quantity} runs past 65535`);
}

/** Formats a function code as two decimal digits, as the spec names them ("03", "16"). */
export function fc2(n: number): string {
  return String(n).padStart(2, "0");
}
