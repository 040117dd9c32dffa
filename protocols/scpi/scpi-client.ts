import { waitForQuietLine } from "../exchange/quiet-line.js";
import { ReplyWaiter } from "../exchange/reply-waiter.js";
import { type QueueOwner, TransactionQueue } from "../exchange/transaction-queue.js";
import type { Transport, TransportStateChange } from "../transport/transport.js";
import {
  TransportClosedError,
  TransportDisconnectedError,
  TransportNotConnectedError,
} from "../transport/transport-errors.js";
import { checkIdentity, type IdentityPattern, type InstrumentIdentity, parseIdn } from "./identity.js";
import { LineSplitter } from "./line-splitter.js";
import { ScpiDeviceError, type ScpiErrorEntry, ScpiTimeoutError } from "./scpi-errors.js";
import {
  type ParseNumberOptions,
  type ParseNumbersOptions,
  parseScpiErrors,
  parseScpiNumber,
  parseScpiNumbers,
} from "./scpi-values.js";

export interface ScpiClientOptions {
  /** Appended to every command. Default "\n". */
  writeTerminator?: string;
  /** Ends every reply line. Default "\n" (a trailing "\r" is trimmed, so "\r\n" devices work too). */
  readTerminator?: string;
  /** Reply timeout per query. Default 1000 ms. */
  timeoutMs?: number;
  /**
   * Error-queue query, for devices that have one: "SYST:ERR?" (read until 0,"No error") or
   * "SYST:ERR:ALL?" (one reply listing every error). Unset: the device has no error queue.
   */
  errorQuery?: string;
  /** Whether `errorQuery` returns the whole queue at once. Default: true when it ends in ":ALL?". */
  errorQueryReadsAll?: boolean;
  /** Reads the error queue after every `write` and throws SCPI_DEVICE_ERROR on errors. Default true when `errorQuery` is set. */
  checkErrorsAfterWrite?: boolean;
  /** Minimum time between the end of one command and the start of the next. Default 0. */
  minGapMs?: number;
  /** Silence required before the next command after a timeout or an unexpected line. Default min(timeoutMs, 250) ms. */
  drainMs?: number;
  /**
   * After a timeout or an unexpected line, sends `command` and discards every line until one matching
   * `reply` arrives, before the next command. Instruments answer in order, so every late reply has
   * arrived by then. Default: `*IDN?` expecting the exact identity seen by `identify()`, once it has
   * been called; `false` relies on the quiet period alone.
   */
  resync?: { command: string; reply: string | RegExp } | false;
}

export interface QueryOptions {
  /** Overrides the client's timeout for this query. */
  timeoutMs?: number;
}

const MAX_SINGLE_ERROR_READS = 32;

/**
 * Line-based SCPI over any transport: one command at a time, per-device terminators, reply
 * timeouts naming the command, optional error-queue checks after writes, and late-line protection.
 *
 * Late and unsolicited lines are never taken as the answer to a later query: a line is accepted
 * only while a query waits for it, and after a timeout or any line nobody asked for, the next
 * command waits until the line has been silent for `drainMs` (what arrives meanwhile is discarded).
 */
export class ScpiClient {
  private readonly writeTerminator: string;
  private readonly timeoutMs: number;
  private readonly errorQuery: string | undefined;
  private readonly errorQueryReadsAll: boolean;
  private readonly checkErrorsAfterWrite: boolean;
  private readonly drainMs: number;
  private readonly resyncOption: { command: string; reply: string | RegExp } | false | undefined;
  private identityLine: string | undefined;
  private readonly splitter: LineSplitter;
  private readonly queue = new TransactionQueue();
  private readonly owner: QueueOwner;
  private readonly waiter = new ReplyWaiter<string>();
  private lastReceivedAt = Number.NEGATIVE_INFINITY;
  private dirty = false;
  private dirtySince = Number.NEGATIVE_INFINITY;
  private discarded = 0;
  private disposed = false;

  constructor(
    readonly transport: Transport,
    options: ScpiClientOptions = {},
  ) {
    this.writeTerminator = options.writeTerminator ?? "\n";
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.errorQuery = options.errorQuery;
    this.errorQueryReadsAll = options.errorQueryReadsAll ?? /:ALL\?\s*$/i.test(options.errorQuery ?? "");
    this.checkErrorsAfterWrite = options.checkErrorsAfterWrite ?? options.errorQuery !== undefined;
    this.drainMs = options.drainMs ?? Math.min(this.timeoutMs, 250);
    this.resyncOption = options.resync;
    this.splitter = new LineSplitter(options.readTerminator ?? "\n", this.onLine);
    this.owner = { minGapMs: options.minGapMs ?? 0, label: transport.url };
    transport.on("data", this.onData);
    transport.on("state", this.onState);
  }

  /** Sends a query and resolves with its reply line (trimmed). */
  query(command: string, options: QueryOptions = {}): Promise<string> {
    return this.queue.run(this.owner, () => this.exchange(command, options.timeoutMs ?? this.timeoutMs));
  }

  /** Sends a command without a reply; then reads the error queue when configured and throws SCPI_DEVICE_ERROR on errors. */
  write(command: string): Promise<void> {
    return this.queue.run(this.owner, async () => {
      await this.send(command);
      if (this.checkErrorsAfterWrite && this.errorQuery !== undefined) {
        const errors = await this.readErrorsNow();
        if (errors.length > 0) throw new ScpiDeviceError(command, errors);
      }
    });
  }

  /** Queries and parses one number, dropping its unit (`"48.00 V"` → 48). */
  async queryNumber(command: string, options: ParseNumberOptions & QueryOptions = {}): Promise<number> {
    return parseScpiNumber(await this.query(command, options), { ...options, command });
  }

  /** Queries and parses a comma-separated list (`"48.00 V, 2.00 A, 96.00 W"` → [48, 2, 96]). */
  async queryNumbers(command: string, options: ParseNumbersOptions & QueryOptions = {}): Promise<number[]> {
    return parseScpiNumbers(await this.query(command, options), { ...options, command });
  }

  /** Reads and empties the error queue; [] when the device has none configured or reports no error. */
  readErrors(): Promise<ScpiErrorEntry[]> {
    return this.queue.run(this.owner, () => this.readErrorsNow());
  }

  /** Queries `*IDN?` and, when `expected` is given, throws IDENTITY_MISMATCH naming what answered. */
  async identify(expected?: IdentityPattern): Promise<InstrumentIdentity> {
    const identity = parseIdn(await this.query("*IDN?"));
    if (expected) checkIdentity(identity, expected, `*IDN? on ${this.transport.url}`);
    this.identityLine = identity.raw;
    return identity;
  }

  /** Lines received that no query was waiting for (late replies, unsolicited messages). */
  get discardedLines(): number {
    return this.discarded;
  }

  /** Detaches from the transport (does not close it) and rejects commands not yet sent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.transport.off("data", this.onData);
    this.transport.off("state", this.onState);
    const error = new TransportNotConnectedError(this.transport.url, "no longer used by this SCPI client");
    this.queue.rejectWaiting(error);
    this.waiter.fail(error);
  }

  private async exchange(command: string, timeoutMs: number): Promise<string> {
    await this.settle(command, timeoutMs);
    return this.ask(command, timeoutMs);
  }

  private async ask(command: string, timeoutMs: number, accept?: (line: string) => boolean): Promise<string> {
    const reply = this.waiter.wait({
      timeoutMs,
      timeoutError: () => new ScpiTimeoutError(command, timeoutMs, this.transport.url),
      accept,
    });
    void this.transport.write(Buffer.from(command + this.writeTerminator, "latin1")).catch((err: unknown) => {
      this.waiter.fail(err);
    });
    try {
      return await reply;
    } catch (err) {
      this.markDirty();
      throw err;
    }
  }

  private async send(command: string): Promise<void> {
    await this.settle(command, this.timeoutMs);
    await this.transport.write(Buffer.from(command + this.writeTerminator, "latin1"));
  }

  private async readErrorsNow(): Promise<ScpiErrorEntry[]> {
    const command = this.errorQuery;
    if (command === undefined) return [];
    if (this.errorQueryReadsAll)
      return parseScpiErrors(await this.exchange(command, this.timeoutMs), command);
    const errors: ScpiErrorEntry[] = [];
    for (let i = 0; i < MAX_SINGLE_ERROR_READS; i++) {
      const entries = parseScpiErrors(await this.exchange(command, this.timeoutMs), command);
      if (entries.length === 0) break;
      errors.push(...entries);
    }
    return errors;
  }

  /** Refuses to send while disconnected; after anything unexpected, drains the line and resynchronises. */
  private async settle(nextCommand: string, timeoutMs: number): Promise<void> {
    if (this.disposed)
      throw new TransportNotConnectedError(this.transport.url, "no longer used by this SCPI client");
    if (this.transport.state !== "connected")
      throw new TransportNotConnectedError(this.transport.url, this.transport.state);
    if (!this.dirty && !this.splitter.partial) return;
    await waitForQuietLine(
      () => Math.max(this.lastReceivedAt, this.dirtySince),
      this.drainMs,
      this.drainMs * 20,
    );
    this.splitter.reset();
    const resync =
      this.resyncOption ?? (this.identityLine ? { command: "*IDN?", reply: this.identityLine } : false);
    if (resync !== false) {
      const { command, reply } = resync;
      const matches = (line: string) => (typeof reply === "string" ? line === reply : reply.test(line));
      try {
        await this.ask(command, timeoutMs, matches);
      } catch (err) {
        if (err instanceof ScpiTimeoutError)
          throw new ScpiTimeoutError(
            command,
            timeoutMs,
            this.transport.url,
            `sent to resynchronise before "${nextCommand}"`,
          );
        throw err;
      }
    }
    this.dirty = false;
  }

  private markDirty(): void {
    this.dirty = true;
    this.dirtySince = performance.now();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastReceivedAt = performance.now();
    this.splitter.push(chunk);
  };

  private readonly onLine = (line: string): void => {
    if (!this.waiter.offer(line)) {
      this.discarded++;
      this.markDirty();
    }
  };

  private readonly onState = (change: TransportStateChange): void => {
    if (change.state === "connected") {
      // A new link may lead to another instrument: resync on *IDN? only after identify() confirms it again.
      this.splitter.reset();
      this.dirty = false;
      this.identityLine = undefined;
    } else if (change.state === "disconnected") {
      this.splitter.reset();
      this.waiter.fail(change.error ?? new TransportDisconnectedError(this.transport.url, "link lost"));
    } else if (change.state === "closed") {
      this.splitter.reset();
      this.waiter.fail(new TransportClosedError(this.transport.url));
    }
  };
}
