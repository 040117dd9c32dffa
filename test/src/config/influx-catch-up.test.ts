import { describe, expect, it } from "vitest";
import { ConfigError, normaliseConfig } from "../../../src/config/load-config.js";
import { CATCH_UP_POINTS_PER_SECOND } from "../../../src/storage/forwarder.js";

const minimal = { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] };
const withRate = (catchUpPointsPerSecond: unknown) => ({
  ...minimal,
  influx: { url: "http://127.0.0.1:8086", database: "lab", catchUpPointsPerSecond },
});

function issuesOf(raw: unknown): string[] {
  try {
    normaliseConfig(raw, "bench.yaml", {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("influx.catchUpPointsPerSecond", () => {
  it("is read with the rest of the influx section", () => {
    expect(normaliseConfig(withRate(40_000), "x", {}).influx).toEqual({
      url: "http://127.0.0.1:8086",
      database: "lab",
      catchUpPointsPerSecond: 40_000,
    });
  });

  it.each([0, CATCH_UP_POINTS_PER_SECOND.min - 1, CATCH_UP_POINTS_PER_SECOND.max + 1, 2_500.5, "fast"])(
    "refuses %j and names the setting",
    (rate) => {
      const issues = issuesOf(withRate(rate));
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^influx\.catchUpPointsPerSecond: /);
    },
  );
});
