/**
 * Where an emulator listens: the device end of a socat pty pair (`serial://`), a TCP server
 * (`tcp://127.0.0.1:port`) or a Transport handed in (the device end of a memory pair). Serial and
 * memory links carry one conversation; a TCP server carries one per client connection.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createTransport } from "../../protocols/transport/create-transport.js";
import type { Transport } from "../../protocols/transport/transport.js";
import { parseTransportUrl } from "../../protocols/transport/transport-url.js";
import { EmulatorListenError } from "./emulator-errors.js";

/** One conversation: the serial or memory link, or one TCP client. */
export interface EmulatorConnection {
  readonly id: number;
  /** Sends bytes to the host; silently dropped while the link is down or muted. */
  write(bytes: Uint8Array): void;
}

export interface EmulatorListenerHandlers {
  data(connection: EmulatorConnection, chunk: Buffer): void;
  /** A TCP client went away (serial and memory links never close this way). */
  closed?(connection: EmulatorConnection): void;
}

export interface EmulatorListener {
  /** Where it listens, as a URL (TCP: with the port actually bound). */
  readonly url: string;
  readonly kind: "serial" | "tcp" | "memory";
  /** Baud rate of a serial listen URL (for emulated link timing); undefined otherwise. */
  readonly baudRate: number | undefined;
  /**
   * Cuts the link for `ms`: TCP clients are dropped and new ones refused; a serial or memory link
   * goes deaf and mute (what a cut RS-485 cable looks like from the host: nothing answers).
   */
  disconnectFor(ms: number): void;
  /** True while a disconnect is in force. */
  readonly cut: boolean;
  stop(): Promise<void>;
}

export interface ListenOptions {
  /** Baud rate filled into a serial URL that names none. */
  defaultBaud: number;
  /** How long to wait for the serial device to appear. Default 5000 ms. */
  openTimeoutMs?: number;
}

/** Starts listening on `listen` and feeds every received chunk to `handlers.data`. */
export async function listenForEmulator(
  listen: string | Transport,
  handlers: EmulatorListenerHandlers,
  options: ListenOptions,
): Promise<EmulatorListener> {
  if (typeof listen !== "string") return linkListener(listen, handlers, false, options);
  let url = listen.trim();
  if (url.startsWith("serial:") && !/[?&]baud=/i.test(url))
    url += `${url.includes("?") ? "&" : "?"}baud=${options.defaultBaud}`;
  let spec: ReturnType<typeof parseTransportUrl>;
  try {
    spec = parseTransportUrl(url);
  } catch (err) {
    throw new EmulatorListenError(listen, (err as Error).message, { cause: err });
  }
  if (spec.kind === "tcp") return tcpListener(spec.host, spec.port, handlers);
  if (spec.kind === "memory")
    throw new EmulatorListenError(
      listen,
      "a memory:// URL names the host end of a pair; pass the pair's device end (pair.device) instead",
    );
  const transport = createTransport(spec, { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  return linkListener(transport, handlers, true, options);
}

async function linkListener(
  transport: Transport,
  handlers: EmulatorListenerHandlers,
  owned: boolean,
  options: ListenOptions,
): Promise<EmulatorListener> {
  let cutUntil = 0;
  const connection: EmulatorConnection = {
    id: 1,
    write: (bytes) => {
      if (performance.now() < cutUntil || transport.state !== "connected") return;
      transport.write(bytes).catch(() => undefined);
    },
  };
  const onData = (chunk: Buffer) => {
    if (performance.now() < cutUntil) return;
    handlers.data(connection, chunk);
  };
  transport.on("data", onData);
  const opened = transport.state === "idle" || transport.state === "closed";
  if (opened) {
    try {
      await transport.open({ signal: AbortSignal.timeout(options.openTimeoutMs ?? 5000) });
    } catch (err) {
      transport.off("data", onData);
      await transport.close();
      throw new EmulatorListenError(transport.url, (err as Error).message, { cause: err });
    }
  }
  const spec = transport.spec;
  return {
    url: spec.url,
    kind: spec.kind === "serial" ? "serial" : "memory",
    baudRate: spec.kind === "serial" ? spec.baudRate : undefined,
    get cut() {
      return performance.now() < cutUntil;
    },
    disconnectFor: (ms) => {
      cutUntil = Math.max(cutUntil, performance.now() + ms);
    },
    stop: async () => {
      transport.off("data", onData);
      if (owned || opened) await transport.close();
    },
  };
}

async function tcpListener(
  host: string,
  port: number,
  handlers: EmulatorListenerHandlers,
): Promise<EmulatorListener> {
  const sockets = new Set<Socket>();
  let nextId = 1;
  let cutUntil = 0;
  let relisten: NodeJS.Timeout | undefined;
  let stopped = false;
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const connection: EmulatorConnection = {
      id: nextId++,
      write: (bytes) => {
        if (!socket.destroyed && socket.writable) socket.write(bytes);
      },
    };
    socket.on("data", (chunk: Buffer) => handlers.data(connection, chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      handlers.closed?.(connection);
    });
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new EmulatorListenError(`tcp://${host}:${port}`, err.message, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address !== null ? address.port : port;
  const hostText = host.includes(":") ? `[${host}]` : host;
  return {
    url: `tcp://${hostText}:${boundPort}`,
    kind: "tcp",
    baudRate: undefined,
    get cut() {
      return performance.now() < cutUntil;
    },
    disconnectFor: (ms) => {
      // Drop every client and stop listening, so reconnect attempts are refused until the cut ends.
      cutUntil = Math.max(cutUntil, performance.now() + ms);
      for (const socket of sockets) socket.destroy();
      if (server.listening) server.close();
      clearTimeout(relisten);
      relisten = setTimeout(
        () => {
          if (!stopped) server.listen(boundPort, host);
        },
        Math.max(0, cutUntil - performance.now()),
      );
    },
    stop: async () => {
      stopped = true;
      clearTimeout(relisten);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
