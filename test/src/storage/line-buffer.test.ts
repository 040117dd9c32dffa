import { describe, expect, it } from "vitest";
import { LineBuffer } from "../../../src/storage/line-buffer.js";

const text = (buffer: LineBuffer) => buffer.rowViews().map((r) => [r.body.toString("utf8"), r.lines]);

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
    const rows = buffer.rowViews();
    expect(rows).toHaveLength(10);
    expect(rows[9]?.body.toString().split("\n").at(-1)).toBe(`${line}9999`);
    buffer.clear();
    expect(buffer.lines).toBe(0);
    expect(buffer.rowViews()).toEqual([]);
    buffer.append("after clear");
    expect(text(buffer)).toEqual([["after clear", 1]]);
  });
});
