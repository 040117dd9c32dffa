import { EventEmitter } from "node:events";
import type { Transport } from "../transport/transport.js";
import { crc16 } from "./crc16.js";
import { ModbusBadFrameError, ModbusCrcError } from "./modbus-errors.js";
import { decodeRtuRequest, decodeRtuResponse, decodeTcpResponse, encodeTcpFrame } from "./modbus-frames.js";
import { describeRequest, type ModbusRequest, responseMismatch } from "./modbus-pdu.js";

export type ModbusFraming = "rtu" | "tcp";

/** The reply the port waits for: set when modbus-serial writes a request, cleared when it is answered or given up. */
interface Expectation {
  unit: number;
  request: ModbusRequest;
  transactionId: number;
}

export interface PortHooks {
  /** A reply for the outstanding request arrived but is unusable (bad CRC, wrong length, wrong echo). */
  badReply(error: ModbusCrcError | ModbusBadFrameError): void;
  /** Bytes arrived that answer nothing outstanding (late replies, noise). */
  stray(byteCount: number): void;
  /** Writing the request failed. */
  writeFailed(error: unknown): void;
}

/**
 * The port object modbus-serial runs on, given to `new ModbusRTU(port)`: an event emitter with
 * `open(callback)`, `close(callback)`, `write(frame)` and `isOpen` that emits "data" with RTU frames,
 * like its own TestPort. Its transaction bookkeeping is modbus-serial's own business (its `open()`
 * initialises it on the port); nothing here reads or writes it. The port carries the frames over a
 * cellbench Transport, so transport choice and reconnects stay ours, and it is the gatekeeper of
 * replies: it decodes each outgoing request with our codec and hands modbus-serial only a complete,
 * CRC-checked reply from the unit and function asked (and, over TCP, with the transaction id sent).
 * Everything else is reported as stray or as a bad reply, never passed on.
 */
export class TransportModbusPort extends EventEmitter {
  private expectation: Expectation | undefined;
  private received: Buffer = Buffer.alloc(0);
  private nextTransactionId = 0;
  private detached = false;

  constructor(
    private readonly transport: Transport,
    private readonly framing: ModbusFraming,
    private readonly hooks: PortHooks,
  ) {
    super();
    transport.on("data", this.onData);
  }

  get isOpen(): boolean {
    return !this.detached && this.transport.state === "connected";
  }

  open(callback: (error: Error | null) => void): void {
    callback(this.isOpen ? null : new Error("Port Not Open"));
  }

  /** Detaches from the transport; the transport itself stays open (it belongs to the bus). */
  close(callback?: (error: Error | null) => void): void {
    this.detach();
    callback?.(null);
  }

  destroy(callback?: (error: Error | null) => void): void {
    this.detach();
    callback?.(null);
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.expectation = undefined;
    this.transport.off("data", this.onData);
  }

  /** Forgets the outstanding request; anything arriving for it from now on is stray. */
  giveUp(): void {
    this.expectation = undefined;
    this.received = Buffer.alloc(0);
  }

  /** Called by modbus-serial with an RTU request frame (address, PDU, CRC). */
  write(frame: Buffer): void {
    const decoded = decodeRtuRequest(frame);
    if (decoded === null || !decoded.ok) {
      this.hooks.writeFailed(
        new ModbusBadFrameError("modbus-serial produced a request the codec cannot read"),
      );
      return;
    }
    const { unit, pdu: request } = decoded.frame;
    this.received = Buffer.alloc(0);
    let bytes: Buffer = frame;
    let transactionId = 0;
    if (this.framing === "tcp") {
      this.nextTransactionId = (this.nextTransactionId + 1) & 0xffff;
      transactionId = this.nextTransactionId;
      bytes = encodeTcpFrame(transactionId, unit, frame.subarray(1, frame.length - 2));
    }
    this.expectation = { unit, request, transactionId };
    this.transport.write(bytes).catch((error: unknown) => this.hooks.writeFailed(error));
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.expectation === undefined) {
      this.hooks.stray(chunk.length);
      return;
    }
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    if (this.framing === "rtu") this.takeRtu();
    else this.takeTcp();
  };

  private takeRtu(): void {
    const expected = this.expectation;
    if (expected === undefined) return;
    const fc = expected.request.functionCode;
    // Skip leading bytes that cannot start the awaited reply (line noise, a driver-enable glitch).
    let start = 0;
    while (start < this.received.length) {
      if (this.received[start] !== expected.unit) {
        start++;
        continue;
      }
      const second = this.received[start + 1];
      if (second === undefined || second === fc || second === (fc | 0x80)) break;
      start++;
    }
    if (start > 0) {
      this.hooks.stray(start);
      this.received = this.received.subarray(start);
    }
    if (this.received.length < 2) return;
    const result = decodeRtuResponse(this.received);
    if (result === null) return;
    const what = describeRequest(expected.unit, expected.request);
    const frame = this.received.subarray(0, result.length);
    const rest = this.received.subarray(result.length);
    this.received = Buffer.alloc(0);
    if (!result.ok) {
      this.expectation = undefined;
      const error = result.error;
      this.hooks.badReply(
        error instanceof ModbusCrcError
          ? new ModbusCrcError(error.received, error.computed, what)
          : new ModbusBadFrameError(error.reason, { ...error.details, request: what }),
      );
    } else {
      this.accept(expected, result.frame.pdu, frame, what);
    }
    if (rest.length > 0) this.hooks.stray(rest.length);
  }

  private takeTcp(): void {
    for (;;) {
      const expected = this.expectation;
      if (expected === undefined) {
        if (this.received.length > 0) this.hooks.stray(this.received.length);
        this.received = Buffer.alloc(0);
        return;
      }
      const result = decodeTcpResponse(this.received);
      if (result === null) return;
      const adu = this.received.subarray(0, result.length);
      this.received = this.received.subarray(result.length);
      const what = describeRequest(expected.unit, expected.request);
      if (!result.ok) {
        this.expectation = undefined;
        this.hooks.badReply(new ModbusBadFrameError(result.error.message, { request: what }));
        continue;
      }
      if (result.frame.transactionId !== expected.transactionId) {
        this.hooks.stray(adu.length);
        continue;
      }
      if (result.frame.unit !== expected.unit) {
        this.expectation = undefined;
        this.hooks.badReply(
          new ModbusBadFrameError(
            `reply from unit ${result.frame.unit} to a request for unit ${expected.unit}`,
            {
              request: what,
            },
          ),
        );
        continue;
      }
      const pdu = adu.subarray(7);
      const rtu = Buffer.alloc(pdu.length + 3);
      rtu[0] = expected.unit;
      pdu.copy(rtu, 1);
      rtu.writeUInt16LE(crc16(rtu.subarray(0, rtu.length - 2)), rtu.length - 2);
      this.accept(expected, result.frame.pdu, rtu, what);
    }
  }

  private accept(
    expected: Expectation,
    pdu: Parameters<typeof responseMismatch>[1],
    rtuFrame: Buffer,
    what: string,
  ): void {
    this.expectation = undefined;
    const mismatch = responseMismatch(expected.request, pdu);
    if (mismatch !== undefined) {
      this.hooks.badReply(new ModbusBadFrameError(mismatch, { request: what }));
      return;
    }
    this.emit("data", rtuFrame);
  }
}
