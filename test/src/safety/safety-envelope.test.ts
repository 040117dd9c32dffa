import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { safetyEnvelope, safetyViolation } from "../../../src/safety/safety-envelope.js";
import type { ChannelSample } from "../../../src/sampling/sample.js";

const NMC: CellSpec = {
  id: "NMC-0001",
  chemistry: "li-ion-nmc",
  capacityAh: 3,
  voltageV: [2.5, 4.2],
  currentA: [-6, 3],
  temperatureC: [-20, 60],
};

const sample = (voltageV: number, currentA: number, temperatureC: number): ChannelSample => ({
  channel: "ch1",
  tMonoMs: 0,
  tWallMs: 0,
  voltageV,
  currentA,
  temperatureC,
});

describe("safetyEnvelope", () => {
  it("is the cell's envelope when the profile sets no safety", () => {
    expect(safetyEnvelope(NMC)).toEqual({
      voltageV: [2.5, 4.2],
      currentA: [-6, 3],
      temperatureC: [-20, 60],
      chargeTemperatureC: [0, 45],
      dischargeTemperatureC: [-20, 60],
    });
  });

  it("takes the tightest bound on each side, so a profile can narrow but never widen the cell's envelope", () => {
    const envelope = safetyEnvelope(NMC, {
      voltageV: [3.0, 4.5],
      currentA: [-10, 1],
      temperatureC: [0, 45],
    });
    expect(envelope).toEqual({
      voltageV: [3.0, 4.2],
      currentA: [-6, 1],
      temperatureC: [0, 45],
      chargeTemperatureC: [0, 45],
      dischargeTemperatureC: [0, 45],
    });
    // The cell's own arrays are not shared with (or changed through) the envelope.
    envelope.voltageV[1] = 5;
    expect(NMC.voltageV).toEqual([2.5, 4.2]);
  });
});

describe("safetyViolation", () => {
  const envelope = safetyEnvelope(NMC);
  // Current margin: 2 % of the largest allowed current (6 A) + 10 mA = 0.13 A.

  it("accepts samples up to the measurement margins: 50 mV, 2 % + 10 mA, 1 °C", () => {
    expect(safetyViolation(envelope, sample(3.7, 0, 25))).toBeUndefined();
    expect(safetyViolation(envelope, sample(4.25, 0, 25))).toBeUndefined();
    expect(safetyViolation(envelope, sample(2.45, 0, 25))).toBeUndefined();
    expect(safetyViolation(envelope, sample(3.7, 3.13, 25))).toBeUndefined();
    expect(safetyViolation(envelope, sample(3.7, -6.13, 25))).toBeUndefined();
    expect(safetyViolation(envelope, sample(3.7, 0, 61))).toBeUndefined();
    expect(safetyViolation(envelope, sample(3.7, 0, -21))).toBeUndefined();
  });

  it("names the quantity, the reading and the window just beyond each margin", () => {
    expect(safetyViolation(envelope, sample(4.2501, 0, 25))).toBe("voltage 4.25 V outside 2.5..4.2 V");
    expect(safetyViolation(envelope, sample(2.449, 0, 25))).toBe("voltage 2.449 V outside 2.5..4.2 V");
    expect(safetyViolation(envelope, sample(3.7, 3.131, 25))).toBe("current 3.131 A outside -6..3 A");
    expect(safetyViolation(envelope, sample(3.7, -6.131, 25))).toBe("current -6.131 A outside -6..3 A");
    expect(safetyViolation(envelope, sample(3.7, 0, 61.01))).toBe("temperature 61.01 °C outside -20..60 °C");
    expect(safetyViolation(envelope, sample(3.7, 0, -21.5))).toBe("temperature -21.5 °C outside -20..60 °C");
  });

  it("reports voltage first, then current, then temperature when several are out", () => {
    expect(safetyViolation(envelope, sample(4.4, 5, 80))).toBe("voltage 4.4 V outside 2.5..4.2 V");
    expect(safetyViolation(envelope, sample(3.7, 5, 80))).toBe("current 5 A outside -6..3 A");
  });

  it("treats an unreadable voltage or current as a violation, a channel without a temperature sensor (NaN) as none", () => {
    expect(safetyViolation(envelope, sample(Number.NaN, 0, 25))).toBe("voltage NaN V outside 2.5..4.2 V");
    expect(safetyViolation(envelope, sample(3.7, Number.NaN, 25))).toBe("current NaN A outside -6..3 A");
    expect(safetyViolation(envelope, sample(3.7, 0, Number.NaN))).toBeUndefined();
    expect(safetyViolation(envelope, sample(3.7, 0, Number.POSITIVE_INFINITY))).toBe(
      "temperature Infinity °C outside -20..60 °C",
    );
  });

  it("applies a profile's narrower window with the same margins", () => {
    const narrow = safetyEnvelope(NMC, { voltageV: [3.0, 3.9], temperatureC: [0, 26] });
    expect(safetyViolation(narrow, sample(3.949, 0, 25))).toBeUndefined();
    expect(safetyViolation(narrow, sample(3.96, 0, 25))).toBe("voltage 3.96 V outside 3..3.9 V");
    expect(safetyViolation(narrow, sample(3.5, 0, 27.2))).toBe("temperature 27.2 °C outside 0..26 °C");
  });
});
