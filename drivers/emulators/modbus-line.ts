/**
 * One emulated Modbus line: an RS-485 bus on a pty (RTU framing, several unit ids on one line) or a
 * Modbus TCP server (MBAP framing). Emulated devices attach a unit each; the line decodes requests
 * with the cellbench codec, hands each to its unit, applies that unit's fault knobs and, when asked,
 * the timing of a real serial line (byte times at the baud rate, t3.5 silences, device turnaround).
 *
 * Emulators started separately on the same listen address in one process share one line, so a
 * Watlow F4 on unit 1 and another device on unit 2 can sit on one pty, as on a real bus.
 */
import {
  type DecodeResult,
  decodeRtuRequest,
  decodeTcpRequest,
  encodeRtuResponse,
  encodeTcpResponse,
  type RtuFrame,
  type TcpFrame,
} from "../../protocols/modbus/modbus-frames.js";
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import type { Transport } from "../../protocols/transport/transport.js";
import { EmulatorOptionsError } from "./emulator-errors.js";
import type { FaultDeck, FaultRate, KnobParams } from "./emulator-faults.js";
import { type EmulatorConnection, type EmulatorListener, listenForEmulator } from "./emulator-listener.js";
import { charTimeMs, frameSilenceMs, waitUntil } from "./link-timing.js";

/** Fault knobs of an emulated Modbus device (see emulator-faults.ts for how they fire). */
export interface ModbusFaults {
  /** No reply; the request is not carried out. */
  timeout?: FaultRate;
  /** The reply's CRC is broken (RTU); over TCP its MBAP protocol id is. */
  badCrc?: FaultRate;
  /** `bytes` random bytes (default 7) instead of the reply. */
  garbage?: FaultRate & { bytes?: number };
  /** The reply carries another unit id. */
  wrongUnit?: FaultRate;
  /** An exception reply with `code` (default 4, SERVER DEVICE FAILURE); the request is not carried out. */
  exception?: FaultRate & { code?: number };
  /** The reply comes `delayMs` late (default 1000 ms), after the host has given up on it. */
  lateReply?: FaultRate & { delayMs?: number };
  /** The link is cut for `forMs` (default 1000 ms); see EmulatorListener.disconnectFor. */
  disconnect?: FaultRate & { forMs?: number };
}

export const MODBUS_FAULT_KNOBS: { readonly [K in keyof ModbusFaults]-?: KnobParams } = {
  timeout: {},
  badCrc: {},
  garbage: { bytes: { min: 1, max: 256, integer: true } },
  wrongUnit: {},
  exception: { code: { min: 1, max: 255, integer: true } },
  lateReply: { delayMs: { min: 0, max: 600_000 } },
  disconnect: { forMs: { min: 0, max: 600_000 } },
};

/** A device on the line, answering one unit id. */
export interface EmulatedModbusUnit {
  /** Answers one request addressed to this unit (refusals as exception responses). */
  handle(request: ModbusRequest): ModbusResponse;
  readonly faults: FaultDeck<ModbusFaults>;
  /** Time the device takes to start answering once a request has ended, under link timing, ms. */
  readonly turnaroundMs: number;
  /** A request arriving sooner than this after the unit's previous reply is missed (no reply); 0 = off. */
  readonly minRequestGapMs: number;
}

export interface ModbusLineOptions {
  /** Default "tcp" on tcp:// listen addresses, else "rtu". */
  framing?: "rtu" | "tcp";
  /** Emulate serial link timing (RTU only). Default false. */
  linkTiming?: boolean;
  /** Baud rate for link timing when the listen address names none (memory pairs). Default 19200. */
  baudRate?: number;
  /**
   * Under link timing, let a request onto the emulated wire only after t3.5 of silence since the
   * previous reply, as RS-485 adapters that time frames in hardware do; the host may then send at
   * once (ModbusBus frameGapMs 0). Default false: the host keeps its own pause.
   */
  enforceFrameGap?: boolean;
}

export interface ModbusLineStats {
  /** Requests addressed to an attached unit. */
  requests: number;
  replies: number;
  /** Well-formed RTU frames for unit ids nobody here answers (other devices on the bus). */
  otherUnits: number;
  /** Frames with a bad CRC or that cannot be decoded (ignored, as a real slave does). */
  badFrames: number;
  /** Requests missed because they came sooner than the unit's minimum gap. */
  tooSoon: number;
  broadcasts: number;
}

interface Pending {
  connection: EmulatorConnection;
  unit: number;
  request: ModbusRequest;
  transactionId: number;
  frameLength: number;
  receivedAt: number;
}

/** Partial frames older than this are dropped (a real receiver resynchronises on t3.5 silence). */
const STALE_PARTIAL_MS = 50;

export class EmulatedModbusLine {
  readonly framing: "rtu" | "tcp";
  readonly linkTiming: boolean;
  readonly enforceFrameGap: boolean;
  private readonly units = new Map<number, EmulatedModbusUnit>();
  private readonly lastReplyAt = new Map<number, number>();
  private readonly buffers = new Map<number, { bytes: Buffer; at: number }>();
  private readonly queue: Pending[] = [];
  private processing = false;
  private lineFreeAt = 0;
  private stopped = false;
  private baudRate: number;
  private listener: EmulatorListener | undefined;
  private readonly counters: ModbusLineStats = {
    requests: 0,
    replies: 0,
    otherUnits: 0,
    badFrames: 0,
    tooSoon: 0,
    broadcasts: 0,
  };

  constructor(framing: "rtu" | "tcp", linkTiming: boolean, baudRate: number, enforceFrameGap = false) {
    this.framing = framing;
    this.linkTiming = linkTiming && framing === "rtu";
    this.enforceFrameGap = enforceFrameGap;
    this.baudRate = baudRate;
  }

  /** Where the line listens. */
  get url(): string {
    return this.listener?.url ?? "";
  }

  get stats(): ModbusLineStats {
    return { ...this.counters };
  }

  /** Cuts the link for `ms` (see EmulatorListener.disconnectFor). */
  disconnectFor(ms: number): void {
    this.listener?.disconnectFor(ms);
  }

  /** Attaches a device on `unit`; returns the function that detaches it. */
  attach(unit: number, device: EmulatedModbusUnit): () => void {
    if (this.units.has(unit))
      throw new EmulatorOptionsError(`modbus line ${this.url}`, `unit ${unit} is already taken on this line`);
    this.units.set(unit, device);
    return () => {
      if (this.units.get(unit) === device) this.units.delete(unit);
    };
  }

  /** @internal */
  async listen(listen: string | Transport): Promise<void> {
    this.listener = await listenForEmulator(
      listen,
      {
        data: (connection, chunk) => this.onData(connection, chunk),
        closed: (c) => this.buffers.delete(c.id),
      },
      { defaultBaud: this.baudRate },
    );
    this.baudRate = this.listener.baudRate ?? this.baudRate;
  }

  /** @internal */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await this.listener?.stop();
  }

  private onData(connection: EmulatorConnection, chunk: Buffer): void {
    const now = performance.now();
    const held = this.buffers.get(connection.id);
    let bytes = held && now - held.at < STALE_PARTIAL_MS ? Buffer.concat([held.bytes, chunk]) : chunk;
    for (;;) {
      const result: DecodeResult<RtuFrame<ModbusRequest> | TcpFrame<ModbusRequest>> | null =
        this.framing === "rtu" ? decodeRtuRequest(bytes) : decodeTcpRequest(bytes);
      if (result === null) break;
      bytes = bytes.subarray(result.length);
      if (!result.ok) {
        this.counters.badFrames++;
        continue;
      }
      const frame = result.frame;
      this.queue.push({
        connection,
        unit: frame.unit,
        request: frame.pdu,
        transactionId: "transactionId" in frame ? frame.transactionId : 0,
        frameLength: result.length,
        receivedAt: now,
      });
    }
    if (bytes.length > 0) this.buffers.set(connection.id, { bytes: Buffer.from(bytes), at: now });
    else this.buffers.delete(connection.id);
    void this.pump();
  }

  /** Serves requests one at a time, as a half-duplex line does. */
  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let next = this.queue.shift(); next !== undefined && !this.stopped; next = this.queue.shift())
        await this.serve(next);
    } finally {
      this.processing = false;
    }
  }

  private async serve(p: Pending): Promise<void> {
    if (p.unit === 0 && this.framing === "rtu") {
      this.counters.broadcasts++;
      if (p.request.functionCode >= 0x05) for (const unit of this.units.values()) unit.handle(p.request);
      return;
    }
    const unit = this.units.get(p.unit);
    if (unit === undefined) {
      if (this.framing === "tcp") {
        // A Modbus TCP server with no such unit answers "gateway target device failed to respond".
        this.send(p, p.unit, { functionCode: p.request.functionCode, exceptionCode: 0x0b });
      } else {
        this.counters.otherUnits++;
      }
      return;
    }
    this.counters.requests++;
    const last = this.lastReplyAt.get(p.unit) ?? Number.NEGATIVE_INFINITY;
    if (unit.minRequestGapMs > 0 && p.receivedAt - last < unit.minRequestGapMs) {
      this.counters.tooSoon++;
      return;
    }
    const faults = unit.faults;
    const cut = faults.fire("disconnect");
    if (cut) {
      this.disconnectFor(cut.forMs ?? 1000);
      return;
    }
    if (faults.fire("timeout")) return;
    const exception = faults.fire("exception");
    const response: ModbusResponse = exception
      ? { functionCode: p.request.functionCode, exceptionCode: exception.code ?? 4 }
      : unit.handle(p.request);
    const replyUnit = faults.fire("wrongUnit") ? (p.unit % 247) + 1 : p.unit;
    let bytes = this.encode(p, replyUnit, response);
    if (faults.fire("badCrc")) {
      if (this.framing === "rtu") bytes[bytes.length - 1]! ^= 0xa5;
      else bytes[3]! ^= 0x01;
    }
    const garbage = faults.fire("garbage");
    if (garbage) bytes = Buffer.from(Array.from({ length: garbage.bytes ?? 7 }, () => faults.randomInt(256)));
    const late = faults.fire("lateReply");
    const extraMs = late ? (late.delayMs ?? 1000) : 0;
    if (this.linkTiming) {
      const tc = charTimeMs(this.baudRate, 11);
      const t35 = frameSilenceMs(this.baudRate);
      const start = Math.max(p.receivedAt, this.lineFreeAt + (this.enforceFrameGap ? t35 : 0));
      const deadline = start + p.frameLength * tc + t35 + unit.turnaroundMs + bytes.length * tc;
      await waitUntil(deadline + extraMs);
    } else if (extraMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, extraMs));
    }
    if (this.stopped) return;
    p.connection.write(bytes);
    const now = performance.now();
    this.lineFreeAt = now;
    this.lastReplyAt.set(p.unit, now);
    this.counters.replies++;
  }

  private send(p: Pending, unit: number, response: ModbusResponse): void {
    p.connection.write(this.encode(p, unit, response));
  }

  private encode(p: Pending, unit: number, response: ModbusResponse): Buffer {
    return this.framing === "rtu"
      ? encodeRtuResponse(unit, response)
      : encodeTcpResponse(p.transactionId, unit, response);
  }
}

interface SharedLine {
  line: EmulatedModbusLine;
  holders: number;
  ready: Promise<void>;
}

const sharedLines = new Map<unknown, SharedLine>();

export interface ModbusLineLease {
  readonly line: EmulatedModbusLine;
  /** Drops this holder; the last release stops the line. Idempotent. */
  release(): Promise<void>;
}

/** Returns the framing a listen address implies: Modbus TCP (MBAP) on tcp:// addresses, else RTU. */
export function framingFor(listen: string | Transport): "rtu" | "tcp" {
  const isTcp = typeof listen === "string" ? /^\s*tcp:/i.test(listen) : listen.spec.kind === "tcp";
  return isTcp ? "tcp" : "rtu";
}

/**
 * Returns a lease on the emulated line listening on `listen`, starting it on first use. Emulators
 * on the same serial path (or the same Transport, or the same fixed TCP port) share it.
 */
export async function acquireModbusLine(
  listen: string | Transport,
  options: ModbusLineOptions = {},
): Promise<ModbusLineLease> {
  const framing = options.framing ?? framingFor(listen);
  const linkTiming = options.linkTiming ?? false;
  const key = lineKey(listen);
  let shared = key === undefined ? undefined : sharedLines.get(key);
  if (shared) {
    if (shared.line.framing !== framing || shared.line.linkTiming !== (linkTiming && framing === "rtu"))
      throw new EmulatorOptionsError(
        `modbus line ${describe(listen)}`,
        `already running with ${shared.line.framing} framing and link timing ${shared.line.linkTiming ? "on" : "off"}; every emulator on one line must use the same`,
      );
  } else {
    const line = new EmulatedModbusLine(
      framing,
      linkTiming,
      options.baudRate ?? 19200,
      options.enforceFrameGap ?? false,
    );
    const created: SharedLine = { line, holders: 0, ready: line.listen(listen) };
    shared = created;
    if (key !== undefined) sharedLines.set(key, created);
    created.ready.catch(() => {
      if (key !== undefined && sharedLines.get(key) === created) sharedLines.delete(key);
    });
  }
  await shared.ready;
  shared.holders++;
  const held = shared;
  let released = false;
  return {
    line: held.line,
    release: async () => {
      if (released) return;
      released = true;
      held.holders--;
      if (held.holders > 0) return;
      if (key !== undefined && sharedLines.get(key) === held) sharedLines.delete(key);
      await held.line.stop();
    },
  };
}

function lineKey(listen: string | Transport): unknown {
  if (typeof listen !== "string") return listen;
  const serial = /^\s*serial:\/\/([^?]+)/i.exec(listen);
  if (serial) return `serial:${decodeURIComponent(serial[1]!)}`;
  const tcp = /^\s*tcp:\/\/([^/?]+)/i.exec(listen);
  if (tcp && !/:0$/.test(tcp[1]!)) return `tcp:${tcp[1]!.toLowerCase()}`;
  return undefined;
}

function describe(listen: string | Transport): string {
  return typeof listen === "string" ? listen : listen.url;
}
