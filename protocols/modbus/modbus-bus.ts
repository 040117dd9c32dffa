import ModbusSerial from "modbus-serial";
import { waitForQuietLine } from "../exchange/quiet-line.js";
import { startReplyTimer } from "../exchange/reply-timer.js";
import { type QueueOwner, TransactionQueue } from "../exchange/transaction-queue.js";
import type { Transport, TransportStateChange } from "../transport/transport.js";
import {
  describeError,
  TransportClosedError,
  TransportDisconnectedError,
  TransportNotConnectedError,
} from "../transport/transport-errors.js";
import {
  ModbusBadFrameError,
  ModbusCrcError,
  ModbusExceptionError,
  ModbusRequestError,
  ModbusTimeoutError,
} from "./modbus-errors.js";
import { describeRequest, encodeRequestPdu, type ModbusRequest } from "./modbus-pdu.js";
import { type ModbusFraming, TransportModbusPort } from "./modbus-serial-port.js";

export type { ModbusFraming } from "./modbus-serial-port.js";

export interface ModbusBusOptions {
  /** "rtu" (address + CRC) or "tcp" (MBAP header). Default "tcp" on tcp:// transports, "rtu" otherwise. */
  framing?: ModbusFraming;
  /** Reply timeout for devices that set none. Default 1000 ms. */
  timeoutMs?: number;
  /**
   * RTU: silence required after a timeout, a bad reply or stray bytes before the next request, so a
   * late reply cannot answer it. Default min(timeout of the failed request, 250 ms) for RTU, 0 for TCP
   * (transaction ids tell replies apart there). Set it to at least the worst-case device latency
   * minus the timeout: a reply later than timeout + drainMs is indistinguishable from a fresh one on RTU.
   */
  drainMs?: number;
  /** Silence between any two transactions on the line. Default: RTU t3.5 at the serial baud rate, else 0. */
  frameGapMs?: number;
}

export interface ModbusDeviceOptions {
  /** Unit (slave) id: 1..247 on RS-485; 0 for devices that answer on it (EA over USB); TCP allows 0..255. */
  unit: number;
  /** Reply timeout for this device. Default: the bus's. */
  timeoutMs?: number;
  /** Minimum time from the end of one transaction with this device to the start of its next (Watlow F4: 30 ms). */
  minGapMs?: number;
}

export interface ModbusBusStats {
  transactions: number;
  timeouts: number;
  exceptions: number;
  badReplies: number;
  /** Bytes discarded because they answered nothing outstanding (late replies, noise). */
  strayBytes: number;
  /** modbus-serial clients built (one more after every reconnect or "Port Not Open"). */
  clientsCreated: number;
}

// modbus-serial is CommonJS: the default import is module.exports, whose `default` is the client class itself.
const ModbusRTU = ModbusSerial.default;
/** How long after our own reply timeout modbus-serial's internal one fires. */
const MODBUS_SERIAL_BACKSTOP_MS = 1000;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

type RawResult = { data?: unknown; address?: number; value?: number; state?: boolean; length?: number };

/**
 * One Modbus line (an RS-485 bus or a TCP connection) shared by every device on it: one request at a
 * time through one queue, per-device pacing, a timeout on every request, late replies drained, and
 * typed errors naming the request (`Timeout after 200 ms [unit=1 fc=03 addr=100 n=1]`).
 * modbus-serial builds the requests and parses the replies; it runs on a TransportModbusPort.
 */
export class ModbusBus {
  readonly framing: ModbusFraming;
  private readonly timeoutMs: number;
  private readonly drainMs: number | undefined;
  private drainNowMs = 0;
  private readonly queue: TransactionQueue;
  private client: ModbusRTU | undefined;
  private port: TransportModbusPort | undefined;
  private lastReceivedAt = Number.NEGATIVE_INFINITY;
  private dirtySince: number | undefined;
  private inFlight: ((error: unknown) => void) | undefined;
  private disposed = false;
  private readonly counters: ModbusBusStats = {
    transactions: 0,
    timeouts: 0,
    exceptions: 0,
    badReplies: 0,
    strayBytes: 0,
    clientsCreated: 0,
  };

  constructor(
    readonly transport: Transport,
    options: ModbusBusOptions = {},
  ) {
    this.framing = options.framing ?? (transport.spec.kind === "tcp" ? "tcp" : "rtu");
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.drainMs = options.drainMs ?? (this.framing === "rtu" ? undefined : 0);
    const spec = transport.spec;
    const frameGapMs =
      options.frameGapMs ??
      (spec.kind === "serial" && this.framing === "rtu" ? rtuSilenceMs(spec.baudRate) : 0);
    // t3.5 counts from the reply's last byte as it arrived, not from when it had been parsed.
    this.queue = new TransactionQueue(frameGapMs, (startedAt) =>
      this.lastReceivedAt > startedAt ? this.lastReceivedAt : performance.now(),
    );
    transport.on("data", this.onData);
    transport.on("state", this.onState);
  }

  /** Returns a handle for one unit on this line; devices on one line share its queue. */
  device(options: ModbusDeviceOptions): ModbusDevice {
    const maxUnit = this.framing === "tcp" ? 255 : 247;
    if (!Number.isInteger(options.unit) || options.unit < 0 || options.unit > maxUnit)
      throw new ModbusRequestError(`unit id ${options.unit} outside 0..${maxUnit}`);
    const unit = options.unit;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const minGapMs = options.minGapMs ?? 0;
    const owner: QueueOwner = { minGapMs, label: `unit ${unit} on ${this.transport.url}` };
    return new ModbusDevice(unit, timeoutMs, minGapMs, (request) =>
      this.execute(owner, unit, request, timeoutMs),
    );
  }

  /** Counters since creation (copies). */
  get stats(): ModbusBusStats {
    return { ...this.counters };
  }

  /** Detaches from the transport (does not close it); queued requests reject with TRANSPORT_CLOSED. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.transport.off("data", this.onData);
    this.transport.off("state", this.onState);
    const error = new TransportClosedError(this.transport.url);
    this.queue.rejectWaiting(error);
    this.inFlight?.(error);
    this.dropClient();
  }

  /** Queues one request for `owner` and resolves with modbus-serial's parsed reply. */
  private execute(
    owner: QueueOwner,
    unit: number,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<RawResult> {
    encodeRequestPdu(request);
    return this.queue.run(owner, () => this.transact(unit, request, timeoutMs));
  }

  private async transact(unit: number, request: ModbusRequest, timeoutMs: number): Promise<RawResult> {
    if (this.disposed) throw new TransportClosedError(this.transport.url);
    if (this.transport.state !== "connected")
      throw new TransportNotConnectedError(this.transport.url, this.transport.state);
    if (this.dirtySince !== undefined) {
      const since = this.dirtySince;
      const quietMs = this.drainNowMs;
      await waitForQuietLine(() => Math.max(this.lastReceivedAt, since), quietMs, quietMs * 20);
      this.dirtySince = undefined;
      this.drainNowMs = 0;
    }
    const client = this.ensureClient();
    const port = this.port!;
    const what = describeRequest(unit, request);
    this.counters.transactions++;
    return new Promise<RawResult>((resolve, reject) => {
      let settled = false;
      const finish = (error: unknown, result?: RawResult) => {
        if (settled) return;
        settled = true;
        cancelTimer();
        this.inFlight = undefined;
        port.giveUp();
        if (error === undefined) {
          resolve(result ?? {});
          return;
        }
        if (
          error instanceof ModbusTimeoutError ||
          error instanceof ModbusCrcError ||
          error instanceof ModbusBadFrameError
        ) {
          this.markDirty(timeoutMs);
          if (error instanceof ModbusTimeoutError) this.counters.timeouts++;
          else this.counters.badReplies++;
        } else if (error instanceof ModbusExceptionError) {
          this.counters.exceptions++;
        }
        reject(error);
      };
      const cancelTimer = startReplyTimer(timeoutMs, () =>
        finish(new ModbusTimeoutError(timeoutMs, what, this.transport.url)),
      );
      this.inFlight = (error) => finish(error);
      // modbus-serial's own timer is only a backstop: ours decides, and after an event-loop stall it
      // first lets the reply that arrived meanwhile be read. Set far enough out not to pre-empt it.
      client.setTimeout(timeoutMs + MODBUS_SERIAL_BACKSTOP_MS);
      const callback = (err: unknown, data: RawResult) =>
        finish(err ? this.mapError(err, what, timeoutMs) : undefined, data);
      if (!client.isOpen) {
        this.dropClient();
        finish(new TransportNotConnectedError(this.transport.url, this.transport.state));
        return;
      }
      try {
        this.send(client, unit, request, callback);
      } catch (err) {
        finish(this.mapError(err, what, timeoutMs));
      }
    });
  }

  private send(
    client: ModbusRTU,
    unit: number,
    request: ModbusRequest,
    callback: (err: unknown, data: RawResult) => void,
  ): void {
    switch (request.functionCode) {
      case 0x01:
        client.writeFC1(unit, request.address, request.quantity, callback);
        break;
      case 0x02:
        client.writeFC2(unit, request.address, request.quantity, callback);
        break;
      case 0x03:
        client.writeFC3(unit, request.address, request.quantity, callback);
        break;
      case 0x04:
        client.writeFC4(unit, request.address, request.quantity, callback);
        break;
      case 0x05:
        client.writeFC5(unit, request.address, request.value, callback);
        break;
      case 0x06:
        client.writeFC6(unit, request.address, request.value, callback);
        break;
      case 0x0f:
        client.writeFC15(unit, request.address, request.values, callback);
        break;
      case 0x10:
        client.writeFC16(unit, request.address, request.values, callback);
        break;
    }
  }

  private ensureClient(): ModbusRTU {
    if (this.client && this.port?.isOpen) return this.client;
    this.dropClient();
    const port = new TransportModbusPort(this.transport, this.framing, {
      badReply: (error) => this.inFlight?.(error),
      stray: (count) => {
        this.counters.strayBytes += count;
        if (this.framing === "rtu") this.markDirty(this.timeoutMs);
      },
      writeFailed: (error) => this.inFlight?.(error),
    });
    const client = new ModbusRTU(port);
    client.open(() => undefined);
    this.port = port;
    this.client = client;
    this.counters.clientsCreated++;
    return client;
  }

  private dropClient(): void {
    this.port?.detach();
    this.port = undefined;
    this.client = undefined;
  }

  /**
   * Maps modbus-serial's callback errors by the fields it sets on them (index.js): `modbusCode` on an
   * exception reply, `errno` "ETIMEDOUT" on its (backstop) timeout. The port checks CRC, unit and
   * function before a reply reaches it and a closed port is caught before sending, so anything else
   * is a reply it could not use.
   */
  private mapError(err: unknown, what: string, timeoutMs: number): Error {
    const raw = err as { errno?: unknown; modbusCode?: unknown };
    if (typeof raw.modbusCode === "number") return new ModbusExceptionError(raw.modbusCode, what);
    if (raw.errno === "ETIMEDOUT") return new ModbusTimeoutError(timeoutMs, what, this.transport.url);
    return new ModbusBadFrameError(describeError(err), { request: what });
  }

  /** Requires a quiet line before the next request: drainMs, or min(the timeout in play, 250 ms). */
  private markDirty(timeoutMs: number): void {
    this.dirtySince = performance.now();
    this.drainNowMs = Math.max(this.drainNowMs, this.drainMs ?? Math.min(timeoutMs, 250));
  }

  private readonly onData = (): void => {
    this.lastReceivedAt = performance.now();
  };

  private readonly onState = (change: TransportStateChange): void => {
    if (change.state === "connected") {
      this.dropClient();
      this.dirtySince = undefined;
      this.drainNowMs = 0;
    } else if (change.state === "disconnected" || change.state === "closed") {
      this.dropClient();
      const error =
        change.state === "closed"
          ? new TransportClosedError(this.transport.url)
          : (change.error ?? new TransportDisconnectedError(this.transport.url, "link lost"));
      this.inFlight?.(error);
      this.queue.rejectWaiting(error);
    }
  };
}

/** One unit on a ModbusBus (made by `bus.device()`). Every call goes through the bus queue and honours this device's gap. */
export class ModbusDevice {
  /** @internal Use ModbusBus.device(). */
  constructor(
    readonly unit: number,
    readonly timeoutMs: number,
    readonly minGapMs: number,
    private readonly send: (request: ModbusRequest) => Promise<RawResult>,
  ) {}

  /** FC01: reads `quantity` coils from `address`. */
  async readCoils(address: number, quantity: number): Promise<boolean[]> {
    return bits(await this.run({ functionCode: 0x01, address, quantity }), quantity);
  }

  /** FC02: reads `quantity` discrete inputs from `address`. */
  async readDiscreteInputs(address: number, quantity: number): Promise<boolean[]> {
    return bits(await this.run({ functionCode: 0x02, address, quantity }), quantity);
  }

  /** FC03: reads `quantity` holding registers (raw 16-bit values) from `address`. */
  async readHoldingRegisters(address: number, quantity: number): Promise<number[]> {
    return words(await this.run({ functionCode: 0x03, address, quantity }));
  }

  /** FC04: reads `quantity` input registers (raw 16-bit values) from `address`. */
  async readInputRegisters(address: number, quantity: number): Promise<number[]> {
    return words(await this.run({ functionCode: 0x04, address, quantity }));
  }

  /** FC05: switches one coil on or off. */
  async writeCoil(address: number, value: boolean): Promise<void> {
    await this.run({ functionCode: 0x05, address, value });
  }

  /** FC06: writes one register (0..65535; use fromInt16 for signed values). */
  async writeRegister(address: number, value: number): Promise<void> {
    await this.run({ functionCode: 0x06, address, value });
  }

  /** FC15: writes consecutive coils. */
  async writeCoils(address: number, values: boolean[]): Promise<void> {
    await this.run({ functionCode: 0x0f, address, values: [...values] });
  }

  /** FC16: writes consecutive registers. */
  async writeRegisters(address: number, values: number[]): Promise<void> {
    await this.run({ functionCode: 0x10, address, values: [...values] });
  }

  private run(request: ModbusRequest): Promise<RawResult> {
    return this.send(request);
  }
}

function bits(result: RawResult, quantity: number): boolean[] {
  const data = result.data;
  if (!Array.isArray(data)) throw new ModbusBadFrameError("coil reply carried no data");
  return data.slice(0, quantity).map(Boolean);
}

function words(result: RawResult): number[] {
  const data = result.data;
  if (!Array.isArray(data)) throw new ModbusBadFrameError("register reply carried no data");
  return data.map(Number);
}

/** Returns the RTU inter-frame silence t3.5 in ms (11-bit characters; fixed 1.75 ms above 19200 baud). */
export function rtuSilenceMs(baudRate: number): number {
  return baudRate > 19200 ? 1.75 : (3.5 * 11 * 1000) / baudRate;
}
