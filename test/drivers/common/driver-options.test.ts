import { describe, expect, it } from "vitest";
import type { CyclerMode, DeviceConfig } from "../../../drivers/capabilities.js";
import {
  DriverOptionReader,
  limitsOutsideRatings,
  type Ratings,
  rangesFrom,
  UNKNOWN_RANGES,
} from "../../../drivers/common/driver-options.js";
import { thrownMessage } from "../../support/thrown.js";

function reader(options?: Record<string, unknown>, channels?: string[]): DriverOptionReader {
  return new DriverOptionReader({
    id: "psb1",
    driver: "ea/psb-scpi",
    transport: "tcp://10.0.0.5:5025",
    options,
    ...(channels ? { channels } : {}),
  });
}

/** A reader whose entry has `transport` as the YAML gave it (possibly absent or not a string). */
function withTransport(transport: unknown): DriverOptionReader {
  return new DriverOptionReader({ id: "psb1", driver: "ea/psb-scpi", transport } as DeviceConfig);
}

const problem = (fn: () => unknown): string => thrownMessage("CYCLER_BAD_OPTIONS", fn);

const prefix = 'device "psb1" (ea/psb-scpi): ';

describe("DriverOptionReader.transport", () => {
  it("returns the URL as written", () => {
    expect(withTransport("serial:///dev/ttyACM0?baud=115200").transport()).toBe(
      "serial:///dev/ttyACM0?baud=115200",
    );
  });

  it.each([undefined, "", " ", 5025])(
    "requires one (transport %j), showing what one looks like",
    (transport) => {
      expect(problem(() => withTransport(transport).transport())).toBe(
        `${prefix}needs a transport URL (serial:///dev/serial/by-id/...?baud=..., tcp://host:port)`,
      );
    },
  );
});

describe("DriverOptionReader.channelId", () => {
  it('defaults to "ch1" and takes the one listed id', () => {
    expect(reader({}).channelId()).toBe("ch1");
    expect(reader({}, []).channelId()).toBe("ch1");
    expect(reader({}, ["cell-7"]).channelId()).toBe("cell-7");
  });

  it("refuses more than one channel id", () => {
    expect(problem(() => reader({}, ["a", "b"]).channelId())).toBe(
      `${prefix}has one output; list one channel id, not 2`,
    );
  });
});

describe("DriverOptionReader.positive", () => {
  it("returns the fallback when absent, the value when positive", () => {
    expect(reader({}).positive("timeoutMs", 1000)).toBe(1000);
    expect(reader({ timeoutMs: 0.5 }).positive("timeoutMs", 1000)).toBe(0.5);
  });

  it.each([
    [0, "0"],
    [-1, "-1"],
    ["1000", '"1000"'],
    [null, "null"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("refuses %j, naming the option", (value, shown) => {
    expect(problem(() => reader({ timeoutMs: value }).positive("timeoutMs", 1000))).toBe(
      `${prefix}options.timeoutMs must be a positive number, got ${shown}`,
    );
  });
});

describe("DriverOptionReader.integer", () => {
  it("returns the fallback (possibly undefined) when absent, the value when in range", () => {
    expect(reader({}).integer("unit", undefined, 0, 247)).toBeUndefined();
    expect(reader({}).integer("unit", 1, 0, 247)).toBe(1);
    expect(reader({ unit: 0 }).integer("unit", 1, 0, 247)).toBe(0);
    expect(reader({ unit: 247 }).integer("unit", 1, 0, 247)).toBe(247);
  });

  it.each([
    [-1, "-1"],
    [248, "248"],
    [2.5, "2.5"],
    ["3", '"3"'],
  ])("refuses %j, naming the option and its range", (value, shown) => {
    expect(problem(() => reader({ unit: value }).integer("unit", 1, 0, 247))).toBe(
      `${prefix}options.unit must be an integer in [0, 247], got ${shown}`,
    );
  });
});

describe("DriverOptionReader.choice", () => {
  const allowed = ["scpi", "modbus"] as const;

  it("returns the fallback when absent, the value when allowed", () => {
    expect(reader({}).choice("protocol", "scpi", allowed)).toBe("scpi");
    expect(reader({ protocol: "modbus" }).choice("protocol", "scpi", allowed)).toBe("modbus");
  });

  it.each([
    ["Modbus", '"Modbus"'],
    [1, "1"],
  ])("refuses %j, listing the choices", (value, shown) => {
    expect(problem(() => reader({ protocol: value }).choice("protocol", "scpi", allowed))).toBe(
      `${prefix}options.protocol must be one of scpi, modbus, got ${shown}`,
    );
  });
});

describe("DriverOptionReader.ratings", () => {
  it("returns undefined when absent, the three ratings otherwise (extra keys dropped)", () => {
    expect(reader({}).ratings("ratings")).toBeUndefined();
    expect(
      reader({ ratings: { voltageV: 60, currentA: 120, powerW: 3000, model: "PSB 10060-120" } }).ratings(
        "ratings",
      ),
    ).toEqual({ voltageV: 60, currentA: 120, powerW: 3000 });
  });

  it.each([
    { voltageV: 60, currentA: 120 },
    { voltageV: 60, currentA: 0, powerW: 3000 },
    { voltageV: "60", currentA: 120, powerW: 3000 },
    { voltageV: 60, currentA: 120, powerW: Number.POSITIVE_INFINITY },
    [60, 120, 3000],
    null,
    "60 V / 120 A / 3 kW",
  ])("refuses %j", (value) => {
    expect(problem(() => reader({ ratings: value }).ratings("ratings"))).toBe(
      `${prefix}options.ratings must be { voltageV, currentA, powerW }, all positive numbers`,
    );
  });
});

describe("DriverOptionReader.limits", () => {
  it("returns no limits when absent, each given limit otherwise", () => {
    expect(reader({}).limits()).toEqual({});
    expect(reader({ limits: {} }).limits()).toEqual({
      voltageV: undefined,
      currentA: undefined,
      powerW: undefined,
    });
    expect(reader({ limits: { voltageV: [2.5, 4.2], currentA: [-3, 3], powerW: 15 } }).limits()).toEqual({
      voltageV: [2.5, 4.2],
      currentA: [-3, 3],
      powerW: 15,
    });
  });

  it.each([
    [null, "options.limits must be { voltageV?, currentA?, powerW? }"],
    ["4.2 V", "options.limits must be { voltageV?, currentA?, powerW? }"],
    [{ maxV: 4.2 }, 'options.limits takes voltageV, currentA, powerW; not "maxV"'],
    [{ voltageV: [4.2, 2.5] }, "options.limits.voltageV must be [min, max] with min < max"],
    [{ voltageV: 4.2 }, "options.limits.voltageV must be [min, max] with min < max"],
    [{ currentA: [-3, "3"] }, "options.limits.currentA must be [min, max] with min < max"],
    [{ currentA: [-3, 0, 3] }, "options.limits.currentA must be [min, max] with min < max"],
    [
      { currentA: [Number.NEGATIVE_INFINITY, 3] },
      "options.limits.currentA must be [min, max] with min < max",
    ],
    [{ powerW: 0 }, "options.limits.powerW must be a positive number"],
    [{ powerW: "15" }, "options.limits.powerW must be a positive number"],
    [{ powerW: Number.NaN }, "options.limits.powerW must be a positive number"],
  ])("refuses %j", (limits, message) => {
    expect(problem(() => reader({ limits }).limits())).toBe(`${prefix}${message}`);
  });
});

describe("DriverOptionReader.done", () => {
  it("passes when every option was asked for (absent ones included)", () => {
    const o = reader({ timeoutMs: 500 });
    o.positive("timeoutMs", 1000);
    o.limits();
    expect(o.done()).toBeUndefined();
    expect(reader(undefined).done()).toBeUndefined();
  });

  it("names the unknown options and lists the known ones, sorted", () => {
    const o = reader({ timeout: 500, retry: 2, limits: {} });
    o.positive("timeoutMs", 1000);
    o.limits();
    o.positive("retryMs", 2000);
    expect(problem(() => o.done())).toBe(
      `${prefix}unknown options "timeout", "retry"; ea/psb-scpi takes limits, retryMs, timeoutMs`,
    );
  });
});

describe("rangesFrom", () => {
  const ratings: Ratings = { voltageV: 60, currentA: 120, powerW: 3000 };
  const modes: readonly CyclerMode[] = ["rest", "cc", "cv"];
  const allModes: readonly CyclerMode[] = ["rest", "cc", "cv", "cccv", "cp", "profile"];

  it("gives the full ratings without limits: 0..V, ±A, P", () => {
    expect(rangesFrom(ratings, {}, modes)).toEqual({
      voltageV: [0, 60],
      currentA: [-120, 120],
      powerW: 3000,
      modes: ["rest", "cc", "cv"],
    });
  });

  it("narrows the ratings by the lab's limits", () => {
    expect(rangesFrom(ratings, { voltageV: [2.5, 4.2], currentA: [-3, 6], powerW: 25 }, allModes)).toEqual({
      voltageV: [2.5, 4.2],
      currentA: [-3, 6],
      powerW: 25,
      modes: allModes,
    });
  });

  it("never widens the ratings: limits beyond them are clipped, and no voltage below 0", () => {
    expect(rangesFrom(ratings, { voltageV: [-5, 80], currentA: [-200, 200], powerW: 5000 }, modes)).toEqual({
      voltageV: [0, 60],
      currentA: [-120, 120],
      powerW: 3000,
      modes,
    });
  });

  it("leaves nothing applicable while the ratings are unknown", () => {
    expect(UNKNOWN_RANGES).toEqual({ voltageV: [0, 0], currentA: [0, 0], powerW: 0, modes: ["rest"] });
  });
});

describe("limitsOutsideRatings", () => {
  const ratings: Ratings = { voltageV: 60, currentA: 120, powerW: 3000 };

  it("accepts limits that narrow the ratings, or reach past them on one side", () => {
    expect(limitsOutsideRatings(ratings, {})).toBeUndefined();
    expect(limitsOutsideRatings(ratings, { voltageV: [2.5, 4.2], currentA: [-3, 6] })).toBeUndefined();
    expect(limitsOutsideRatings(ratings, { voltageV: [50, 80], currentA: [100, 200] })).toBeUndefined();
  });

  it("names a window that leaves nothing of the ratings (limits written in mV or mA)", () => {
    expect(limitsOutsideRatings(ratings, { voltageV: [2500, 4200] })).toBe(
      "options.limits.voltageV [2500, 4200] V lies outside the instrument's 0..60 V; give a window within it",
    );
    expect(limitsOutsideRatings(ratings, { currentA: [-3000, -200] })).toBe(
      "options.limits.currentA [-3000, -200] A lies outside the instrument's ±120 A; give a window within it",
    );
  });
});
