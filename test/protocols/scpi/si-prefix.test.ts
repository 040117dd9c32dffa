import { describe, expect, it } from "vitest";
import { parseScpiNumber, parseScpiNumbers } from "../../../protocols/index.js";
import { siFactor } from "../../../protocols/scpi/si-prefix.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("SI prefixes in replies (issue 12, finding 6)", () => {
  it("scales m, k and M to the base unit, and takes a bare number or the base unit as is", () => {
    expect(parseScpiNumber("1.50 kW", { siUnit: "W" })).toBe(1500);
    expect(parseScpiNumber("-250.0 mA", { siUnit: "A" })).toBe(-0.25);
    expect(parseScpiNumber("1.2 MW", { siUnit: "W" })).toBe(1_200_000);
    expect(parseScpiNumber("48.00 V", { siUnit: "V" })).toBe(48);
    expect(parseScpiNumber("48.00", { siUnit: "V" })).toBe(48);
    expect(parseScpiNumbers("800.0 V, -12.50 A, -10.00 kW", { siUnits: ["V", "A", "W"] })).toEqual([
      800, -12.5, -10_000,
    ]);
    expect(siFactor("µA", "A")).toBe(1e-6);
  });

  it("refuses any other unit with a message naming it and what would do", () => {
    expect(codeOf(() => parseScpiNumber("10 kVA", { siUnit: "W" }))).toBe("SCPI_BAD_REPLY");
    expect(codeOf(() => parseScpiNumber("10 kA", { siUnit: "W" }))).toBe("SCPI_BAD_REPLY");
    expect(codeOf(() => parseScpiNumber("10 GW", { siUnit: "W" }))).toBe("SCPI_BAD_REPLY");
    expect(() => parseScpiNumber("10 GW", { siUnit: "W", command: "MEAS:POW?" })).toThrow(
      /"GW", which is not W, µW, uW, mW, kW or MW/,
    );
    expect(codeOf(() => parseScpiNumbers("1 V, 2 A, 3 kW", { siUnits: ["V", "A"] }))).toBe("SCPI_BAD_REPLY");
  });

  it("leaves the exact unit check as it was: mV is not V", () => {
    expect(codeOf(() => parseScpiNumber("48.00 mV", { unit: "V" }))).toBe("SCPI_BAD_REPLY");
  });
});
