// Public API of the protocols layer (bytes and wire formats). Drivers import from here.
export { CellbenchError, hasErrorCode } from "./cellbench-error.js";
export { crc16 } from "./modbus/crc16.js";
export {
  ModbusBus,
  type ModbusBusOptions,
  type ModbusBusStats,
  ModbusDevice,
  type ModbusDeviceOptions,
  type ModbusFraming,
  rtuSilenceMs,
} from "./modbus/modbus-bus.js";
export { ModbusBusPool, type ModbusLineLease, sharedModbusBuses } from "./modbus/modbus-bus-pool.js";
export {
  EXCEPTION_NAMES,
  exceptionName,
  ModbusBadFrameError,
  ModbusCrcError,
  ModbusExceptionError,
  ModbusRequestError,
  ModbusTimeoutError,
} from "./modbus/modbus-errors.js";
export {
  type DecodeResult,
  decodeRtuRequest,
  decodeRtuResponse,
  decodeTcpRequest,
  decodeTcpResponse,
  encodeRtuFrame,
  encodeRtuRequest,
  encodeRtuResponse,
  encodeTcpFrame,
  encodeTcpRequest,
  encodeTcpResponse,
  type RtuFrame,
  requestFrameLength,
  responseFrameLength,
  type TcpFrame,
} from "./modbus/modbus-frames.js";
export {
  decodeRequestPdu,
  decodeResponsePdu,
  describeRequest,
  type ExceptionResponse,
  encodeRequestPdu,
  encodeResponsePdu,
  FunctionCode,
  isException,
  type ModbusRequest,
  type ModbusResponse,
  type ReadBitsRequest,
  type ReadBitsResponse,
  type ReadRegistersRequest,
  type ReadRegistersResponse,
  responseMismatch,
  type WriteMultipleCoilsRequest,
  type WriteMultipleRegistersRequest,
  type WriteMultipleResponse,
  type WriteSingleCoilRequest,
  type WriteSingleCoilResponse,
  type WriteSingleRegisterRequest,
  type WriteSingleRegisterResponse,
} from "./modbus/modbus-pdu.js";
export {
  fromFloat32,
  fromInt16,
  fromInt32,
  toFloat32,
  toInt16,
  toInt32,
  toUint32,
  type WordOrder,
} from "./modbus/modbus-values.js";
export {
  checkIdentity,
  IdentityMismatchError,
  type IdentityPattern,
  type InstrumentIdentity,
  parseIdn,
} from "./scpi/identity.js";
export { canonicalLineText, sameLineText } from "./scpi/line-text.js";
export { type QueryOptions, ScpiClient, type ScpiClientOptions } from "./scpi/scpi-client.js";
export {
  ScpiDeviceError,
  type ScpiErrorEntry,
  ScpiReplyError,
  ScpiTimeoutError,
} from "./scpi/scpi-errors.js";
export {
  type ParseNumberOptions,
  type ParseNumbersOptions,
  parseScpiErrors,
  parseScpiNumber,
  parseScpiNumbers,
  parseScpiQuantity,
  type ScpiQuantity,
} from "./scpi/scpi-values.js";
export { type CreateTransportOptions, createTransport } from "./transport/create-transport.js";
export { createMemoryPair, type MemoryPair, type MemoryPairOptions } from "./transport/memory-transport.js";
export { listSerialPorts, type SerialPortEntry } from "./transport/serial-ports.js";
export type {
  OpenOptions,
  ReconnectOptions,
  Transport,
  TransportEvents,
  TransportState,
  TransportStateChange,
} from "./transport/transport.js";
export {
  TransportClosedError,
  TransportConflictError,
  TransportDisconnectedError,
  TransportNotConnectedError,
  TransportOpenError,
  TransportUrlError,
  TransportWriteError,
} from "./transport/transport-errors.js";
export {
  type MemoryTransportSpec,
  type ParseTransportUrlOptions,
  parseTransportUrl,
  type SerialParity,
  type SerialTransportSpec,
  type TcpTransportSpec,
  type TransportSpec,
} from "./transport/transport-url.js";
