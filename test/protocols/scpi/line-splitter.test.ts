import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../protocols/scpi/line-splitter.js";

function splitterWithLines(terminator: string, maxLineLength?: number) {
  const lines: string[] = [];
  const splitter = new LineSplitter(terminator, (line) => lines.push(line), maxLineLength);
  /** Pushes bytes and returns the lines delivered since the last call. */
  const push = (text: string) => {
    splitter.push(Buffer.from(text, "latin1"));
    return lines.splice(0);
  };
  return { splitter, push };
}

describe("LineSplitter", () => {
  it("joins chunks, splits at the terminator and trims", () => {
    const { splitter, push } = splitterWithLines("\n");
    expect(push("48.0")).toEqual([]);
    expect(splitter.partial).toBe(true);
    expect(push("0 V\r\n2.00 A\n\nOK")).toEqual(["48.00 V", "2.00 A"]);
    expect(splitter.partial).toBe(true);
    splitter.reset();
    expect(splitter.partial).toBe(false);
    expect(push("\n")).toEqual([]);
  });

  it("handles a two-byte terminator split across chunks", () => {
    const { push } = splitterWithLines("\r\n");
    expect(push("23.0,25.0\r")).toEqual([]);
    expect(push("\nOK:TEMP, S25.0\r\n")).toEqual(["23.0,25.0", "OK:TEMP, S25.0"]);
  });

  it("keeps bytes above 0x7f as latin1 characters", () => {
    const { push } = splitterWithLines("\n");
    expect(push("25.0 \xb0C\n")).toEqual(["25.0 \u00b0C"]);
  });

  it("drops a runaway line and reads the next one on its own", () => {
    const { splitter, push } = splitterWithLines("\n", 8);
    expect(push("0123456789")).toEqual([]);
    expect(splitter.overflows).toBe(1);
    expect(splitter.partial).toBe(false);
    expect(push("ok\n")).toEqual(["ok"]);
  });

  it("bounds an endless line without terminator at the default 64 KiB", () => {
    const { splitter, push } = splitterWithLines("\n");
    const kib = "x".repeat(1024);
    for (let i = 0; i < 64; i++) push(kib);
    expect(splitter.overflows).toBe(0);
    push("x");
    expect(splitter.overflows).toBe(1);
    for (let i = 0; i < 200; i++) push(kib);
    expect(splitter.overflows).toBe(4);
    splitter.reset();
    expect(push("48.00 V\n")).toEqual(["48.00 V"]);
  });

  it("frames with @serialport/parser-readline, the package chosen for it", () => {
    const source = readFileSync(new URL("../../../protocols/scpi/line-splitter.ts", import.meta.url), "utf8");
    expect(source).toMatch(/from "@serialport\/parser-readline"/);
  });
});
