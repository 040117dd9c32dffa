import { describe, expect, it } from "vitest";
import { CommittedTail } from "../../../src/storage/committed-tail.js";
import { LineBuffer } from "../../../src/storage/line-buffer.js";

/** A buffer of `count` lines `m v=<from + i>`, in rows of `rowLines`. */
function linesBuffer(from: number, count: number, rowLines: number): LineBuffer {
  const buffer = new LineBuffer(rowLines);
  for (let i = 0; i < count; i++) buffer.append(`m v=${from + i}`);
  return buffer;
}

/** Commits `count` lines as rows of `rowLines` with ids from `firstId`; returns the buffer. */
function commit(tail: CommittedTail, firstId: number, from: number, count: number, rowLines = 2): LineBuffer {
  const buffer = linesBuffer(from, count, rowLines);
  const part = buffer.part();
  tail.committed(buffer, part, firstId, firstId + part.rows.length - 1, 1_000 + firstId);
  return buffer;
}

const LIMITS = { maxEntries: 100, maxBytes: 1 << 30 };

const lines = (batch: { body: Buffer } | null | undefined) =>
  batch ? batch.body.toString().split("\n") : batch;

describe("CommittedTail", () => {
  it("answers from a commit's rows as they lie in its buffer: whole rows, newline-separated, no copy", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    const buffer = commit(tail, 1, 1, 5); // rows 1: v=1,2  2: v=3,4  3: v=5
    const batch = tail.read(0, 3);
    expect(batch).toMatchObject({ firstId: 1, lastId: 2, rows: 2, points: 4, createdMs: 1_001 });
    expect(lines(batch)).toEqual(["m v=1", "m v=2", "m v=3", "m v=4"]);
    expect(batch?.body.buffer).toBe(buffer.part().bytes.buffer);
    expect(lines(tail.read(2, 3))).toEqual(["m v=5"]);
    expect(tail.read(3, 3)).toBeUndefined();
  });

  it("stops a batch at the end of its commit; the next commit's rows come with the next batch", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    commit(tail, 1, 1, 2);
    commit(tail, 2, 3, 4);
    expect(tail.read(0, 100)).toMatchObject({ firstId: 1, lastId: 1, points: 2 });
    expect(lines(tail.read(1, 100))).toEqual(["m v=3", "m v=4", "m v=5", "m v=6"]);
  });

  it("leaves rows stored before it (a backlog at start-up) to the database, then answers once they are gone", () => {
    const tail = new CommittedTail(LIMITS, 10, 4); // rows 4…10 were stored before
    commit(tail, 11, 1, 2);
    expect(tail.read(0, 2)).toBeNull();
    expect(tail.read(9, 2)).toBeNull();
    expect(tail.read(10, 2)).toMatchObject({ firstId: 11 });
    tail.acknowledged(10, 11); // the backlog went (read from the database)
    expect(tail.read(0, 2)).toMatchObject({ firstId: 11 });
  });

  it("frees a commit's buffer for reuse only once all of its rows are acknowledged", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    const a = commit(tail, 1, 1, 4); // rows 1, 2
    const b = commit(tail, 3, 5, 2); // row 3
    expect(tail.acknowledged(1, 2)).toEqual([]);
    expect(tail.read(1, 1)).toMatchObject({ firstId: 2 });
    expect(tail.acknowledged(2, 3)).toEqual([a]);
    expect(tail.acknowledged(3, null)).toEqual([b]);
    expect(tail.rows).toBe(0);
    expect(tail.read(0, 1)).toBeUndefined();
  });

  it("refuses commits once full, leaving them to the database, and holds the next after it emptied", () => {
    const tail = new CommittedTail({ maxEntries: 2, maxBytes: 1 << 30 }, 0, null);
    commit(tail, 1, 1, 2);
    commit(tail, 2, 3, 2);
    const refused = linesBuffer(5, 2, 2);
    expect(tail.committed(refused, refused.part(), 3, 3, 0)).toBe(false);
    expect(tail.rows).toBe(2);
    expect(tail.read(0, 1)).toMatchObject({ firstId: 1 });
    expect(tail.read(2, 1)).toBeNull(); // row 3 is the database's
    tail.acknowledged(1, 2);
    expect(tail.read(2, 1)).toBeNull();
    tail.acknowledged(2, 3); // the tail emptied; row 3 is still stored
    expect(tail.read(0, 1)).toBeNull();
    commit(tail, 4, 7, 2);
    expect(tail.read(3, 1)).toMatchObject({ firstId: 4 });
    tail.acknowledged(3, 4);
    expect(tail.read(0, 1)).toMatchObject({ firstId: 4 });
  });

  it("counts the memory its buffers pin, not only the bytes they hold", () => {
    const size = linesBuffer(1, 2, 2).part().bytes.buffer.byteLength; // the buffer's whole size
    const tail = new CommittedTail({ maxEntries: 100, maxBytes: 2 * size }, 0, null);
    commit(tail, 1, 1, 2);
    commit(tail, 2, 3, 2);
    const third = linesBuffer(5, 2, 2);
    expect(tail.committed(third, third.part(), 3, 3, 0)).toBe(false);
  });

  it("answers after rows acknowledged within a commit, not from the commit's start", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    commit(tail, 1, 1, 6); // rows 1, 2, 3
    tail.acknowledged(2, 3);
    expect(lines(tail.read(0, 1))).toEqual(["m v=5", "m v=6"]);
  });

  it("starts afresh when a commit's ids do not follow on (the outbox was emptied and ids began again)", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    commit(tail, 5, 1, 2);
    tail.acknowledged(5, null);
    commit(tail, 1, 3, 2);
    expect(tail.read(0, 1)).toMatchObject({ firstId: 1, lastId: 1 });
    expect(lines(tail.read(0, 1))).toEqual(["m v=3", "m v=4"]);
  });

  it("starts afresh, leaving older rows to the database, when rows it does not hold come between", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    commit(tail, 1, 1, 2);
    tail.storedElsewhere(3); // requeued dead letters: rows 2 and 3
    commit(tail, 4, 3, 2);
    expect(tail.read(0, 1)).toBeNull();
    expect(tail.read(3, 1)).toMatchObject({ firstId: 4 });
    tail.acknowledged(3, 4);
    expect(tail.read(0, 1)).toMatchObject({ firstId: 4 });
  });

  it("refuses ids that do not match the rows (the database answers for them)", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    const buffer = linesBuffer(1, 4, 2);
    tail.committed(buffer, buffer.part(), 1, 5, 0); // 2 rows, 5 ids
    expect(tail.read(0, 1)).toBeNull();
    expect(tail.rows).toBe(0);
  });

  it("leaves requeued rows to the database even when the outbox had been empty", () => {
    const tail = new CommittedTail(LIMITS, 0, null);
    tail.storedElsewhere(2);
    expect(tail.read(0, 1)).toBeNull();
  });
});
