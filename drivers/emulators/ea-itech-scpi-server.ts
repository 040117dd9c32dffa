/**
 * The SCPI side shared by the EA PSB and ITECH IT-M3400 emulators: lines ending in `\n` (a trailing
 * `\r` is ignored), processed strictly in order per connection like an instrument's parser
 * (ascii-line-link.ts), an error queue (`SYST:ERR?` one entry at a time, `SYST:ERR:ALL?` all of them,
 * `*CLS`), header normalisation (long and short forms, optional `SOURce`, `[:IMMediate][:AMPLitude]`,
 * `OUTPut[:STATe]`), fault knobs and optional link timing. Each emulator supplies `execute()` for its
 * own command set.
 *
 * Fault knobs (emulator-faults.ts: `{ next: N }`, `{ probability: p }` or `true`):
 *   timeout     a query gets no reply (the command itself is carried out)
 *   garbage     a query gets `bytes` random printable characters (default 12) and `\n` instead of its reply
 *   lateReply   a query's reply comes `delayMs` late (default 1500 ms); later commands wait behind it
 *   error       a setting is refused: error `code`,"`message`" (default -222,"Data out of range")
 *               goes into the error queue and nothing changes
 *   disconnect  the link is cut for `forMs` (default 1000 ms): TCP clients are dropped, a pty or
 *               memory link goes deaf and mute
 */
import type { ScpiErrorEntry } from "../../protocols/scpi/scpi-errors.js";
import type { Transport } from "../../protocols/transport/transport.js";
import { AsciiLineLink, type ReceivedLine } from "./ascii-line-link.js";
import type { FaultDeck, FaultRate, KnobParams } from "./emulator-faults.js";
import type { LinkTiming } from "./link-timing.js";

export interface ScpiFaults {
  timeout?: FaultRate;
  garbage?: FaultRate & { bytes?: number };
  lateReply?: FaultRate & { delayMs?: number };
  error?: FaultRate & { code?: number; message?: string };
  disconnect?: FaultRate & { forMs?: number };
}

export const SCPI_FAULT_KNOBS: { readonly [K in keyof ScpiFaults]-?: KnobParams } = {
  timeout: {},
  garbage: { bytes: { min: 1, max: 256, integer: true } },
  lateReply: { delayMs: { min: 0, max: 600_000 } },
  error: { code: { min: -999, max: 999, integer: true }, message: "text" },
  disconnect: { forMs: { min: 0, max: 600_000 } },
};

/** An instrument's refusal of a command: the entry it puts in its error queue. */
export class ScpiRefusal extends Error {
  constructor(
    readonly code: number,
    readonly scpiMessage: string,
  ) {
    super(`${code},"${scpiMessage}"`);
  }
}

export const UNDEFINED_HEADER = (): ScpiRefusal => new ScpiRefusal(-113, "Undefined header");
export const DATA_OUT_OF_RANGE = (): ScpiRefusal => new ScpiRefusal(-222, "Data out of range");
export const DATA_TYPE_ERROR = (): ScpiRefusal => new ScpiRefusal(-104, "Data type error");

/** A command after normalisation: `SOURce:VOLTage:LEVel 4.2` → header `VOLT`, argument `4.2`. */
export interface ScpiCommand {
  /** Canonical short-form header without the `?`, e.g. `VOLT`, `SINK:CURR`, `MEAS:ARR`, `*IDN`. */
  header: string;
  query: boolean;
  /** Argument text after the header, trimmed ("" when none). */
  argument: string;
  /** The line as received. */
  raw: string;
}

/** Long forms the emulators understand, with their short forms. */
const SHORT_FORMS: Record<string, string> = {
  SOURCE: "SOUR",
  VOLTAGE: "VOLT",
  CURRENT: "CURR",
  POWER: "POW",
  MEASURE: "MEAS",
  OUTPUT: "OUTP",
  SYSTEM: "SYST",
  ERROR: "ERR",
  NOMINAL: "NOM",
  OWNER: "OWN",
  ARRAY: "ARR",
  CONFIGURE: "CONF",
  CONFIG: "CONF",
  LIMIT: "LIM",
  POSITIVE: "POS",
  NEGATIVE: "NEG",
  FUNCTION: "FUNC",
  REMOTE: "REM",
  LOCAL: "LOC",
  SENSE: "SENS",
  STATE: "STAT",
  IMMEDIATE: "IMM",
  AMPLITUDE: "AMPL",
  LEVEL: "LEV",
  PROTECTION: "PROT",
  SCALAR: "SCAL",
  STATUS: "STAT",
  QUESTIONABLE: "QUES",
  CONDITION: "COND",
  EVENT: "EVEN",
  OPERATION: "OPER",
  CLEAR: "CLE",
  ALARM: "ALAR",
  COUNT: "COUN",
  OVOLTAGE: "OVOL",
  OCURRENT: "OCUR",
  OPOWER: "OPOW",
  OTEMPERATURE: "OTEM",
  PFAIL: "PFA",
};

/** Splits and normalises one command line. */
export function parseScpiCommand(line: string): ScpiCommand {
  const raw = line.trim();
  const space = raw.search(/\s/);
  const headerText = (space < 0 ? raw : raw.slice(0, space)).replace(/^:/, "").toUpperCase();
  const argument = space < 0 ? "" : raw.slice(space).trim();
  const query = headerText.endsWith("?");
  let nodes = headerText
    .replace(/\?$/, "")
    .split(":")
    .map((node) => SHORT_FORMS[node] ?? node);
  if (nodes[0] === "SOUR" && nodes.length > 1) nodes = nodes.slice(1);
  while (nodes.length > 1 && ["IMM", "AMPL", "LEV", "SCAL"].includes(nodes[nodes.length - 1] as string))
    nodes = nodes.slice(0, -1);
  if (nodes[0] === "OUTP" && nodes[1] === "STAT") nodes = ["OUTP"];
  return { header: nodes.join(":"), query, argument, raw };
}

/** Parses a numeric argument with an optional unit (`4.2`, `4.2V`, `-3 A`); throws -104 otherwise. */
export function numberArgument(argument: string, unit?: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)$/.exec(argument.trim());
  if (!m || (m[2] !== "" && unit !== undefined && m[2]!.toUpperCase() !== unit.toUpperCase()))
    throw DATA_TYPE_ERROR();
  return Number(m[1]);
}

/** Parses ON/OFF/1/0; throws -104 otherwise. */
export function booleanArgument(argument: string): boolean {
  const a = argument.trim().toUpperCase();
  if (a === "ON" || a === "1") return true;
  if (a === "OFF" || a === "0") return false;
  throw DATA_TYPE_ERROR();
}

export interface ScpiServerOptions {
  /** Emulator name, for messages. */
  name: string;
  listen: string | Transport;
  /** Returns the reply of a query (undefined: none), or carries out a setting; throws ScpiRefusal to refuse. */
  execute(command: ScpiCommand): string | undefined;
  faults: FaultDeck<ScpiFaults>;
  timing: LinkTiming;
  /** Error-queue query forms the instrument knows. */
  errorQueryAll: boolean;
  /** Called after every read of the error queue (an EA PSB acknowledges alarms then). */
  onErrorQueueRead?: () => void;
}

export class EmulatedScpiServer {
  /** Every command line received, in order. */
  readonly commands: string[] = [];
  /** The instrument's error queue (oldest first). */
  readonly errorQueue: ScpiErrorEntry[] = [];
  private readonly link: AsciiLineLink<ScpiFaults>;

  constructor(private readonly options: ScpiServerOptions) {
    this.link = new AsciiLineLink({
      listen: options.listen,
      faults: options.faults,
      timing: options.timing,
      terminator: "\n",
      serve: (received) => this.serve(received),
    });
  }

  get url(): string {
    return this.link.url;
  }

  /** Puts an entry into the error queue (as if a command had been refused). */
  pushError(code: number, message: string): void {
    this.errorQueue.push({ code, message });
    if (this.errorQueue.length > 32) this.errorQueue.splice(0, this.errorQueue.length - 32);
  }

  /** Cuts the link for `ms`. */
  disconnectFor(ms: number): void {
    this.link.disconnectFor(ms);
  }

  /** True while a cut (disconnectFor or the `disconnect` knob) is in force. */
  get cut(): boolean {
    return this.link.cut;
  }

  async start(): Promise<void> {
    await this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
  }

  private async serve(received: ReceivedLine): Promise<void> {
    if (this.link.stopped) return;
    this.commands.push(received.line);
    if (this.link.disconnectOnFault()) return;
    const command = parseScpiCommand(received.line);
    let reply: string | undefined;
    try {
      reply = this.respond(command);
    } catch (err) {
      if (!(err instanceof ScpiRefusal)) throw err;
      this.pushError(err.code, err.scpiMessage);
      return;
    }
    if (reply === undefined || !command.query) return;
    if (this.options.faults.fire("timeout")) return;
    await this.link.reply(received, reply);
  }

  private respond(command: ScpiCommand): string | undefined {
    const { header, query } = command;
    if (header === "SYST:ERR" && query) {
      const next = this.errorQueue.shift();
      this.options.onErrorQueueRead?.();
      return next ? `${next.code},"${next.message}"` : '0,"No error"';
    }
    if (header === "SYST:ERR:ALL" && query && this.options.errorQueryAll) {
      const all = this.errorQueue.splice(0);
      this.options.onErrorQueueRead?.();
      return all.length > 0 ? all.map((e) => `${e.code},"${e.message}"`).join(",") : '0,"No error"';
    }
    if (header === "*CLS" && !query) {
      this.errorQueue.length = 0;
      return undefined;
    }
    if (!query && !header.startsWith("*")) {
      const refused = this.options.faults.fire("error");
      if (refused) throw new ScpiRefusal(refused.code ?? -222, refused.message ?? "Data out of range");
    }
    const reply = this.options.execute(command);
    if (query && reply === undefined) throw UNDEFINED_HEADER();
    return reply;
  }
}
