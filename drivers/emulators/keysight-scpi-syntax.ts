/**
 * SCPI syntax as the Keysight 34970A/DAQ970A documents it, for its emulator: headers written the way
 * the manuals print them (`[SENSe:]TEMPerature:TRANsducer:TCouple:CHECk`: upper case is the short form,
 * the whole word the long form, either accepted in any case, brackets optional), arguments separated
 * by commas, channel lists `(@101,103:105)` [34970A User's Guide ch.4 "Rules for Using a Channel List":
 * a range may contain invalid channels, which are ignored, but its first and last must be valid].
 */

/** A refusal: the entry the instrument puts in its error queue (SCPI-99 standard error numbers). */
export class DaqRefusal extends Error {
  constructor(
    readonly code: number,
    readonly scpiMessage: string,
  ) {
    super(`${code},"${scpiMessage}"`);
  }
}

export const undefinedHeader = (): DaqRefusal => new DaqRefusal(-113, "Undefined header");
export const missingParameter = (): DaqRefusal => new DaqRefusal(-109, "Missing parameter");
export const illegalParameter = (): DaqRefusal => new DaqRefusal(-224, "Illegal parameter value");
export const dataOutOfRange = (): DaqRefusal => new DaqRefusal(-222, "Data out of range");
export const dataTypeError = (): DaqRefusal => new DaqRefusal(-104, "Data type error");
export const settingsConflict = (): DaqRefusal => new DaqRefusal(-221, "Settings conflict");

interface PatternNode {
  short: string;
  long: string;
  optional: boolean;
}

/** A documented header, ready to match received headers against. */
export interface HeaderPattern {
  readonly text: string;
  readonly query: boolean;
  readonly nodes: readonly PatternNode[];
}

/** Compiles a header as printed in the manual, e.g. `[SENSe:]TEMPerature:TRANsducer:TCouple:CHECk?`. */
export function headerPattern(text: string): HeaderPattern {
  const query = text.endsWith("?");
  const nodes: PatternNode[] = [];
  for (const match of (query ? text.slice(0, -1) : text).matchAll(/(\[)?:?([*A-Za-z0-9]+)\]?/g)) {
    const word = match[2]!;
    const short = word.startsWith("*") ? word : word.replace(/[a-z0-9]+$/, "");
    nodes.push({ short: short.toUpperCase(), long: word.toUpperCase(), optional: match[1] === "[" });
  }
  return { text, query, nodes };
}

/** Returns true when a received header (`sens:temp:tran:tc:chec`, without `?`) is `pattern`. */
export function matchesHeader(pattern: HeaderPattern, header: string, query: boolean): boolean {
  if (pattern.query !== query) return false;
  const words = header.replace(/^:/, "").toUpperCase().split(":");
  const match = (p: number, w: number): boolean => {
    if (p === pattern.nodes.length) return w === words.length;
    const node = pattern.nodes[p]!;
    const word = words[w];
    if (word !== undefined && (word === node.short || word === node.long) && match(p + 1, w + 1)) return true;
    return node.optional && match(p + 1, w);
  };
  return match(0, 0);
}

/** One received command: its header, whether it is a query, and its arguments (top-level commas). */
export interface ReceivedCommand {
  header: string;
  query: boolean;
  args: string[];
}

/** Splits a command line into header and arguments; commas inside parentheses stay in one argument. */
export function splitCommand(line: string): ReceivedCommand {
  const text = line.trim();
  const space = text.search(/\s/);
  const headerText = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? "" : text.slice(space).trim();
  const args: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of rest) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      args.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (rest !== "") args.push(current.trim());
  const query = headerText.endsWith("?");
  return { header: query ? headerText.slice(0, -1) : headerText, query, args };
}

/**
 * Parses a channel list `(@101,103:105)` into channel numbers, in the order written; `valid` says
 * which channels exist. Throws -222 for a channel that does not exist, -104 for anything else.
 */
export function parseChannelList(text: string, valid: (channel: number) => boolean): number[] {
  const m = /^\(\s*@([\d\s,:]*)\)$/.exec(text.trim());
  if (m === null) throw dataTypeError();
  const body = m[1]!.trim();
  if (body === "") return [];
  const channels: number[] = [];
  for (const part of body.split(",")) {
    const range = /^\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(part);
    if (range === null) throw dataTypeError();
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (!valid(first) || !valid(last) || last < first) throw dataOutOfRange();
    for (let c = first; c <= last; c++) if (valid(c)) channels.push(c);
  }
  return channels;
}

/** Parses a boolean argument {OFF|0|ON|1}; throws -224 otherwise. */
export function booleanArgument(text: string | undefined): boolean {
  const a = (text ?? "").trim().toUpperCase();
  if (a === "") throw missingParameter();
  if (a === "ON" || a === "1") return true;
  if (a === "OFF" || a === "0") return false;
  throw illegalParameter();
}

/** Parses a discrete argument written in short or long form (`INT`, `INTernal`); throws -224 otherwise. */
export function discreteArgument<T extends string>(text: string | undefined, choices: readonly T[]): T {
  const a = (text ?? "").trim().toUpperCase();
  if (a === "") throw missingParameter();
  for (const choice of choices) {
    const short = choice.replace(/[a-z]+$/, "").toUpperCase();
    if (a === short || a === choice.toUpperCase()) return choice;
  }
  throw illegalParameter();
}

/** Parses a number argument; throws -104 for anything that is not one. */
export function numberArgument(text: string | undefined): number {
  const a = (text ?? "").trim();
  if (a === "") throw missingParameter();
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(a)) throw dataTypeError();
  return Number(a);
}

/** Formats a reading the way the 34970A prints it: `+2.51234560E+01` (SCPI NR3, 9 significant digits). */
export function formatReading(value: number): string {
  const [mantissa, exponent] = Math.abs(value).toExponential(8).split("e") as [string, string];
  const e = Number(exponent);
  return `${value < 0 ? "-" : "+"}${mantissa}E${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}
