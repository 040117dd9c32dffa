import { type Link, type LinkHandlers, ReconnectingTransport } from "./reconnecting-transport.js";
import type { ReconnectOptions, Transport } from "./transport.js";
import { TransportDisconnectedError, TransportUrlError } from "./transport-errors.js";
import { type MemoryTransportSpec, parseTransportUrl } from "./transport-url.js";

export interface MemoryPairOptions {
  /** Registers the pair so `createTransport("memory://<name>")` returns its host end. */
  name?: string;
  /** Splits every write into chunks of at most this many bytes, delivered separately (tests framing). */
  chunkSize?: number;
  /** Back-off for both ends. Default 20 ms initial, 200 ms ceiling (it is all in-process). */
  reconnect?: ReconnectOptions | false;
}

/** Two transports joined by a virtual cable that tests can unplug and plug back in. */
export interface MemoryPair {
  /** The end a driver or client uses. */
  readonly host: Transport;
  /** The end an emulator or test responder uses. */
  readonly device: Transport;
  readonly plugged: boolean;
  /** Drops the link on both ends; reconnect attempts fail until `plug()`. */
  unplug(): void;
  /**
   * Plugs the cable back in: the device end reattaches at once (an instrument is always there), the
   * host end on its next back-off attempt, so nothing the host sends first falls into a half-plugged cable.
   */
  plug(): void;
  /** Closes both ends and frees the name. */
  dispose(): Promise<void>;
}

const registry = new Map<string, MemoryPair>();
let anonymous = 0;

/** Creates two connected in-memory transports (bytes written on one arrive asynchronously on the other). */
export function createMemoryPair(options: MemoryPairOptions = {}): MemoryPair {
  const name = options.name ?? `pair-${++anonymous}`;
  if (options.name !== undefined && registry.has(name))
    throw new TransportUrlError(
      `memory://${name}`,
      "a memory pair with this name exists; dispose it or pick another name",
    );
  const chunkSize = options.chunkSize ?? Number.POSITIVE_INFINITY;
  if (!(chunkSize >= 1)) throw new RangeError(`chunkSize must be at least 1, got ${chunkSize}`);
  const cable = new MemoryCable(chunkSize);
  const reconnect = options.reconnect ?? { initialDelayMs: 20, maxDelayMs: 200 };
  const spec = (url: string) => parseTransportUrl(url) as MemoryTransportSpec;
  const host = new MemoryTransport(spec(`memory://${name}`), cable, 0, reconnect);
  const device = new MemoryTransport(spec(`memory://${name}.device`), cable, 1, reconnect);
  const pair: MemoryPair = {
    host,
    device,
    get plugged() {
      return cable.plugged;
    },
    unplug: () => cable.unplug(),
    plug: () => cable.plug(),
    dispose: async () => {
      if (registry.get(name) === pair) registry.delete(name);
      await Promise.all([host.close(), device.close()]);
    },
  };
  if (options.name !== undefined) registry.set(name, pair);
  return pair;
}

/** Returns the host end of the pair registered under `spec.name`. */
export function memoryTransportFor(spec: MemoryTransportSpec): Transport {
  const pair = registry.get(spec.name);
  if (pair === undefined)
    throw new TransportUrlError(
      spec.url,
      `no memory pair named "${spec.name}"; create it first with createMemoryPair({ name: "${spec.name}" })`,
    );
  return pair.host;
}

interface Attachment {
  handlers: LinkHandlers;
  url: string;
}

class MemoryCable {
  plugged = true;
  /** Called on plug(): the device end's reconnect. */
  onPlugged: (() => void) | undefined;
  private readonly attached: [Attachment | undefined, Attachment | undefined] = [undefined, undefined];

  constructor(private readonly chunkSize: number) {}

  attach(side: 0 | 1, handlers: LinkHandlers, url: string): void {
    this.attached[side] = { handlers, url };
  }

  detach(side: 0 | 1, handlers: LinkHandlers): void {
    if (this.attached[side]?.handlers === handlers) this.attached[side] = undefined;
  }

  deliver(to: 0 | 1, bytes: Buffer): void {
    const copy = Buffer.from(bytes);
    for (let offset = 0; offset < copy.length; offset += this.chunkSize) {
      const chunk = copy.subarray(offset, Math.min(copy.length, offset + this.chunkSize));
      setImmediate(() => {
        if (this.plugged) this.attached[to]?.handlers.data(chunk);
      });
    }
  }

  unplug(): void {
    this.plugged = false;
    for (const side of [0, 1] as const) {
      const attachment = this.attached[side];
      this.attached[side] = undefined;
      if (attachment)
        setImmediate(() =>
          attachment.handlers.lost(new TransportDisconnectedError(attachment.url, "memory cable unplugged")),
        );
    }
  }

  plug(): void {
    if (this.plugged) return;
    this.plugged = true;
    this.onPlugged?.();
  }
}

class MemoryTransport extends ReconnectingTransport {
  constructor(
    spec: MemoryTransportSpec,
    private readonly cable: MemoryCable,
    private readonly side: 0 | 1,
    reconnect: ReconnectOptions | false,
  ) {
    super(spec, reconnect);
    if (side === 1) cable.onPlugged = () => this.retryNow();
  }

  protected async connectLink(handlers: LinkHandlers): Promise<Link> {
    if (!this.cable.plugged) throw new Error("memory cable unplugged");
    this.cable.attach(this.side, handlers, this.url);
    const other = this.side === 0 ? 1 : 0;
    return {
      write: async (bytes) => this.cable.deliver(other, bytes),
      close: async () => this.cable.detach(this.side, handlers),
    };
  }

  protected openHint(): string {
    return "plug the memory pair back in";
  }
}
