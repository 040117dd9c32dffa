import { describe, expect, it } from "vitest";
import type { DeviceConfig } from "../../../drivers/capabilities.js";
import { ChamberOptionReader, intersectRanges } from "../../../drivers/common/chamber-options.js";
import { thrownMessage } from "../../support/thrown.js";

const EXAMPLE = "serial:///dev/serial/by-id/<adapter>?baud=19200&unit=1";

function reader(options?: Record<string, unknown>): ChamberOptionReader {
  return new ChamberOptionReader({ id: "tc1", driver: "watlow/f4", transport: "memory://tc1", options });
}

/** A reader whose entry has `transport` as the YAML gave it (possibly absent or not a string). */
function withTransport(transport: unknown): ChamberOptionReader {
  return new ChamberOptionReader({ id: "tc1", driver: "watlow/f4", transport } as DeviceConfig);
}

const problem = (fn: () => unknown): string => thrownMessage("CHAMBER_BAD_OPTIONS", fn);

const prefix = 'device "tc1" (watlow/f4): ';

describe("ChamberOptionReader.transport", () => {
  it("returns the URL as written", () => {
    expect(withTransport("serial:///dev/ttyUSB0?baud=19200").transport(EXAMPLE)).toBe(
      "serial:///dev/ttyUSB0?baud=19200",
    );
  });

  it.each([undefined, "", "   ", 42])(
    "requires one (transport %j), showing the driver's example",
    (transport) => {
      expect(problem(() => withTransport(transport).transport(EXAMPLE))).toBe(
        `${prefix}a transport URL is required, e.g. transport: ${EXAMPLE}`,
      );
    },
  );
});

describe("ChamberOptionReader.number", () => {
  it("returns the fallback when absent, the value when in range (ends included)", () => {
    expect(reader({}).number("timeoutMs", 300, 10, 60_000)).toBe(300);
    expect(reader({ timeoutMs: 10 }).number("timeoutMs", 300, 10, 60_000)).toBe(10);
    expect(reader({ timeoutMs: 60_000 }).number("timeoutMs", 300, 10, 60_000)).toBe(60_000);
    expect(reader({ safeSetpointC: -12.5 }).number("safeSetpointC", 22)).toBe(-12.5);
  });

  it.each([
    [5, "5"],
    [60_001, "60001"],
    ["300", '"300"'],
    [null, "null"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("refuses %j, naming the option and its range", (value, shown) => {
    expect(problem(() => reader({ timeoutMs: value }).number("timeoutMs", 300, 10, 60_000))).toBe(
      `${prefix}options.timeoutMs must be a number in [10, 60000], got ${shown}`,
    );
  });

  it("refuses non-finite numbers even without bounds", () => {
    expect(
      problem(() => reader({ safeSetpointC: Number.NEGATIVE_INFINITY }).number("safeSetpointC", 22)),
    ).toBe(`${prefix}options.safeSetpointC must be a number in [-Infinity, Infinity], got -Infinity`);
  });
});

describe("ChamberOptionReader.integer", () => {
  it("returns the fallback (possibly undefined) when absent, the value when in range", () => {
    expect(reader({}).integer("unit", undefined, 1, 247)).toBeUndefined();
    expect(reader({}).integer("unit", 1, 1, 247)).toBe(1);
    expect(reader({ unit: 247 }).integer("unit", 1, 1, 247)).toBe(247);
  });

  it.each([
    [0, "0"],
    [248, "248"],
    [1.5, "1.5"],
    ["2", '"2"'],
    [true, "true"],
  ])("refuses %j, naming the option and its range", (value, shown) => {
    expect(problem(() => reader({ unit: value }).integer("unit", 1, 1, 247))).toBe(
      `${prefix}options.unit must be an integer in [1, 247], got ${shown}`,
    );
  });
});

describe("ChamberOptionReader.boolean", () => {
  it("returns the fallback when absent, the value otherwise", () => {
    expect(reader({}).boolean("humidity", true)).toBe(true);
    expect(reader({ humidity: false }).boolean("humidity", true)).toBe(false);
  });

  it.each([
    ["yes", '"yes"'],
    [0, "0"],
  ])("refuses %j", (value, shown) => {
    expect(problem(() => reader({ humidity: value }).boolean("humidity", true))).toBe(
      `${prefix}options.humidity must be true or false, got ${shown}`,
    );
  });
});

describe("ChamberOptionReader.range", () => {
  it("returns undefined when absent, [low, high] otherwise", () => {
    expect(reader({}).range("rangeC")).toBeUndefined();
    expect(reader({ rangeC: [-40, 180] }).range("rangeC")).toEqual([-40, 180]);
  });

  it.each([
    [[180, -40], "[180,-40]"],
    [[20, 20], "[20,20]"],
    [[-40], "[-40]"],
    [[-40, 100, 180], "[-40,100,180]"],
    [["-40", 180], '["-40",180]'],
    [[-40, Number.POSITIVE_INFINITY], "[-40,Infinity]"],
    [{ low: -40, high: 180 }, '{"low":-40,"high":180}'],
    [-40, "-40"],
  ])("refuses %j", (value, shown) => {
    expect(problem(() => reader({ rangeC: value }).range("rangeC"))).toBe(
      `${prefix}options.rangeC must be [low, high] in °C with low < high, got ${shown}`,
    );
  });
});

describe("ChamberOptionReader.done", () => {
  it("passes when every option was asked for (absent ones included)", () => {
    const o = reader({ unit: 2, rangeC: [-40, 180] });
    o.integer("unit", 1, 1, 247);
    o.range("rangeC");
    o.number("safeSetpointC", 22);
    expect(o.done()).toBeUndefined();
  });

  it("passes with no options at all", () => {
    expect(reader(undefined).done()).toBeUndefined();
  });

  it("names one unknown option and lists what the driver takes, sorted", () => {
    const o = reader({ unit: 2, setpiont: 40 });
    o.range("rangeC");
    o.integer("unit", 1, 1, 247);
    expect(problem(() => o.done())).toBe(`${prefix}unknown option "setpiont"; watlow/f4 takes rangeC, unit`);
  });

  it("names several unknown options", () => {
    const o = reader({ baud: 9600, unitId: 2 });
    o.integer("unit", 1, 1, 247);
    expect(problem(() => o.done())).toBe(`${prefix}unknown options "baud", "unitId"; watlow/f4 takes unit`);
  });
});

describe("ChamberOptionReader.fail", () => {
  it("throws CHAMBER_BAD_OPTIONS naming the device and the driver", () => {
    expect(problem(() => reader({}).fail("limits 602/603 do not overlap options.rangeC"))).toBe(
      `${prefix}limits 602/603 do not overlap options.rangeC`,
    );
  });
});

describe("intersectRanges", () => {
  it("returns a copy of the first range when there is no second", () => {
    const a: [number, number] = [-40, 180];
    const r = intersectRanges(a, undefined);
    expect(r).toEqual([-40, 180]);
    expect(r).not.toBe(a);
  });

  it("returns the overlap", () => {
    expect(intersectRanges([-40, 180], [-20, 200])).toEqual([-20, 180]);
    expect(intersectRanges([-20, 200], [-40, 180])).toEqual([-20, 180]);
    expect(intersectRanges([-40, 180], [0, 50])).toEqual([0, 50]);
  });

  it("returns undefined when the ranges only touch or do not overlap", () => {
    expect(intersectRanges([-40, 20], [20, 180])).toBeUndefined();
    expect(intersectRanges([-40, 0], [10, 180])).toBeUndefined();
  });
});
