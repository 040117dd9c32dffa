import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import {
  escapeKey,
  escapeMeasurement,
  formatFloat,
  formatInteger,
  formatTimestampMs,
  quoteFieldString,
  seriesPrefix,
} from "../../../src/storage/line-protocol.js";
import { tagCharacterProblem } from "../../../src/storage/tag-values.js";

describe("line protocol escaping", () => {
  it("escapes commas and spaces in measurement names, but not equals signs", () => {
    expect(escapeMeasurement("a b,c=d")).toBe("a\\ b\\,c=d");
  });

  it("escapes commas, equals signs and spaces in keys and tag values", () => {
    expect(escapeKey("run 7,a=b")).toBe("run\\ 7\\,a\\=b");
    expect(escapeKey("NMC-0042")).toBe("NMC-0042");
  });

  it("refuses tag values a server cannot read back", () => {
    for (const bad of ["", "a\nb", "a\rb", "ends\\", "a\\,b", "a\tb", "a\u0000b", "a\u007fb", "a\ud800b"]) {
      let caught: unknown;
      try {
        escapeKey(bad);
      } catch (err) {
        caught = err;
      }
      expect(hasErrorCode(caught, "LINE_PROTOCOL_INVALID"), JSON.stringify(bad)).toBe(true);
    }
  });

  it("refuses in a tag value exactly what the API and the configuration refuse (one rule)", () => {
    const values = ["NMC-0042", "a b,c=d", "🔋", "a\tb", "a\\b", "a\ud800b", "x\u0085y"];
    const refused = values.filter((v) => tagCharacterProblem(v) !== undefined);
    expect(refused).toEqual(["a\tb", "a\\b", "a\ud800b", "x\u0085y"]);
    for (const value of values) {
      let threw = false;
      try {
        escapeKey(value);
      } catch {
        threw = true;
      }
      expect(threw, JSON.stringify(value)).toBe(refused.includes(value));
    }
  });

  it("quotes string fields, escaping quotes and backslashes and flattening line breaks", () => {
    expect(quoteFieldString('temp "61.2 °C" > 60 \\ stop')).toBe('"temp \\"61.2 °C\\" > 60 \\\\ stop"');
    expect(quoteFieldString("line1\nline2\r\nline3")).toBe('"line1 line2 line3"');
  });

  it("formats floats exactly and drops values line protocol cannot carry", () => {
    expect(formatFloat(4.1012)).toBe("4.1012");
    expect(formatFloat(25)).toBe("25");
    expect(formatFloat(1e-7)).toBe("1e-7");
    expect(formatFloat(Number.NaN)).toBeUndefined();
    expect(formatFloat(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it("formats integers with the i suffix and refuses fractions", () => {
    expect(formatInteger(12, "cycleIndex")).toBe("12i");
    expect(() => formatInteger(1.5, "cycleIndex")).toThrow(/cycleIndex must be an integer/);
  });

  it("rounds timestamps to milliseconds and refuses non-numbers", () => {
    expect(formatTimestampMs(1764100000123.4)).toBe("1764100000123");
    expect(() => formatTimestampMs(Number.NaN)).toThrow(/epoch milliseconds/);
  });

  it("sorts tags by key and leaves out empty tags", () => {
    expect(seriesPrefix("cell", { run: "R 1", bench: "b1", cell: "", channel: "ch1" })).toBe(
      "cell,bench=b1,channel=ch1,run=R\\ 1",
    );
  });
});
