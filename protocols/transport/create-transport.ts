import { memoryTransportFor } from "./memory-transport.js";
import { SerialTransport } from "./serial-transport.js";
import { TcpTransport } from "./tcp-transport.js";
import type { ReconnectOptions, Transport } from "./transport.js";
import { type ParseTransportUrlOptions, parseTransportUrl, type TransportSpec } from "./transport-url.js";

export interface CreateTransportOptions extends ParseTransportUrlOptions {
  /** Back-off after a drop (default 100 ms doubling to 5 s); `false` stays disconnected. Not used for memory://. */
  reconnect?: ReconnectOptions | false;
  /** TCP only: time allowed per connection attempt. Default 5000 ms. */
  connectTimeoutMs?: number;
}

/**
 * Creates (does not open) the transport a URL names: `serial://`, `tcp://` or `memory://` (the host
 * end of a pair made with `createMemoryPair({ name })`). Throws TRANSPORT_URL_INVALID naming what to change.
 */
export function createTransport(
  url: string | TransportSpec,
  options: CreateTransportOptions = {},
): Transport {
  const spec = typeof url === "string" ? parseTransportUrl(url, options) : url;
  switch (spec.kind) {
    case "serial":
      return new SerialTransport(spec, { reconnect: options.reconnect });
    case "tcp":
      return new TcpTransport(spec, {
        reconnect: options.reconnect,
        connectTimeoutMs: options.connectTimeoutMs,
      });
    case "memory":
      return memoryTransportFor(spec);
  }
}
