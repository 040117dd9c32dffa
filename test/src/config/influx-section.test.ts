import { describe, expect, it } from "vitest";
import { ConfigError, normaliseConfig } from "../../../src/config/load-config.js";
import { CATCH_UP_POINTS_PER_SECOND } from "../../../src/storage/forwarder.js";
import { parseRetention } from "../../../src/storage/influx-schema.js";

const minimal = { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] };
const withRetention = (retention: unknown) => ({
  ...minimal,
  influx: { url: "http://127.0.0.1:8086", database: "lab", retention },
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

const HINT =
  'write "inf" to keep the data forever, or a duration of at least 1h such as "400d", "52w" or "2160h" (units w, d, h, m, s)';

describe("influx.retention.raw", () => {
  it("is left to the schema's default (raw kept forever) when not configured", () => {
    const config = normaliseConfig(
      { ...minimal, influx: { url: "http://127.0.0.1:8086", database: "lab" } },
      "x",
    );
    expect(config.influx).toEqual({ url: "http://127.0.0.1:8086", database: "lab" });
  });

  it.each([
    ["inf", "INF"],
    ["INF", "INF"],
    ["Inf", "INF"],
    ["400d", "400d"],
    ["52w", "52w"],
    ["2160h", "2160h"],
    ["1h", "1h"],
    ["1d12h", "1d12h"],
  ])("accepts %j as the raw policy's duration %j", (text, duration) => {
    const config = normaliseConfig(withRetention({ raw: text }), "x", { INFLUX_URL: "http://other:8086" });
    expect(config.influx).toEqual({
      url: "http://other:8086",
      database: "lab",
      schema: { raw: { duration } },
    });
  });

  it.each([
    ["90 days", "is not a retention duration"],
    ["forever", "is not a retention duration"],
    ["-5d", "is not a retention duration"],
    ["1.5d", "is not a retention duration"],
    ["90D", "is not a retention duration"],
    ["0s", "is shorter than InfluxDB allows"],
    ["30m", "is shorter than InfluxDB allows"],
  ])("refuses %j with what to write instead", (text, fault) => {
    expect(issuesOf(withRetention({ raw: text }))).toEqual([
      `influx.retention.raw: ${JSON.stringify(text)} ${fault}; ${HINT}`,
    ]);
  });

  it("refuses unknown keys and values that are not text", () => {
    expect(issuesOf(withRetention({ raw: "inf", longTerm: "400d" }))).toEqual([
      "influx.retention.longTerm: unknown key; remove it or check its spelling",
    ]);
    expect(issuesOf(withRetention({ raw: 400 }))).toEqual(["influx.retention.raw: Expected string"]);
    expect(issuesOf(withRetention({ raw: "" }))).toHaveLength(1);
  });

  it("is checked by the schema helper the storage layer uses too", () => {
    expect(parseRetention(" inf ", "x")).toBe("INF");
    expect(() => parseRetention("59m", "influx.retention.raw")).toThrow(
      /^influx.retention.raw: "59m" is shorter/,
    );
  });
});

describe("influx.catchUpPointsPerSecond", () => {
  const withRate = (catchUpPointsPerSecond: unknown) => ({
    ...minimal,
    influx: { url: "http://127.0.0.1:8086", database: "lab", catchUpPointsPerSecond },
  });

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
