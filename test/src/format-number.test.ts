import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvNumber, formatNumber } from "../../src/format-number.js";

describe("formatNumber", () => {
  it.each([
    [10000049.5, "10000049.5"],
    [10000050, "10000050"],
    [1e7, "10000000"],
    [0.1, "0.1"],
    [-2.5, "-2.5"],
    [-0, "0"],
    [1e-7, "1e-7"],
    [1.5e21, "1.5e+21"],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"],
  ])("writes %s as %s", (x, text) => {
    expect(formatNumber(x)).toBe(text);
  });

  it("reads back equal for every finite double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Number(formatNumber(x))).toBe(x === 0 ? 0 : x);
      }),
      { numRuns: 2000 },
    );
  });

  it("rounds to maxDecimals when asked (messages about computed values)", () => {
    // 1001 ms in seconds and back is 1001.0000000000001.
    expect(formatNumber((1001 * 0.001) / 0.001)).toBe("1001.0000000000001");
    expect(formatNumber((1001 * 0.001) / 0.001, { maxDecimals: 6 })).toBe("1001");
    expect(formatNumber(-0.0000001, { maxDecimals: 6 })).toBe("0");
    expect(formatNumber(2.5e21, { maxDecimals: 6 })).toBe("2.5e+21");
  });
});

describe("csvNumber", () => {
  it("writes NaN and ±Infinity as an empty cell, finite numbers as formatNumber", () => {
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(csvNumber)).toEqual([
      "",
      "",
      "",
    ]);
    expect(csvNumber(10000049.5)).toBe("10000049.5");
  });
});
