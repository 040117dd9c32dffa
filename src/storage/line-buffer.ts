/**
 * Lines waiting for the next outbox commit, as UTF-8 bytes in one reusable buffer, cut into rows of
 * at most `maxRowLines` lines. Every line but the first follows a "\n", rows' boundaries included, so
 * that consecutive rows are one line-protocol body as they lie (the outbox sends recently committed
 * rows from here, outbox.ts); a row itself has no leading or trailing newline. Appending copies the line's
 * bytes and keeps no JavaScript string alive: strings die young instead of being promoted to the old
 * generation while they wait up to a commit interval, which cut garbage-collection time sharply
 * under load. The buffer is shared memory: a commit hands the writer thread a view of it (`part`),
 * not a copy, and the buffer is reused once that commit is stored.
 */
const INITIAL_BYTES = 1 << 20;
const KEEP_AT_MOST_BYTES = 16 << 20;
const NEWLINE = 0x0a;

/** A buffer's lines as a commit carries them: row i is `bytes` from its `start` to its `end`. */
export interface LinePart {
  bytes: Uint8Array;
  rows: LineRow[];
}

export interface LineRow {
  start: number;
  end: number;
  lines: number;
}

/** A Buffer over a SharedArrayBuffer, so that a message to another thread shares it instead of copying. */
function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

export class LineBuffer {
  private buf = sharedBuffer(INITIAL_BYTES);
  private used = 0;
  private rowLineCount = 0;
  private rowStart = 0;
  private readonly rows: LineRow[] = [];
  private lineCount = 0;

  constructor(private readonly maxRowLines: number) {}

  /** Lines held. */
  get lines(): number {
    return this.lineCount;
  }

  /** Appends one line (amortised O(1): the buffer doubles when full). */
  append(line: string): void {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes; +1 for the separator.
    const worst = this.used + line.length * 3 + 1;
    if (worst > this.buf.length) this.grow(worst);
    this.startLine();
    this.used += this.buf.write(line, this.used);
    this.rowLineCount++;
    this.lineCount++;
    if (this.rowLineCount >= this.maxRowLines) this.closeRow();
  }

  /** Appends one line already encoded as UTF-8 (without its newline). */
  appendBytes(line: Uint8Array): void {
    const worst = this.used + line.length + 1;
    if (worst > this.buf.length) this.grow(worst);
    this.startLine();
    this.buf.set(line, this.used);
    this.used += line.length;
    this.rowLineCount++;
    this.lineCount++;
    if (this.rowLineCount >= this.maxRowLines) this.closeRow();
  }

  /**
   * The lines as rows, viewing this buffer's shared memory (no copy): valid until the next append
   * that grows the buffer, or clear().
   */
  part(): LinePart {
    const rows = [...this.rows];
    if (this.rowLineCount > 0) rows.push({ start: this.rowStart, end: this.used, lines: this.rowLineCount });
    return { bytes: this.buf.subarray(0, this.used), rows };
  }

  /** Forgets every line; keeps the buffer for reuse unless it grew very large. */
  clear(): void {
    this.used = 0;
    this.rowLineCount = 0;
    this.rowStart = 0;
    this.lineCount = 0;
    this.rows.length = 0;
    if (this.buf.length > KEEP_AT_MOST_BYTES) this.buf = sharedBuffer(INITIAL_BYTES);
  }

  /** The separator before a line (none before the first), and where a new row starts. */
  private startLine(): void {
    if (this.used > 0) this.buf[this.used++] = NEWLINE;
    if (this.rowLineCount === 0) this.rowStart = this.used;
  }

  private closeRow(): void {
    this.rows.push({ start: this.rowStart, end: this.used, lines: this.rowLineCount });
    this.rowLineCount = 0;
  }

  private grow(atLeast: number): void {
    let size = this.buf.length * 2;
    while (size < atLeast) size *= 2;
    const next = sharedBuffer(size);
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}
