import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDashboardPath } from "../../src/http/run-time-range.js";
import { Storage } from "../../src/storage/storage.js";
import { type Influxd, startInfluxd } from "../support/influxd.js";

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "dashboards", "cellbench-live.json"), "utf8"),
) as {
  panels: { title: string; targets: { query: string }[] }[];
  templating: { list: { name: string; query: string }[] };
};

/** Fills Grafana's variables the way it would for "All" over the last hours. */
function concrete(query: string): string {
  return query
    .replaceAll("/^$bench$/", "/^b1$/")
    .replace(/\/\^\$(channel|chamber|run)\$\//g, "/.*/")
    .replaceAll("$timeFilter", "time > now() - 6h")
    .replaceAll("$__interval", "10s");
}

let influxd: Influxd;
const SIMULATED_START = Date.now() + 30 * 86_400_000;
beforeAll(async () => {
  influxd = await startInfluxd();
  const storage = Storage.open({
    bench: "b1",
    store: ":memory:",
    influx: { url: influxd.url, database: "cellbench" },
    logger: pino({ level: "silent" }),
  });
  storage.start();
  const t = Date.now() - 60_000;
  for (let i = 0; i < 30; i++) {
    storage.logCell({
      channel: "ch1",
      run: "R1",
      cell: "NMC-1",
      tWallMs: t + i * 1000,
      testTimeS: i,
      stepTimeS: i,
      voltageV: 3.7,
      currentA: -1,
      temperatureC: 25,
      powerW: -3.7,
      chargeAh: 0,
      dischargeAh: i / 3600,
      chargeWh: 0,
      dischargeWh: (3.7 * i) / 3600,
      stepIndex: 1,
      cycleIndex: 1,
    });
    storage.logChamber({
      chamber: "tc1",
      tWallMs: t + i * 1000,
      temperatureC: 25,
      setpointC: 25,
      outputPct: 10,
    });
  }
  storage.logRunEvent({ channel: "ch1", run: "R1", tWallMs: t, state: "running", reason: "", stepIndex: 1 });
  // A run of a sped-up simulated bench: stamped in simulated wall time, a month ahead of the host's clock.
  for (let i = 0; i < 30; i++)
    storage.logCell({
      channel: "ch2",
      run: "RSIM",
      cell: "NMC-2",
      tWallMs: SIMULATED_START + i * 1000,
      testTimeS: i,
      stepTimeS: i,
      voltageV: 3.6,
      currentA: 1,
      temperatureC: 25,
      powerW: 3.6,
      chargeAh: i / 3600,
      dischargeAh: 0,
      chargeWh: (3.6 * i) / 3600,
      dischargeWh: 0,
      stepIndex: 1,
      cycleIndex: 1,
    });
  storage.logCycle({
    channel: "ch1",
    run: "R1",
    cell: "NMC-1",
    tWallMs: t + 30_000,
    cycleIndex: 1,
    chargeAh: 1,
    dischargeAh: 0.99,
    chargeWh: 4,
    dischargeWh: 3.6,
    coulombicEfficiency: 0.99,
    energyEfficiency: 0.9,
    capacityRetention: 1,
    minTemperatureC: 24,
    maxTemperatureC: 26,
  });
  await storage.close({ drainTimeoutMs: 15_000 });
}, 60_000);
afterAll(async () => {
  await influxd?.stop();
});

describe("Grafana dashboard", () => {
  it.each(dashboard.panels.map((p) => [p.title, p.targets[0]!.query]))(
    "panel %s queries data cellbench writes",
    async (_title, query) => {
      const json = (await influxd.query(concrete(query), { db: "cellbench" })) as {
        results: { series?: unknown[]; error?: string }[];
      };
      expect(json.results[0]?.error).toBeUndefined();
      expect(json.results[0]?.series?.length ?? 0).toBeGreaterThan(0);
    },
  );

  it.each(dashboard.templating.list.map((v) => [v.name, v.query]))(
    "variable %s lists values",
    async (_name, query) => {
      const json = (await influxd.query(concrete(query), { db: "cellbench" })) as {
        results: { series?: { values: unknown[][] }[] }[];
      };
      expect(json.results[0]?.series?.[0]?.values.length ?? 0).toBeGreaterThan(0);
    },
  );

  it("opens a sped-up run by the link the API gives it (its own time range), where 'last hour' shows nothing", async () => {
    const link = new URL(
      runDashboardPath(
        { id: "RSIM", channel: "ch2", bench: "b1" },
        { fromMs: SIMULATED_START, toMs: SIMULATED_START + 29_000 },
        0,
      ),
      "http://grafana.invalid",
    );
    const vars = (query: string, timeFilter: string) =>
      query
        .replaceAll("/^$bench$/", `/^${link.searchParams.get("var-bench")}$/`)
        .replaceAll("/^$channel$/", `/^${link.searchParams.get("var-channel")}$/`)
        .replaceAll("/^$run$/", `/^${link.searchParams.get("var-run")}$/`)
        .replaceAll("$timeFilter", timeFilter)
        .replaceAll("$__interval", "1s");
    const voltage = dashboard.panels.find((p) => p.title === "Voltage")?.targets[0]?.query as string;
    const points = async (timeFilter: string) => {
      const json = (await influxd.query(vars(voltage, timeFilter), { db: "cellbench" })) as {
        results: { series?: { values: unknown[][] }[] }[];
      };
      return json.results[0]?.series?.[0]?.values.length ?? 0;
    };
    const range = `time >= ${link.searchParams.get("from")}ms AND time <= ${link.searchParams.get("to")}ms`;
    expect(await points(range)).toBe(30);
    expect(await points("time > now() - 1h")).toBe(0);
  });
});
