import { ReadlineParser } from "@serialport/parser-readline";

/**
 * Frames a byte stream into lines with serialport's ReadlineParser (latin1: SCPI is ASCII). Lines are
 * trimmed, so a device answering `\r\n` works with a `\n` terminator; empty lines are dropped.
 * ReadlineParser buffers without bound until it sees the terminator, so a run of bytes longer than
 * `maxLineLength` without one is discarded here as noise.
 */
export class LineSplitter {
  private parser: ReadlineParser;
  /** Lines dropped because they grew past `maxLineLength`. */
  overflows = 0;

  constructor(
    private readonly terminator: string,
    private readonly onLine: (line: string) => void,
    private readonly maxLineLength = 64 * 1024,
  ) {
    if (terminator.length === 0) throw new RangeError("line terminator must not be empty");
    this.parser = this.createParser();
  }

  /** Adds received bytes; `onLine` is called for each line they complete. */
  push(chunk: Uint8Array): void {
    this.parser.write(chunk);
    if (this.parser.buffer.length > this.maxLineLength) {
      this.reset();
      this.overflows++;
    }
  }

  /** True while part of a line has arrived without its terminator. */
  get partial(): boolean {
    return this.parser.buffer.toString("latin1").trim() !== "";
  }

  /** Forgets the partial line; nothing the old bytes would still complete is delivered. */
  reset(): void {
    this.parser.removeAllListeners("data");
    this.parser.destroy();
    this.parser = this.createParser();
  }

  private createParser(): ReadlineParser {
    // One "data" event per line however the stream buffers (a byte-mode read() may return lines joined).
    const parser = new ReadlineParser({
      delimiter: this.terminator,
      encoding: "latin1",
      readableObjectMode: true,
    });
    parser.on("data", (text: string) => {
      const line = text.trim();
      if (line !== "") this.onLine(line);
    });
    return parser;
  }
}
