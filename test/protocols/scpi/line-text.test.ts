import { describe, expect, it } from "vitest";
import { canonicalLineText, sameLineText } from "../../../protocols/index.js";

describe("line text comparison", () => {
  it("ignores whitespace and letter case", () => {
    expect(canonicalLineText(" OK: temp, S28.0\t")).toBe("OK:TEMP,S28.0");
    expect(sameLineText("OK:TEMP,S28.0", "OK:TEMP, S28.0")).toBe(true);
    expect(sameLineText("ok:mode,constant", "OK:MODE, CONSTANT")).toBe(true);
  });

  it("tells another value or word apart", () => {
    expect(sameLineText("OK:TEMP,S29.0", "OK:TEMP, S28.0")).toBe(false);
    expect(sameLineText("OK:MODE,STANDBY", "OK:MODE, CONSTANT")).toBe(false);
    expect(sameLineText("NA:TEMP, S28.0", "OK:TEMP, S28.0")).toBe(false);
  });
});
