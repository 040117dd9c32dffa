/**
 * The link side shared by the emulators of instruments that talk in text lines (EA PSB and ITECH
 * IT-M3400 on SCPI, Espec P300): commands end in `\n` (a trailing `\r` is ignored, blank lines are
 * skipped) and are served strictly in order per connection, like an instrument's parser; replies go
 * out with the link-level fault knobs and, under link timing, after the time both lines' characters
 * take on the wire (8N1: 10 bits each) plus the device's turnaround. Each emulator keeps the knobs
 * that concern its commands (timeout, SCPI error, Espec NA).
 *
 * Link-level knobs (emulator-faults.ts):
 *   disconnect  the link is cut for `forMs` (default 1000 ms): TCP clients are dropped, a pty or
 *               memory link goes deaf and mute
 *   garbage     `bytes` random printable characters (default 12) and the terminator instead of the reply
 *   lateReply   the reply comes `delayMs` late (default 1500 ms); later commands wait behind it
 */
import type { Transport } from "../../protocols/transport/transport.js";
import type { FaultDeck, FaultRate } from "./emulator-faults.js";
import { type EmulatorConnection, type EmulatorListener, listenForEmulator } from "./emulator-listener.js";
import { charTimeMs, type LinkTiming, waitUntil } from "./link-timing.js";

/** The knobs an ASCII line link fires itself; an emulator's fault deck has these and its own. */
export interface AsciiLinkFaults {
  disconnect?: FaultRate & { forMs?: number };
  garbage?: FaultRate & { bytes?: number };
  lateReply?: FaultRate & { delayMs?: number };
}

/** One command line as received: its text without the terminator and when its chunk arrived. */
export interface ReceivedLine {
  readonly connection: EmulatorConnection;
  readonly line: string;
  /** performance.now() when the chunk that completed the line arrived. */
  readonly receivedAt: number;
}

export interface AsciiLineLinkOptions<F extends AsciiLinkFaults> {
  listen: string | Transport;
  faults: FaultDeck<F>;
  timing: LinkTiming;
  /** What ends a reply on the wire: `\n` (SCPI) or `\r\n` (Espec). */
  terminator: "\n" | "\r\n";
  /** Serves one line; a connection's next line waits until this settles. */
  serve(received: ReceivedLine): Promise<void>;
}

export class AsciiLineLink<F extends AsciiLinkFaults> {
  private listener: EmulatorListener | undefined;
  /** Text received after the last complete line, per connection. */
  private readonly pending = new Map<number, string>();
  /** The line being served and those queued behind it, per connection. */
  private readonly chains = new Map<number, Promise<void>>();
  private baudRate: number;
  private isStopped = false;

  constructor(private readonly options: AsciiLineLinkOptions<F>) {
    this.baudRate = options.timing.baudRate;
  }

  /** Where the link listens (empty before start). */
  get url(): string {
    return this.listener?.url ?? "";
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.isStopped;
  }

  async start(): Promise<void> {
    this.listener = await listenForEmulator(
      this.options.listen,
      {
        data: (connection, chunk) => this.onData(connection, chunk),
        closed: (connection) => {
          this.pending.delete(connection.id);
          this.chains.delete(connection.id);
        },
      },
      { defaultBaud: this.options.timing.baudRate },
    );
    this.baudRate = this.listener.baudRate ?? this.options.timing.baudRate;
  }

  /** Stops listening; replies still waiting are not sent. Idempotent. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    await this.listener?.stop();
  }

  /** Cuts the link for `ms`. */
  disconnectFor(ms: number): void {
    this.listener?.disconnectFor(ms);
  }

  /** True while a cut (disconnectFor or the `disconnect` knob) is in force. */
  get cut(): boolean {
    return this.listener?.cut ?? false;
  }

  /** Cuts the link when the `disconnect` knob fires; returns true when it did (the line goes unanswered). */
  disconnectOnFault(): boolean {
    const cut = this.options.faults.fire("disconnect");
    if (cut) this.disconnectFor(cut.forMs ?? 1000);
    return cut !== undefined;
  }

  /**
   * Sends `reply` to a received line after the `garbage` and `lateReply` knobs and the link timing;
   * sends nothing once stopped.
   */
  async reply(received: ReceivedLine, reply: string): Promise<void> {
    const { faults, timing, terminator } = this.options;
    let text = reply;
    const garbage = faults.fire("garbage");
    if (garbage)
      text = Array.from({ length: garbage.bytes ?? 12 }, () =>
        String.fromCharCode(33 + faults.randomInt(90)),
      ).join("");
    const late = faults.fire("lateReply");
    let deadline = received.receivedAt + (late ? (late.delayMs ?? 1500) : 0);
    if (timing.linkTiming) {
      const characters = received.line.length + terminator.length + text.length + terminator.length;
      deadline += characters * charTimeMs(this.baudRate, 10) + timing.turnaroundMs;
    }
    await waitUntil(deadline);
    if (!this.isStopped) received.connection.write(Buffer.from(`${text}${terminator}`, "latin1"));
  }

  private onData(connection: EmulatorConnection, chunk: Buffer): void {
    const receivedAt = performance.now();
    let text = (this.pending.get(connection.id) ?? "") + chunk.toString("latin1");
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
      const line = text.slice(0, end).replace(/\r$/, "");
      text = text.slice(end + 1);
      if (line.trim() === "") continue;
      const previous = this.chains.get(connection.id) ?? Promise.resolve();
      this.chains.set(
        connection.id,
        previous.then(() => this.options.serve({ connection, line, receivedAt })).catch(() => undefined),
      );
    }
    this.pending.set(connection.id, text.length > 4096 ? "" : text);
  }
}
