/**
 * Splits a byte stream into lines at a terminator (latin1, SCPI is ASCII). Lines are trimmed, so
 * a device answering `\r\n` works with a `\n` terminator; empty lines are dropped. A run of bytes
 * longer than `maxLineLength` without a terminator is discarded as noise.
 */
export class LineSplitter {
  private buffer = "";
  /** Lines dropped because they grew past `maxLineLength`. */
  overflows = 0;

  constructor(
    private readonly terminator: string,
    private readonly maxLineLength = 64 * 1024,
  ) {
    if (terminator.length === 0) throw new RangeError("line terminator must not be empty");
  }

  /** Adds received bytes and returns the lines they complete. */
  push(chunk: Uint8Array): string[] {
    this.buffer += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    const lines: string[] = [];
    for (;;) {
      const end = this.buffer.indexOf(this.terminator);
      if (end < 0) break;
      const line = this.buffer.slice(0, end).trim();
      this.buffer = this.buffer.slice(end + this.terminator.length);
      if (line !== "") lines.push(line);
    }
    if (this.buffer.length > this.maxLineLength) {
      this.buffer = "";
      this.overflows++;
    }
    return lines;
  }

  /** True while part of a line has arrived without its terminator. */
  get partial(): boolean {
    return this.buffer.trim() !== "";
  }

  reset(): void {
    this.buffer = "";
  }
}
