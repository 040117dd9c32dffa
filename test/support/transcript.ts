// Transcript harness for driver tests (pymeasure `expected_protocol` style): a scripted instrument on
// the device end of a memory pair answers exactly the exchanges listed, in order. Any command that is
// not the next one expected fails the test at once; any exchange left unconsumed fails it at the end.
import { isDeepStrictEqual } from "node:util";
import {
  createMemoryPair,
  decodeRtuRequest,
  decodeTcpRequest,
  describeRequest,
  encodeRtuResponse,
  encodeTcpResponse,
  type MemoryPair,
  type ModbusRequest,
  type ModbusResponse,
  type TcpFrame,
  type Transport,
} from "../../protocols/index.js";

/** What a scripted line instrument answers: one line, several lines, or nothing (`null`/omitted). */
export type LineReply = string | readonly string[] | null;

/**
 * One SCPI/ASCII exchange: `["MEAS:VOLT?", "4.1012 V"]`, `["OUTP OFF"]` (no reply), or the object form
 * to delay the reply or match the command by pattern.
 */
export type LineExchange =
  | readonly [command: string, reply?: LineReply]
  | { readonly command: string | RegExp; readonly reply?: LineReply; readonly delayMs?: number };

/**
 * One Modbus exchange: the request expected (unit defaults to the transcript's `unit`) and the response
 * sent back, or `response: null` for silence, or `raw` bytes sent instead (bad CRC, wrong unit, garbage).
 */
export interface ModbusExchange {
  readonly unit?: number;
  readonly request: ModbusRequest;
  readonly response?: ModbusResponse | null;
  readonly raw?: Uint8Array;
  readonly delayMs?: number;
}

export interface TranscriptOptions {
  /** Name of the memory pair; the driver reaches it as `memory://<name>`. Default: a unique name. */
  name?: string;
  /** Quiet time waited before the final check, so trailing commands are seen. Default 20 ms. */
  settleMs?: number;
  /** Splits every write into chunks of this many bytes (exercises framing). */
  chunkSize?: number;
}

export interface LineTranscriptOptions extends TranscriptOptions {
  /** Terminator the instrument expects after each command. Default "\n". */
  readTerminator?: string;
  /** Terminator appended to each reply line. Default: `readTerminator`. */
  writeTerminator?: string;
  /**
   * Exchanges answered whenever they arrive, outside the scripted order and any number of times (e.g.
   * `["SYST:ERR:ALL?", '0,"No error"']`). They are still recorded in `received`.
   */
  always?: readonly LineExchange[];
}

export interface ModbusTranscriptOptions extends TranscriptOptions {
  framing: "rtu" | "tcp";
  /** Unit id of exchanges that name none. Default 1. */
  unit?: number;
}

/** A running scripted instrument. */
export interface Transcript {
  /** URL a driver passes to createTransport (`memory://<name>`). */
  readonly url: string;
  /** The host end (what createTransport(url) returns). */
  readonly host: Transport;
  /** The pair, for unplug()/plug() tests. */
  readonly pair: MemoryPair;
  /** Every command received, in order (lines, or Modbus requests described like `[unit=1 fc=03 addr=500 n=1]`). */
  readonly received: readonly string[];
  /** Number of scripted exchanges not yet consumed. */
  remaining(): number;
  /** First mismatch seen, if any. */
  readonly failure: Error | undefined;
  /** Rejects with the first mismatch (never resolves otherwise); race a body against it. */
  readonly failed: Promise<never>;
  /** Appends exchanges to the script (for tests that learn the next step late). */
  extend(exchanges: readonly (LineExchange | ModbusExchange)[]): void;
  /** Waits `settleMs` of quiet, then throws on a mismatch or on unconsumed exchanges. */
  finish(): Promise<void>;
  /** Closes both ends and frees the name. */
  dispose(): Promise<void>;
}

let anonymous = 0;

/** Starts a scripted line (SCPI/ASCII) instrument on a new memory pair; its device end is open on return. */
export async function startLineTranscript(
  exchanges: readonly LineExchange[],
  options: LineTranscriptOptions = {},
): Promise<Transcript> {
  const readTerminator = options.readTerminator ?? "\n";
  const writeTerminator = options.writeTerminator ?? readTerminator;
  const always = (options.always ?? []).map(normalizeLine);
  let buffer = "";
  const core = new TranscriptCore<NormalizedLine>(exchanges.map(normalizeLine), options, {
    onData(chunk) {
      buffer += chunk.toString("latin1");
      for (;;) {
        const end = buffer.indexOf(readTerminator);
        if (end < 0) break;
        const command = buffer.slice(0, end);
        buffer = buffer.slice(end + readTerminator.length);
        core.enqueue(() => answerLine(command));
      }
    },
    onReset() {
      buffer = "";
    },
    leftover: () => (buffer.length > 0 ? `unterminated bytes ${JSON.stringify(buffer)}` : undefined),
    describe: (e) => `${String(e.command)} -> ${JSON.stringify(e.reply)}`,
    normalize: (e) => normalizeLine(e as LineExchange),
  });

  const answerLine = async (command: string): Promise<void> => {
    core.record(command);
    const background = always.find((e) => matches(e.command, command));
    const expected = background ?? core.next();
    if (expected === undefined)
      return core.fail(`unexpected command ${JSON.stringify(command)}: script is exhausted`);
    if (!matches(expected.command, command))
      return core.fail(
        `unexpected command ${JSON.stringify(command)}; expected ${JSON.stringify(String(expected.command))} ` +
          `(exchange ${core.position} of ${core.total})`,
      );
    if (background === undefined) core.consume();
    if (expected.delayMs > 0) await sleep(expected.delayMs);
    for (const line of expected.reply) await core.send(Buffer.from(line + writeTerminator, "latin1"));
  };

  return core.start();
}

/** Starts a scripted Modbus server on a new memory pair; requests are compared after decoding. */
export async function startModbusTranscript(
  exchanges: readonly ModbusExchange[],
  options: ModbusTranscriptOptions,
): Promise<Transcript> {
  const defaultUnit = options.unit ?? 1;
  let buffer = Buffer.alloc(0);
  const core = new TranscriptCore<ModbusExchange>(exchanges, options, {
    onData(chunk) {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const result = options.framing === "rtu" ? decodeRtuRequest(buffer) : decodeTcpRequest(buffer);
        if (result === null) return;
        buffer = buffer.subarray(result.length);
        if (!result.ok) {
          core.fail(`undecodable request: ${result.error.message}`);
          continue;
        }
        const frame = result.frame;
        const transactionId = "transactionId" in frame ? (frame as TcpFrame<ModbusRequest>).transactionId : 0;
        core.enqueue(() => answerModbus(frame.unit, frame.pdu, transactionId));
      }
    },
    onReset() {
      buffer = Buffer.alloc(0);
    },
    leftover: () => (buffer.length > 0 ? `incomplete frame ${buffer.toString("hex")}` : undefined),
    describe: (e) => describeRequest(e.unit ?? defaultUnit, e.request),
    normalize: (e) => e as ModbusExchange,
  });

  const answerModbus = async (unit: number, request: ModbusRequest, transactionId: number): Promise<void> => {
    const described = describeRequest(unit, request);
    core.record(described);
    const expected = core.next();
    if (expected === undefined) return core.fail(`unexpected request ${described}: script is exhausted`);
    const expectedUnit = expected.unit ?? defaultUnit;
    if (
      expectedUnit !== unit ||
      !isDeepStrictEqual(normalizeRequest(expected.request), normalizeRequest(request))
    )
      return core.fail(
        `unexpected request ${described} ${JSON.stringify(request)}; expected ` +
          `${describeRequest(expectedUnit, expected.request)} ${JSON.stringify(expected.request)} ` +
          `(exchange ${core.position} of ${core.total})`,
      );
    core.consume();
    if ((expected.delayMs ?? 0) > 0) await sleep(expected.delayMs ?? 0);
    if (expected.raw !== undefined) return core.send(Buffer.from(expected.raw));
    if (expected.response === null || expected.response === undefined) return;
    const bytes =
      options.framing === "rtu"
        ? encodeRtuResponse(unit, expected.response)
        : encodeTcpResponse(transactionId, unit, expected.response);
    await core.send(bytes);
  };

  return core.start();
}

/**
 * Runs `body` against a scripted line instrument and fails on any unexpected command (at once, even
 * while the body waits for a reply) and on any exchange left unconsumed when the body returns.
 */
export async function expectExchange<T>(
  exchanges: readonly LineExchange[],
  body: (transcript: Transcript) => Promise<T>,
  options: LineTranscriptOptions = {},
): Promise<T> {
  return runTranscript(await startLineTranscript(exchanges, options), body);
}

/** Runs `body` against a scripted Modbus server; same failure rules as expectExchange. */
export async function expectModbusExchange<T>(
  exchanges: readonly ModbusExchange[],
  body: (transcript: Transcript) => Promise<T>,
  options: ModbusTranscriptOptions,
): Promise<T> {
  return runTranscript(await startModbusTranscript(exchanges, options), body);
}

async function runTranscript<T>(
  transcript: Transcript,
  body: (transcript: Transcript) => Promise<T>,
): Promise<T> {
  try {
    const result = await Promise.race([body(transcript), transcript.failed]).catch((err: unknown) => {
      // A mismatch explains a body failure (e.g. a timeout waiting for a reply that was never scripted).
      throw transcript.failure ?? err;
    });
    await transcript.finish();
    return result;
  } finally {
    await transcript.dispose();
  }
}

interface NormalizedLine {
  command: string | RegExp;
  reply: readonly string[];
  delayMs: number;
}

function normalizeLine(exchange: LineExchange): NormalizedLine {
  const { command, reply, delayMs } = Array.isArray(exchange)
    ? { command: exchange[0] as string, reply: exchange[1] as LineReply | undefined, delayMs: 0 }
    : (exchange as Exclude<LineExchange, readonly unknown[]>);
  const lines = reply === null || reply === undefined ? [] : typeof reply === "string" ? [reply] : [...reply];
  return { command, reply: lines, delayMs: delayMs ?? 0 };
}

function matches(expected: string | RegExp, command: string): boolean {
  return typeof expected === "string" ? expected === command : expected.test(command);
}

// Coil values are booleans after decoding; register values are compared as unsigned 16-bit words.
function normalizeRequest(request: ModbusRequest): ModbusRequest {
  if ("values" in request && request.functionCode === 0x10)
    return { ...request, values: request.values.map((v) => v & 0xffff) };
  if (request.functionCode === 0x06) return { ...request, value: request.value & 0xffff };
  return request;
}

interface CoreHooks<E> {
  onData(chunk: Buffer): void;
  onReset(): void;
  leftover(): string | undefined;
  describe(exchange: E): string;
  normalize(exchange: LineExchange | ModbusExchange): E;
}

class TranscriptCore<E> {
  readonly received: string[] = [];
  failure: Error | undefined;
  readonly failed: Promise<never>;
  private rejectFailed!: (err: Error) => void;
  private readonly script: E[];
  private consumed = 0;
  private work: Promise<void> = Promise.resolve();
  private lastActivity = Date.now();
  private readonly pair: MemoryPair;

  constructor(
    exchanges: readonly E[],
    private readonly options: TranscriptOptions,
    private readonly hooks: CoreHooks<E>,
  ) {
    this.script = [...exchanges];
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => undefined);
    this.pair = createMemoryPair({
      name: options.name ?? `transcript-${process.pid}-${++anonymous}`,
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    });
    this.pair.device.on("data", (chunk) => {
      this.lastActivity = Date.now();
      this.hooks.onData(chunk);
    });
    this.pair.device.on("state", (change) => {
      if (change.state !== "connected") this.hooks.onReset();
    });
  }

  get position(): number {
    return this.consumed + 1;
  }

  get total(): number {
    return this.script.length;
  }

  next(): E | undefined {
    return this.script[this.consumed];
  }

  consume(): void {
    this.consumed++;
  }

  record(command: string): void {
    this.received.push(command);
  }

  /** Processes commands strictly one after another, like an instrument's parser. */
  enqueue(task: () => Promise<void>): void {
    this.work = this.work
      .then(task)
      .catch((err: unknown) => this.fail(`scripted instrument crashed: ${String(err)}`));
  }

  async send(bytes: Buffer): Promise<void> {
    this.lastActivity = Date.now();
    await this.pair.device.write(bytes).catch(() => undefined);
  }

  fail(message: string): void {
    if (this.failure !== undefined) return;
    const seen = this.received
      .slice(-5)
      .map((c) => `  ${c}`)
      .join("\n");
    this.failure = new Error(`Transcript mismatch: ${message}\nlast commands received:\n${seen}`);
    this.rejectFailed(this.failure);
  }

  async start(): Promise<Transcript> {
    await this.pair.device.open({ signal: AbortSignal.timeout(2000) });
    const core = this;
    const pair = this.pair;
    return {
      url: pair.host.url,
      host: pair.host,
      pair,
      get received() {
        return core.received;
      },
      remaining: () => core.script.length - core.consumed,
      get failure() {
        return core.failure;
      },
      failed: this.failed,
      extend: (more) => {
        core.script.push(...more.map((e) => core.hooks.normalize(e)));
      },
      finish: () => core.finish(),
      dispose: () => pair.dispose(),
    };
  }

  async finish(): Promise<void> {
    // Bytes the body wrote last are still on the memory cable (delivered on setImmediate): let them land.
    await new Promise((resolve) => setImmediate(resolve));
    const settleMs = this.options.settleMs ?? 20;
    const deadline = Date.now() + 5000;
    while (Date.now() - this.lastActivity < settleMs && Date.now() < deadline) await sleep(settleMs);
    await this.work;
    if (this.failure !== undefined) throw this.failure;
    const leftover = this.hooks.leftover();
    if (leftover !== undefined) this.fail(leftover);
    const left = this.script.slice(this.consumed);
    if (left.length > 0)
      this.fail(
        `${left.length} exchange(s) not consumed:\n${left
          .slice(0, 10)
          .map((e) => `  ${this.hooks.describe(e)}`)
          .join("\n")}`,
      );
    if (this.failure !== undefined) throw this.failure;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
