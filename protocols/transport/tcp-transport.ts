import { connect, type Socket } from "node:net";
import { type Link, type LinkHandlers, ReconnectingTransport } from "./reconnecting-transport.js";
import type { ReconnectOptions } from "./transport.js";
import { describeError, TransportDisconnectedError } from "./transport-errors.js";
import type { TcpTransportSpec } from "./transport-url.js";

export interface TcpTransportOptions {
  reconnect?: ReconnectOptions | false;
  /** Gives up one attempt after this long without a connection. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** TCP keep-alive probe delay, so a dead peer is noticed on an idle line. Default 5000 ms. */
  keepAliveMs?: number;
}

/** A TCP client connection (Modbus TCP, SCPI raw sockets, serial-to-Ethernet gateways). */
export class TcpTransport extends ReconnectingTransport {
  declare readonly spec: TcpTransportSpec;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;

  constructor(spec: TcpTransportSpec, options: TcpTransportOptions = {}) {
    super(spec, options.reconnect);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.keepAliveMs = options.keepAliveMs ?? 5000;
  }

  protected connectLink(handlers: LinkHandlers): Promise<Link> {
    return new Promise<Link>((resolve, reject) => {
      const socket: Socket = connect({ host: this.spec.host, port: this.spec.port });
      let connected = false;
      let closing = false;
      const lose = (detail: string, cause?: unknown) => {
        if (closing) return;
        handlers.lost(new TransportDisconnectedError(this.url, detail, { cause }));
        socket.destroy();
      };
      socket.setTimeout(this.connectTimeoutMs, () => {
        if (connected) return;
        socket.destroy();
        reject(new Error(`no connection within ${this.connectTimeoutMs} ms`));
      });
      socket.on("error", (err) => {
        if (!connected) reject(err);
        else lose(`socket error (${err.message})`, err);
      });
      socket.on("end", () => lose("the peer closed the connection"));
      socket.on("close", () => {
        if (connected) lose("connection closed");
      });
      socket.on("data", (chunk: Buffer) => handlers.data(chunk));
      socket.once("connect", () => {
        connected = true;
        socket.setTimeout(0);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, this.keepAliveMs);
        resolve({
          write: (bytes) =>
            new Promise<void>((res, rej) => {
              socket.write(bytes, (err) => (err ? rej(err) : res()));
            }),
          close: () =>
            new Promise<void>((res) => {
              closing = true;
              if (socket.destroyed) return res();
              socket.once("close", () => res());
              socket.end();
              setTimeout(() => socket.destroy(), 1000).unref();
            }),
        });
      });
    });
  }

  protected openHint(cause: unknown): string {
    const text = describeError(cause);
    if (/ECONNREFUSED/.test(text))
      return `nothing listens on port ${this.spec.port} at ${this.spec.host}; check the port number and that the instrument's network interface is enabled`;
    if (/ENOTFOUND|EAI_AGAIN/.test(text))
      return `host "${this.spec.host}" does not resolve; use its IP address`;
    return "check the host, port and network cable";
  }
}
