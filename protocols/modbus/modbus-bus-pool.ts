import { realpathSync } from "node:fs";
import { type CreateTransportOptions, createTransport } from "../transport/create-transport.js";
import type { Transport } from "../transport/transport.js";
import { TransportConflictError } from "../transport/transport-errors.js";
import {
  type ParseTransportUrlOptions,
  parseTransportUrl,
  type TransportSpec,
} from "../transport/transport-url.js";
import { ModbusBus, type ModbusBusOptions } from "./modbus-bus.js";

export interface ModbusLineLease {
  readonly bus: ModbusBus;
  readonly transport: Transport;
  /** Drops this holder; the last release disposes the bus and closes the transport. Idempotent. */
  release(): Promise<void>;
}

interface Line {
  bus: ModbusBus;
  transport: Transport;
  settings: string;
  holders: number;
}

/**
 * Hands every device on the same physical line (same serial device, even when named by different
 * paths; same TCP endpoint) the same ModbusBus, so they share one request queue. Refuses a second
 * user with different serial settings or framing.
 */
export class ModbusBusPool {
  private readonly lines = new Map<string, Line>();

  /** Returns a lease on the bus for `url`, creating transport and bus on first use (the transport is not opened). */
  acquire(
    url: string | TransportSpec,
    options: ModbusBusOptions & CreateTransportOptions & ParseTransportUrlOptions = {},
  ): ModbusLineLease {
    const spec = typeof url === "string" ? parseTransportUrl(url, options) : url;
    const key = lineKey(spec);
    const framing = options.framing ?? (spec.kind === "tcp" ? "tcp" : "rtu");
    const settings =
      spec.kind === "serial"
        ? `${spec.baudRate} baud, parity ${spec.parity}, ${spec.dataBits} data bits, ${spec.stopBits} stop bits, rtscts ${spec.rtscts}, ${framing} framing`
        : `${framing} framing`;
    let line = this.lines.get(key);
    if (line && line.settings !== settings)
      throw new TransportConflictError(
        `${spec.url} is already in use with ${line.settings}, not ${settings}; every device on one line must use the same settings`,
      );
    if (line === undefined) {
      const transport = createTransport(spec, options);
      line = { transport, bus: new ModbusBus(transport, { ...options, framing }), settings, holders: 0 };
      this.lines.set(key, line);
    }
    line.holders++;
    const held = line;
    let released = false;
    return {
      bus: held.bus,
      transport: held.transport,
      release: async () => {
        if (released) return;
        released = true;
        held.holders--;
        if (held.holders > 0) return;
        if (this.lines.get(key) === held) this.lines.delete(key);
        held.bus.dispose();
        await held.transport.close();
      },
    };
  }

  /** Number of lines in use. */
  get size(): number {
    return this.lines.size;
  }
}

/** The pool drivers share by default. */
export const sharedModbusBuses = new ModbusBusPool();

function lineKey(spec: TransportSpec): string {
  switch (spec.kind) {
    case "serial": {
      let path = spec.path;
      try {
        path = realpathSync(spec.path);
      } catch {
        // Not plugged in yet: key by the configured name.
      }
      return `serial:${path}`;
    }
    case "tcp":
      return `tcp:${spec.host.toLowerCase()}:${spec.port}`;
    case "memory":
      return `memory:${spec.name}`;
  }
}
