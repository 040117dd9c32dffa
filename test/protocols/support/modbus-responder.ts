import {
  type DecodeResult,
  decodeRtuRequest,
  decodeTcpRequest,
  encodeRtuResponse,
  encodeTcpResponse,
  type RtuFrame,
  type TcpFrame,
} from "../../../protocols/modbus/modbus-frames.js";
import type { ModbusRequest, ModbusResponse } from "../../../protocols/modbus/modbus-pdu.js";

/** Anything bytes can be read from and written to: a Transport or a net.Socket. */
export interface ByteLink {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  write(bytes: Uint8Array): unknown;
}

export type ResponderFault =
  | { kind: "silent" }
  | { kind: "delay"; ms: number }
  /** Keeps the reply until a request with `release-held` arrives: later than any timeout, whatever the load. */
  | { kind: "hold" }
  /** Sends the replies held so far, then its own: the late ones land while this request waits. */
  | { kind: "release-held" }
  | { kind: "bad-crc" }
  | { kind: "exception"; code: number }
  | { kind: "wrong-count" }
  /** Replies, then blocks the (shared) event loop for `ms`, like a GC pause on the host. */
  | { kind: "stall-after-reply"; ms: number };

export interface ResponderUnit {
  holding: Map<number, number>;
  coils: Map<number, boolean>;
  /** Value of a holding/input register nobody wrote. */
  readDefault(address: number): number;
  /** Faults applied to the next requests, one per request, in order. */
  faults: ResponderFault[];
}

export interface ResponderLogEntry {
  unit: number;
  request: ModbusRequest;
  receivedAt: number;
  repliedAt?: number;
}

/** A Modbus server for tests, built on the cellbench codec; units and fault knobs are per unit id. */
export class ModbusResponder {
  readonly units = new Map<number, ResponderUnit>();
  readonly log: ResponderLogEntry[] = [];
  /** Requests that arrived while an earlier reply was still pending. */
  overlaps = 0;
  private buffer = Buffer.alloc(0);
  private pending = 0;
  private readonly held: Array<() => void> = [];

  constructor(
    private readonly link: ByteLink,
    private readonly framing: "rtu" | "tcp",
    private readonly keepLog = true,
  ) {
    link.on("data", (chunk) => this.onData(chunk));
  }

  /** Adds a unit whose unwritten registers read as `readDefault(address)`. */
  addUnit(unit: number, readDefault: (address: number) => number = (a) => a & 0xffff): ResponderUnit {
    const state: ResponderUnit = { holding: new Map(), coils: new Map(), readDefault, faults: [] };
    this.units.set(unit, state);
    return state;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const result: DecodeResult<RtuFrame<ModbusRequest> | TcpFrame<ModbusRequest>> | null =
        this.framing === "rtu" ? decodeRtuRequest(this.buffer) : decodeTcpRequest(this.buffer);
      if (result === null) return;
      this.buffer = this.buffer.subarray(result.length);
      if (!result.ok) continue;
      const frame = result.frame;
      const transactionId = "transactionId" in frame ? frame.transactionId : 0;
      this.handle(frame.unit, frame.pdu, transactionId);
    }
  }

  private handle(unitId: number, request: ModbusRequest, transactionId: number): void {
    const unit = this.units.get(unitId);
    if (unit === undefined) return;
    if (this.pending > 0) this.overlaps++;
    const entry: ResponderLogEntry = { unit: unitId, request, receivedAt: performance.now() };
    if (this.keepLog) this.log.push(entry);
    const fault = unit.faults.shift();
    if (fault?.kind === "silent") return;
    let response: ModbusResponse =
      fault?.kind === "exception"
        ? { functionCode: request.functionCode, exceptionCode: fault.code }
        : this.answer(unit, request);
    if (fault?.kind === "wrong-count" && "values" in response && !("address" in response))
      response = { ...response, values: response.values.slice(1) };
    const bytes =
      this.framing === "rtu"
        ? encodeRtuResponse(unitId, response)
        : encodeTcpResponse(transactionId, unitId, response);
    if (fault?.kind === "bad-crc") bytes[bytes.length - 1]! ^= 0x5a;
    const send = () => {
      entry.repliedAt = performance.now();
      this.pending--;
      const written = this.link.write(bytes);
      if (written instanceof Promise) written.catch(() => undefined);
      if (fault?.kind === "stall-after-reply") {
        const end = performance.now() + fault.ms;
        while (performance.now() < end) {
          // blocking on purpose
        }
      }
    };
    this.pending++;
    if (fault?.kind === "hold") {
      this.held.push(send);
      return;
    }
    if (fault?.kind === "release-held") for (const late of this.held.splice(0)) late();
    if (fault?.kind === "delay") setTimeout(send, fault.ms);
    else send();
  }

  private answer(unit: ResponderUnit, request: ModbusRequest): ModbusResponse {
    const register = (address: number) => unit.holding.get(address) ?? unit.readDefault(address);
    const coil = (address: number) => unit.coils.get(address) ?? address % 3 === 0;
    switch (request.functionCode) {
      case 0x01:
      case 0x02: {
        const bits = Array.from({ length: Math.ceil(request.quantity / 8) * 8 }, (_, i) =>
          i < request.quantity ? coil(request.address + i) : false,
        );
        return { functionCode: request.functionCode, bits };
      }
      case 0x03:
      case 0x04:
        return {
          functionCode: request.functionCode,
          values: Array.from({ length: request.quantity }, (_, i) => register(request.address + i)),
        };
      case 0x05:
        unit.coils.set(request.address, request.value);
        return { functionCode: 0x05, address: request.address, value: request.value };
      case 0x06:
        unit.holding.set(request.address, request.value);
        return { functionCode: 0x06, address: request.address, value: request.value };
      case 0x0f:
        request.values.forEach((v, i) => {
          unit.coils.set(request.address + i, v);
        });
        return { functionCode: 0x0f, address: request.address, quantity: request.values.length };
      case 0x10:
        request.values.forEach((v, i) => {
          unit.holding.set(request.address + i, v);
        });
        return { functionCode: 0x10, address: request.address, quantity: request.values.length };
    }
  }
}
