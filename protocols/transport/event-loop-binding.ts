/**
 * A serialport binding that reads and writes on the event loop.
 *
 * serialport's Unix bindings (bindings-cpp 13) run every read and write through libuv's thread pool
 * (`fs.read` / `fs.write`). That is two thread hand-offs per request and reply: on a 2-core host a
 * round trip over a socat pty took a median 0.21–0.48 ms through them and 0.16–0.17 ms without. It also
 * queues serial traffic behind whatever else holds the pool's four threads (DNS lookups, zlib,
 * crypto, file I/O).
 *
 * bindings-cpp opens the port O_NONBLOCK, so the read or write call cannot block: this binding makes
 * it on the event loop and waits on the port's own poller only when the kernel has nothing to give
 * or no room (EAGAIN), which is what bindings-cpp does after a threaded call. Opening, line settings,
 * flush, drain, close and listing stay bindings-cpp's. Ports without a poller (Windows) are used as
 * bindings-cpp gives them.
 */
import { readSync, writeSync } from "node:fs";
import {
  autoDetect,
  type BindingInterface,
  type BindingPortInterface,
  BindingsError,
  type OpenOptions,
  type PortInfo,
  type PortStatus,
  type SetOptions,
  type UpdateOptions,
} from "@serialport/bindings-cpp";

/**
 * Bytes read back to back before a read yields to the event loop's other work: only a peer that
 * writes faster than the port is read (a pty, never a real line at its baud rate) gets there.
 */
const BURST_BYTES = 16 * 1024;

/** Back-off while a read sees end of file (a pty whose other side is gone) rather than an error. */
const END_OF_FILE_RETRY_MS = 10;

interface Poller {
  once(event: "readable" | "writable", callback: (error: Error | null) => void): unknown;
}

/** A bindings-cpp Unix port: a file descriptor (null once closed) and a poller on it. */
interface PolledPort extends BindingPortInterface {
  readonly fd: number | null;
  readonly poller: Poller;
}

function isPolled(port: BindingPortInterface): port is PolledPort {
  const candidate = port as Partial<PolledPort>;
  return typeof candidate.poller?.once === "function" && "fd" in port;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

function mustWait(error: unknown): boolean {
  const code = errorCode(error);
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR";
}

/** Marks the errors bindings-cpp treats as an unplugged device the way it does. */
function asDisconnect(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  const code = errorCode(error);
  const errno = (error as { errno?: unknown }).errno;
  if (code === "EBADF" || code === "ENXIO" || code === "UNKNOWN" || errno === -1)
    (error as { disconnect?: boolean }).disconnect = true;
  return error;
}

class EventLoopPort implements BindingPortInterface {
  private writing: Promise<void> | null = null;
  /** Bytes read since the reader last waited for the poller or yielded. */
  private burst = 0;

  constructor(private readonly port: PolledPort) {}

  get openOptions(): Required<OpenOptions> {
    return this.port.openOptions;
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 1)
      throw new TypeError(`read of ${length} bytes at ${offset} is not a valid range`);
    if (buffer.length < offset + length) throw new RangeError("buffer is too small");
    if (this.burst >= BURST_BYTES) {
      this.burst = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (;;) {
      const fd = this.openFd();
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, offset, length, null);
      } catch (error) {
        if (!mustWait(error)) throw asDisconnect(error);
        this.burst = 0;
        await this.until("readable");
        continue;
      }
      this.burst += bytesRead;
      if (bytesRead > 0) return { buffer, bytesRead };
      await new Promise((resolve) => setTimeout(resolve, END_OF_FILE_RETRY_MS));
    }
  }

  write(buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) return Promise.reject(new TypeError('"buffer" is not a Buffer'));
    this.writing = this.writeAll(buffer);
    return this.writing;
  }

  async drain(): Promise<void> {
    await this.writing;
    await this.port.drain();
  }

  close(): Promise<void> {
    return this.port.close();
  }

  update(options: UpdateOptions): Promise<void> {
    return this.port.update(options);
  }

  set(options: SetOptions): Promise<void> {
    return this.port.set(options);
  }

  get(): Promise<PortStatus> {
    return this.port.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.port.getBaudRate();
  }

  flush(): Promise<void> {
    return this.port.flush();
  }

  private async writeAll(buffer: Buffer): Promise<void> {
    let written = 0;
    while (written < buffer.length) {
      const fd = this.openFd();
      try {
        written += writeSync(fd, buffer, written, buffer.length - written);
      } catch (error) {
        if (!mustWait(error)) throw asDisconnect(error);
        await this.until("writable");
      }
    }
  }

  /** The descriptor, or the "canceled" error serialport expects once the port has been closed. */
  private openFd(): number {
    const fd = this.port.fd;
    if (fd === null || !this.port.isOpen) throw new BindingsError("Port is not open", { canceled: true });
    return fd;
  }

  /** Resolves when the poller reports the event; closing the port rejects with a canceled error. */
  private until(event: "readable" | "writable"): Promise<void> {
    return new Promise((resolve, reject) =>
      this.port.poller.once(event, (error) => (error ? reject(error) : resolve())),
    );
  }
}

const platformBinding: BindingInterface = autoDetect();

/** bindings-cpp's binding for this platform, with reads and writes on the event loop where it can. */
export const EventLoopBinding: BindingInterface<BindingPortInterface, OpenOptions, PortInfo> = {
  list: () => platformBinding.list(),
  async open(options: OpenOptions): Promise<BindingPortInterface> {
    const port = await platformBinding.open(options);
    return isPolled(port) ? new EventLoopPort(port) : port;
  },
};
