import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, normaliseConfig } from "../../../src/config/load-config.js";

const root = join(import.meta.dirname, "..", "..", "..");

function issuesOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    normaliseConfig(raw, "bench.yaml", env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

const minimal = { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] };

describe("bench configuration", () => {
  it("loads the example simulated bench with defaults filled in", () => {
    const config = loadConfig(join(root, "examples", "sim-bench.yaml"), {});
    expect(config.bench).toBe("sim1");
    expect(config.devices[0]?.channels).toHaveLength(8);
    expect(config.chambers.map((c) => c.channels.length)).toEqual([4, 4]);
    expect(config.samplingPeriodMs).toBe(100);
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8080 });
  });

  it("applies environment overrides for InfluxDB and tokens", () => {
    const config = normaliseConfig(minimal, "x", {
      INFLUX_URL: "http://127.0.0.1:9999",
      INFLUX_DB: "lab",
      CELLBENCH_TOKENS: "operator:0123456789abcdef0123,viewer:fedcba9876543210fedc",
    });
    expect(config.influx).toEqual({ url: "http://127.0.0.1:9999", database: "lab" });
    expect(config.tokens.map((t) => t.role)).toEqual(["operator", "viewer"]);
  });

  it.each([
    [{ devices: minimal.devices }, "bench: missing; add it"],
    [{ ...minimal, extra: 1 }, "extra: unknown key; remove it or check its spelling"],
    [
      { ...minimal, sampling: { period: "fast" } },
      'sampling.period: "fast" is not a duration; write e.g. "100 ms", "1 s" or "2 min"',
    ],
    [{ ...minimal, sampling: { period: "5 ms" } }, "sampling.period: 5 ms is too short; use at least 10 ms"],
    [
      { ...minimal, sampling: { period: "100 ms", watchdog: "150 ms" } },
      "sampling.watchdog: 150 ms would trip between samples; use at least two periods (200 ms)",
    ],
    [
      { ...minimal, sampling: { period: "10 ms", realtime_priority: 0 } },
      "sampling.realtime_priority: Expected integer to be greater or equal to 1",
    ],
    [
      { ...minimal, sampling: { period: "10 ms", realtime_priority: 100 } },
      "sampling.realtime_priority: Expected integer to be less or equal to 99",
    ],
    [
      { ...minimal, devices: [...minimal.devices, { id: "c2", driver: "sim/cycler", channels: ["ch1"] }] },
      'devices[1].channels: channel "ch1" is already provided by device "c1"; rename one',
    ],
    [
      { ...minimal, chambers: [{ id: "t", device: "nope", channels: ["ch1"] }] },
      'chambers[0].device: no device "nope"; use one of the ids under devices',
    ],
    [
      { ...minimal, chambers: [{ id: "t", device: "c1", channels: ["ch9"] }] },
      'chambers[0].channels: no channel "ch9"; list channels that a device provides',
    ],
    [
      { ...minimal, devices: [{ id: "c1", driver: "Sim Cycler" }] },
      "devices[0].driver: Expected string to match '^[a-z0-9-]+/[a-z0-9-]+$'",
    ],
  ])("refuses %j", (raw, message) => {
    expect(issuesOf(raw)).toContain(message);
  });

  it.each([
    ["bench", { ...minimal, bench: "b".repeat(70_000) }],
    ["devices[0].id", { ...minimal, devices: [{ ...minimal.devices[0], id: "c\n1" }] }],
    ["devices[0].channels[0]", { ...minimal, devices: [{ ...minimal.devices[0], channels: ["ch\\1"] }] }],
    ["chambers[0].id", { ...minimal, chambers: [{ id: "tc 1", device: "c1", channels: ["ch1"] }] }],
    [
      "chambers[0].channels[0]",
      { ...minimal, chambers: [{ id: "tc1", device: "c1", channels: ["c".repeat(65)] }] },
    ],
  ])(
    "refuses an id at %s that InfluxDB could not carry as a tag, saying the limit and what to change",
    (path, raw) => {
      const issues = issuesOf(raw);
      const issue = issues.find((i) => i.startsWith(`${path}: `));
      expect(issue, issues.join("\n")).toMatch(
        /: ".*"(… \(\d+ characters\))? is not an id; use 1 to 64 letters, digits, "_", "\." or "-", starting with a letter or digit$/,
      );
      // The value is shown shortened: a 70,000-character id does not make a 70,000-character message.
      expect(issue?.length).toBeLessThan(200);
    },
  );

  it("keeps ids of up to 64 characters", () => {
    const id = "b".repeat(64);
    expect(normaliseConfig({ ...minimal, bench: id }, "x").bench).toBe(id);
  });

  describe("InfluxDB environment overrides", () => {
    const file = {
      ...minimal,
      influx: { url: "http://influx.lab:8086", database: "lab", token: "file-token" },
    };

    it("applies INFLUX_TOKEN on its own to the file's InfluxDB", () => {
      expect(
        normaliseConfig({ ...minimal, influx: { url: "http://influx.lab:8086", database: "lab" } }, "x", {
          INFLUX_TOKEN: "env-token",
        }).influx,
      ).toEqual({
        url: "http://influx.lab:8086",
        database: "lab",
        token: "env-token",
      });
    });

    it("lets a token in the environment win over the file's", () => {
      expect(normaliseConfig(file, "x", { INFLUX_TOKEN: "env-token" }).influx?.token).toBe("env-token");
    });

    it("applies INFLUX_URL and INFLUX_DB each on its own, keeping the rest of the file", () => {
      expect(normaliseConfig(file, "x", { INFLUX_URL: "http://other:8086" }).influx).toEqual({
        ...file.influx,
        url: "http://other:8086",
      });
      expect(normaliseConfig(file, "x", { INFLUX_DB: "other" }).influx).toEqual({
        ...file.influx,
        database: "other",
      });
      expect(
        normaliseConfig(file, "x", { INFLUX_URL: "http://other:8086", INFLUX_DB: "other", INFLUX_TOKEN: "t" })
          .influx,
      ).toEqual({ url: "http://other:8086", database: "other", token: "t" });
    });

    it("starts storage from INFLUX_URL or INFLUX_DB alone, but not from a stray INFLUX_TOKEN", () => {
      expect(normaliseConfig(minimal, "x", { INFLUX_DB: "lab", INFLUX_TOKEN: "t" }).influx).toEqual({
        url: "http://127.0.0.1:8086",
        database: "lab",
        token: "t",
      });
      expect(normaliseConfig(minimal, "x", { INFLUX_TOKEN: "t" }).influx).toBeUndefined();
      expect(normaliseConfig(file, "x", {}).influx).toEqual(file.influx);
    });
  });

  it("refuses malformed CELLBENCH_TOKENS", () => {
    expect(issuesOf(minimal, { CELLBENCH_TOKENS: "root:short" })[0]).toBe(
      "CELLBENCH_TOKENS: entry 1 of 1: the role before the first colon must be viewer, operator or admin",
    );
  });

  it("names the file it cannot read", () => {
    expect(() => loadConfig("/nonexistent/bench.yaml", {})).toThrow(
      /\/nonexistent\/bench.yaml: invalid configuration:\n {2}cannot read the file \(ENOENT\)/,
    );
  });
});
