/**
 * The outbox's newest committed rows, still in the line buffers they were appended to, until
 * InfluxDB has them. The forwarder's next batch is nearly always among them: sent from here it is
 * neither read back from SQLite nor copied (a batch is a view of consecutive rows of one buffer,
 * in shared memory that the line writer thread reads as it is). Reading a batch back cost the
 * writer thread 2–3 µs per point, and a read queued behind a commit's fsync held up the forwarder.
 *
 * It holds every stored row with an id above `boundary`, up to the rows it refused, so a read after
 * `afterId` is answered here when no row at or below the boundary is stored any more, or when
 * `afterId` is at or above it; otherwise (a backlog from before a restart, requeued dead letters)
 * it is the database's to answer. Once it holds `maxEntries` commits or `maxBytes` of buffers
 * (InfluxDB is away, the forwarder has fallen behind), it refuses newer commits until the ones it
 * holds are sent, and those are read back from the database: their buffers are reused at once
 * instead of being pinned. A buffer it holds is reused only once its rows are acknowledged, never
 * while a batch of them may be in flight (one given up otherwise is left to the garbage collector). SQLite gives a new row the highest id plus one, so the rows of each commit are the
 * newest: a commit that does not follow on from the tail starts it afresh.
 */
import type { LineBuffer, LinePart } from "./line-buffer.js";
import type { OutboxBatch } from "./outbox.js";

/** Rows of one commit: one line buffer's, ids `firstId`…`lastId` in order. */
interface Entry {
  buffer: LineBuffer;
  part: LinePart;
  firstId: number;
  lastId: number;
  createdMs: number;
}

export class CommittedTail {
  private readonly entries: Entry[] = [];
  /** Memory of the entries' buffers (what they pin, not only what they hold). */
  private bytes = 0;
  /** Every stored row with a higher id is in `entries`, up to `refusedThrough`. */
  private boundary: number;
  /** The newest row of the commits refused since the tail was full (stored, not held); 0: none. */
  private refusedThrough = 0;
  /** Id of the oldest stored row, as the last acknowledgement (or the opening) saw it; null: none. */
  private oldestStoredId: number | null;

  /**
   * @param limits  the commits and the buffers' bytes held at most (the first commit is always held)
   * @param newestStoredId  the highest id stored when the outbox was opened (0: empty)
   * @param oldestStoredId  the lowest id stored then, or null
   */
  constructor(
    private readonly limits: { maxEntries: number; maxBytes: number },
    newestStoredId: number,
    oldestStoredId: number | null,
  ) {
    this.boundary = newestStoredId;
    this.oldestStoredId = oldestStoredId;
  }

  /** Rows held. */
  get rows(): number {
    let rows = 0;
    for (const e of this.entries) rows += e.lastId - e.firstId + 1;
    return rows;
  }

  /**
   * A commit stored `part`'s rows (of `buffer`) as ids `firstId`…`lastId`. Returns whether the tail
   * holds them; if not, `buffer` is the caller's to reuse.
   */
  committed(buffer: LineBuffer, part: LinePart, firstId: number, lastId: number, createdMs: number): boolean {
    if (part.rows.length === 0) return false;
    const newest = this.entries.at(-1)?.lastId ?? this.boundary;
    if (lastId - firstId + 1 !== part.rows.length) {
      // Ids that cannot be matched to the rows: the database answers for all of them.
      this.storedElsewhere(Math.max(lastId, newest, this.refusedThrough));
      return false;
    }
    const size = part.bytes.buffer.byteLength;
    const full =
      this.entries.length >= this.limits.maxEntries ||
      (this.entries.length > 0 && this.bytes + size > this.limits.maxBytes);
    if (this.refusedThrough > 0 || (full && firstId === newest + 1)) {
      this.refusedThrough = Math.max(this.refusedThrough, lastId);
      if (this.oldestStoredId === null) this.oldestStoredId = firstId;
      return false;
    }
    if (firstId !== newest + 1) {
      // Not the tail's continuation (the outbox was emptied and ids started again, or rows were stored
      // meanwhile that are not here): every stored row above firstId - 1 is this commit's, and those
      // below are the database's to tell.
      this.giveUpAll(firstId - 1);
      this.mayBeStoredUpTo(firstId - 1);
    }
    this.entries.push({ buffer, part, firstId, lastId, createdMs });
    this.bytes += size;
    if (this.oldestStoredId === null) this.oldestStoredId = firstId;
    return true;
  }

  /**
   * Rows up to `lastId` were deleted; `oldestId` is the oldest row left. Returns the buffers whose
   * rows are all gone (free to reuse: their batches were acknowledged).
   */
  acknowledged(lastId: number, oldestId: number | null): LineBuffer[] {
    this.oldestStoredId = oldestId;
    const freed: LineBuffer[] = [];
    while (this.entries.length > 0 && (this.entries[0] as Entry).lastId <= lastId) {
      const done = this.entries.shift() as Entry;
      this.bytes -= done.part.bytes.buffer.byteLength;
      freed.push(done.buffer);
    }
    // Everything held went: the refused commits are the database's, and the next one is held again.
    if (this.entries.length === 0 && this.refusedThrough > 0) this.giveUpAll(this.refusedThrough);
    return freed;
  }

  /** Rows up to `lastRowId` were stored from elsewhere (requeued dead letters): the database has them. */
  storedElsewhere(lastRowId: number): void {
    if (lastRowId <= 0) return;
    this.giveUpAll(lastRowId);
    this.mayBeStoredUpTo(lastRowId);
  }

  /**
   * The oldest rows after `afterId`, whole, until they hold `minPoints` lines or the commit they
   * belong to ends (`body` views the buffer's shared memory); undefined when no stored row follows
   * `afterId`; null when only the database knows.
   */
  read(afterId: number, minPoints: number): OutboxBatch | undefined | null {
    const below = this.oldestStoredId !== null && this.oldestStoredId <= this.boundary;
    if (below && afterId < this.boundary) return null;
    // Rows below the oldest one stored were acknowledged (deleted), however recently.
    const from = Math.max(afterId + 1, this.oldestStoredId ?? 0);
    const entry = this.entries.find((e) => e.lastId >= from);
    if (!entry) return this.refusedThrough > 0 ? null : undefined;
    const first = Math.max(0, from - entry.firstId);
    const rows = entry.part.rows;
    let points = 0;
    let last = first;
    for (; last < rows.length; last++) {
      points += (rows[last] as { lines: number }).lines;
      if (points >= minPoints) break;
    }
    last = Math.min(last, rows.length - 1);
    const bytes = entry.part.bytes;
    const start = (rows[first] as { start: number }).start;
    const end = (rows[last] as { end: number }).end;
    return {
      firstId: entry.firstId + first,
      lastId: entry.firstId + last,
      rows: last - first + 1,
      points,
      createdMs: entry.createdMs,
      body: Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start),
    };
  }

  /** Forgets every row held (closing). */
  clear(): void {
    this.giveUpAll(this.boundary);
  }

  /**
   * Rows up to `id` may be stored, whatever the last acknowledgement saw: the database answers for
   * them until the next acknowledgement tells the oldest row left.
   */
  private mayBeStoredUpTo(id: number): void {
    if (id > 0 && (this.oldestStoredId === null || this.oldestStoredId > id)) this.oldestStoredId = id;
  }

  private giveUpAll(boundary: number): void {
    this.entries.length = 0;
    this.bytes = 0;
    this.boundary = boundary;
    this.refusedThrough = 0;
  }
}
