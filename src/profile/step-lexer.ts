/**
 * Tokens of step strings and quantities ("Charge at C/3 until 4.2 V (1 s period)", "25 °C", "5 mV").
 * The lexer is driven by the parser: it hands out one token at a time, and can also hand out the
 * raw text of a file name (which may contain characters that are punctuation elsewhere).
 */

export type Token =
  /** `signed`: the number was written with a leading sign ("-0.5", "+0.1", "−2"). */
  | { kind: "number"; value: number; text: string; start: number; end: number; signed: boolean }
  | { kind: "word"; text: string; start: number; end: number }
  | { kind: "symbol"; text: string; start: number; end: number }
  | { kind: "end"; text: ""; start: number; end: number };

const SYMBOLS = ["<=", ">=", "(", ")", "[", "]", ",", "/", "<", ">", "≤", "≥", ":"];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isWordStart = (c: string | undefined): boolean => c !== undefined && /[\p{L}_°Ω]/u.test(c);
const isWordPart = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_°Ω]/u.test(c);

export class StepLexer {
  private pos = 0;
  private buffered: Token[] = [];

  constructor(readonly source: string) {}

  /** Returns the token `ahead` positions on without consuming anything. */
  peek(ahead = 0): Token {
    while (this.buffered.length <= ahead) this.buffered.push(this.scan());
    return this.buffered[ahead] as Token;
  }

  next(): Token {
    const token = this.peek();
    this.buffered.shift();
    return token;
  }

  /** True when the next token is the word `word` (case-insensitive). */
  isWord(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "word" && t.text.toLowerCase() === word;
  }

  isSymbol(symbol: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "symbol" && t.text === symbol;
  }

  /** Consumes the next token when it is the word `word`; returns whether it did. */
  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  acceptSymbol(symbol: string): boolean {
    if (!this.isSymbol(symbol)) return false;
    this.next();
    return true;
  }

  /** Source text consumed so far (up to the start of the next token), trimmed. */
  consumedText(): string {
    return this.source.slice(0, this.peek().start).trim();
  }

  /**
   * Consumes raw text up to the next whitespace (or a quoted string), for file names such as
   * `drive-cycles/udds.csv`, stopping before any character of `stopBefore`. Returns undefined
   * at the end of the source.
   */
  rawChunk(stopBefore = ""): { text: string; start: number; end: number } | undefined {
    const from = this.buffered.length > 0 ? (this.buffered[0] as Token).start : this.pos;
    this.buffered = [];
    let i = from;
    while (i < this.source.length && /\s/.test(this.source[i] as string)) i++;
    if (i >= this.source.length) {
      this.pos = i;
      return undefined;
    }
    const quote = this.source[i];
    if (quote === '"' || quote === "'") {
      const close = this.source.indexOf(quote, i + 1);
      const end = close === -1 ? this.source.length : close + 1;
      this.pos = end;
      return { text: this.source.slice(i + 1, close === -1 ? end : close), start: i, end };
    }
    let end = i;
    while (
      end < this.source.length &&
      !/\s/.test(this.source[end] as string) &&
      !stopBefore.includes(this.source[end] as string)
    ) {
      end++;
    }
    this.pos = end;
    return { text: this.source.slice(i, end), start: i, end };
  }

  private scan(): Token {
    const s = this.source;
    while (this.pos < s.length && /\s/.test(s[this.pos] as string)) this.pos++;
    const start = this.pos;
    if (start >= s.length) return { kind: "end", text: "", start, end: start };
    const c = s[start] as string;
    const c1 = s[start + 1];
    const c2 = s[start + 2];
    const signed = c === "-" || c === "+" || c === "−";
    const numberStart =
      isDigit(c) || (c === "." && isDigit(c1)) || (signed && (isDigit(c1) || (c1 === "." && isDigit(c2))));
    if (numberStart) {
      let i = start + 1;
      while (isDigit(s[i]) || s[i] === ".") i++;
      // Exponent only when digits follow, so that "2e" never swallows a unit.
      if (
        (s[i] === "e" || s[i] === "E") &&
        (isDigit(s[i + 1]) || (/[+-]/.test(s[i + 1] ?? "") && isDigit(s[i + 2])))
      ) {
        i += 2;
        while (isDigit(s[i])) i++;
      }
      this.pos = i;
      const text = s.slice(start, i);
      return { kind: "number", value: Number(text.replace("−", "-")), text, start, end: i, signed };
    }
    if (isWordStart(c)) {
      let i = start + 1;
      // "°C", "Ω" and "US06" are words.
      while (isWordPart(s[i])) i++;
      this.pos = i;
      return { kind: "word", text: s.slice(start, i), start, end: i };
    }
    for (const symbol of SYMBOLS) {
      if (s.startsWith(symbol, start)) {
        this.pos = start + symbol.length;
        return { kind: "symbol", text: symbol, start, end: this.pos };
      }
    }
    this.pos = start + 1;
    return { kind: "symbol", text: c, start, end: this.pos };
  }
}

/** Renders a token for messages: `"Q"`, `the end`. */
export function describeToken(t: Token): string {
  return t.kind === "end" ? "the end" : `"${t.text}"`;
}
