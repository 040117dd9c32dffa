import { describe, expect, it } from "vitest";
import { LineBuffer } from "../../../src/storage/line-buffer.js";

const decoder = new TextDecoder();
const rowsOf = (buffer: LineBuffer) => {
  const { bytes, rows } = buffer.part();
  return rows.map((r) => ({
    body: decoder.decode(bytes.subarray(r.start, r.end)),
    lines: r.lines,
  }));
};
const text = (buffer: LineBuffer) => rowsOf(buffer).map((r) => [r.body, r.lines]);

describe("LineBuffer", () => {
  it("cuts lines into newline-separated rows of at most maxRowLines", () => {
    const buffer = new LineBuffer(2);
    for (const line of ["a 1", "b 2", "c 3", "d 4", "e 5"]) buffer.append(line);
    expect(buffer.lines).toBe(5);
    expect(text(buffer)).toEqual([
      ["a 1\nb 2", 2],
      ["c 3\nd 4", 2],
      ["e 5", 1],
    ]);
  });

  it("takes lines already encoded as UTF-8 beside lines given as text, in one sequence of rows", () => {
    const buffer = new LineBuffer(2);
    buffer.append("a 1");
    buffer.appendBytes(new TextEncoder().encode("b,t=µ 2"));
    buffer.appendBytes(new TextEncoder().encode("c 3"));
    buffer.append("d 4");
    buffer.appendBytes(new Uint8Array(3_000_000).fill(0x78)); // past the 1 MiB it starts with
    expect(buffer.lines).toBe(5);
    expect(text(buffer).slice(0, 2)).toEqual([
      ["a 1\nb,t=µ 2", 2],
      ["c 3\nd 4", 2],
    ]);
    expect(rowsOf(buffer)[2]?.body).toBe("x".repeat(3_000_000));
  });

  it("stores UTF-8 exactly, including multi-byte characters and emoji", () => {
    const buffer = new LineBuffer(10);
    const lines = ['run_event reason="61.2 °C > 60 °C" 1', "m,t=µ🔋 v=1 2"];
    for (const line of lines) buffer.append(line);
    expect(text(buffer)).toEqual([[lines.join("\n"), 2]]);
  });

  it("grows past its initial size and is reusable after clear()", () => {
    const buffer = new LineBuffer(1000);
    const line = "x".repeat(500);
    for (let i = 0; i < 10_000; i++) buffer.append(`${line}${i}`);
    const rows = rowsOf(buffer);
    expect(rows).toHaveLength(10);
    expect(rows[9]?.body.split("\n").at(-1)).toBe(`${line}9999`);
    buffer.clear();
    expect(buffer.lines).toBe(0);
    expect(rowsOf(buffer)).toEqual([]);
    buffer.append("after clear");
    expect(text(buffer)).toEqual([["after clear", 1]]);
  });

  it("holds its lines in shared memory, which a commit views instead of copying, and reuses it after clear()", () => {
    const buffer = new LineBuffer(10);
    buffer.append("a 1");
    const before = buffer.part().bytes;
    expect(before.buffer).toBeInstanceOf(SharedArrayBuffer);
    buffer.clear();
    buffer.append("b 2");
    const after = buffer.part().bytes;
    expect(after.buffer).toBe(before.buffer);
    expect(decoder.decode(after)).toBe("b 2");
  });
});
