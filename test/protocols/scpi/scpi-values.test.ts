import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { checkIdentity, parseIdn } from "../../../protocols/scpi/identity.js";
import {
  parseScpiErrors,
  parseScpiNumber,
  parseScpiNumbers,
  parseScpiQuantity,
} from "../../../protocols/scpi/scpi-values.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("SCPI numbers", () => {
  it("strips units", () => {
    expect(parseScpiNumber("48.00 V")).toBe(48);
    expect(parseScpiNumber("-1.25A")).toBe(-1.25);
    expect(parseScpiNumber("+4.1012E+00")).toBe(4.1012);
    expect(parseScpiNumber(" 23.0 ")).toBe(23);
    expect(parseScpiQuantity("25.3 °C")).toEqual({ value: 25.3, unit: "°C" });
    expect(parseScpiNumbers("48.00 V, 2.00 A, 96.00 W")).toEqual([48, 2, 96]);
    expect(parseScpiNumbers("23.0,25.0,110.0,-40.0")).toEqual([23, 25, 110, -40]);
  });

  it("checks units and field counts when asked", () => {
    expect(parseScpiNumbers("48.00 V, 2.00 A, 96.00 W", { units: ["V", "A", "W"] })).toEqual([48, 2, 96]);
    expect(codeOf(() => parseScpiNumber("48.00 mV", { unit: "V" }))).toBe("SCPI_BAD_REPLY");
    expect(codeOf(() => parseScpiNumbers("1 V, 2 A", { units: ["V", "A", "W"] }))).toBe("SCPI_BAD_REPLY");
    expect(parseScpiNumber("48.00", { unit: "V" })).toBe(48);
  });

  it("refuses non-numbers and SCPI's overflow/NaN codes unless allowed", () => {
    let message = "";
    try {
      parseScpiNumber("OVP", { command: "MEAS:VOLT?" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('Reply to "MEAS:VOLT?" "OVP" is not a number');
    expect(codeOf(() => parseScpiNumber("9.91E37"))).toBe("SCPI_BAD_REPLY");
    expect(parseScpiNumber("9.91E37", { allowNonFinite: true })).toBeNaN();
    expect(parseScpiNumber("9.9E37", { allowNonFinite: true })).toBe(Number.POSITIVE_INFINITY);
    expect(parseScpiNumber("-9.9E+37 V", { allowNonFinite: true })).toBe(Number.NEGATIVE_INFINITY);
    expect(parseScpiNumber("NAN", { allowNonFinite: true })).toBeNaN();
  });
});

describe("SCPI error queue replies", () => {
  it("reads no error, one error, and a whole queue", () => {
    expect(parseScpiErrors('0,"No error"')).toEqual([]);
    expect(parseScpiErrors('+0, "No error"')).toEqual([]);
    expect(parseScpiErrors('-113,"Undefined header"')).toEqual([{ code: -113, message: "Undefined header" }]);
    expect(parseScpiErrors('-113,"Undefined header",-222,"Data out of range",0,"No error"')).toEqual([
      { code: -113, message: "Undefined header" },
      { code: -222, message: "Data out of range" },
    ]);
    expect(parseScpiErrors("-350, Queue overflow")).toEqual([{ code: -350, message: "Queue overflow" }]);
    expect(parseScpiErrors("No error")).toEqual([]);
    expect(codeOf(() => parseScpiErrors("garbage"))).toBe("SCPI_BAD_REPLY");
  });
});

describe("identity", () => {
  const idn = parseIdn(
    "EA Elektro-Automatik GmbH & Co. KG, PSB 10080-60, 2345670001, V2.01 12.03.2024 V1.6.0\r",
  );

  it("splits the four *IDN? fields", () => {
    expect(idn).toMatchObject({
      manufacturer: "EA Elektro-Automatik GmbH & Co. KG",
      model: "PSB 10080-60",
      serial: "2345670001",
      firmware: "V2.01 12.03.2024 V1.6.0",
    });
  });

  it("accepts a match and names what answered otherwise", () => {
    expect(() =>
      checkIdentity(idn, { manufacturer: /elektro-automatik/i, model: /^PSB 1\d{4}/ }),
    ).not.toThrow();
    let error: unknown;
    try {
      checkIdentity(parseIdn("ITECH Ltd.,IT-M3432,800001,1.05"), { manufacturer: "elektro-automatik" });
    } catch (err) {
      error = err;
    }
    expect(hasErrorCode(error, "IDENTITY_MISMATCH")).toBe(true);
    expect((error as Error).message).toContain('manufacturer containing "elektro-automatik"');
    expect((error as Error).message).toContain('answered "ITECH Ltd.,IT-M3432,800001,1.05"');
  });
});
