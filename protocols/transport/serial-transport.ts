import { stat } from "node:fs/promises";
import { SerialPortStream } from "@serialport/stream";
import { EventLoopBinding } from "./event-loop-binding.js";
import { type Link, type LinkHandlers, ReconnectingTransport } from "./reconnecting-transport.js";
import type { ReconnectOptions } from "./transport.js";
import { describeError, TransportDisconnectedError } from "./transport-errors.js";
import type { SerialTransportSpec } from "./transport-url.js";

export interface SerialTransportOptions {
  reconnect?: ReconnectOptions | false;
  /** How often to check that the device node still exists and is the one opened. Default 500 ms. */
  presenceCheckMs?: number;
}

/**
 * A serial line through `serialport`'s stream over `EventLoopBinding`. Each (re)connection uses a new
 * port instance, since a port that saw a disconnect is not reusable; unplugging shows up as `close`
 * with `err.disconnected`, which this turns into a `disconnected` state and a back-off reconnect.
 *
 * The path is also checked periodically: when a pty's master side goes away, the slave may read
 * end-of-file instead of failing, and serialport's reader then retries forever without reporting a
 * disconnect. A device node that vanished or now names another device counts as unplugged.
 */
export class SerialTransport extends ReconnectingTransport {
  declare readonly spec: SerialTransportSpec;
  private readonly presenceCheckMs: number;

  constructor(spec: SerialTransportSpec, options: SerialTransportOptions = {}) {
    super(spec, options.reconnect);
    this.presenceCheckMs = options.presenceCheckMs ?? 500;
  }

  protected async connectLink(handlers: LinkHandlers): Promise<Link> {
    const { path, baudRate, dataBits, parity, stopBits, rtscts } = this.spec;
    const port = new SerialPortStream({
      binding: EventLoopBinding,
      path,
      baudRate,
      dataBits,
      parity,
      stopBits,
      rtscts,
      autoOpen: false,
    });
    let opened = false;
    let closing = false;
    port.on("error", (err: Error) => {
      if (!opened || closing) return;
      handlers.lost(new TransportDisconnectedError(this.url, `port error (${err.message})`, { cause: err }));
      if (port.isOpen) port.close(() => undefined);
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    opened = true;
    const openedDevice = await deviceIdentity(path);
    const presence = setInterval(() => {
      if (openedDevice === undefined) return;
      void deviceIdentity(path).then((now) => {
        if (closing || (now !== undefined && now === openedDevice)) return;
        handlers.lost(new TransportDisconnectedError(this.url, "device node vanished or was replaced"));
        closing = true;
        clearInterval(presence);
        if (port.isOpen) port.close(() => undefined);
      });
    }, this.presenceCheckMs);
    presence.unref();
    port.on("data", (chunk: Buffer) => handlers.data(chunk));
    port.on("close", (err: (Error & { disconnected?: boolean }) | null) => {
      clearInterval(presence);
      if (closing) return;
      const detail = err?.disconnected
        ? `device unplugged or gone (${err.message})`
        : "port closed unexpectedly";
      handlers.lost(new TransportDisconnectedError(this.url, detail, { cause: err ?? undefined }));
    });
    return {
      write: (bytes) =>
        new Promise<void>((resolve, reject) => {
          port.write(bytes, (err) => (err ? reject(err) : resolve()));
        }),
      close: () =>
        new Promise<void>((resolve) => {
          closing = true;
          clearInterval(presence);
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        }),
    };
  }

  protected openHint(cause: unknown): string {
    const text = describeError(cause);
    if (/ENOENT|No such file/i.test(text))
      return "check the device path exists (ls -l /dev/serial/by-id/) and the instrument is plugged in and powered";
    if (/EACCES|Permission denied/i.test(text))
      return "give the daemon's user access to the port (add it to the dialout group, then log in again)";
    if (/lock|EBUSY|busy/i.test(text)) return "another process holds the port; stop it or pick another port";
    return "check the path and serial settings in the transport URL";
  }
}

/** Returns "dev:ino:rdev" of the node a path resolves to, or undefined when it does not exist. */
async function deviceIdentity(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return `${info.dev}:${info.ino}:${info.rdev}`;
  } catch {
    return undefined;
  }
}
