/**
 * Runs every variable, panel and annotation query of the three dashboards against a real influxd
 * holding data written by the daemon's own storage layer (encoder, outbox, schema, continuous queries),
 * interpolated as Grafana would. A measurement, field or tag name the encoder does not write returns
 * nothing, and the test fails.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDashboardPath } from "../../src/http/run-time-range.js";
import type { StepRecord } from "../../src/run/records.js";
import { downsampleQueries, durationMs, resolveSchema } from "../../src/storage/influx-schema.js";
import { Storage } from "../../src/storage/storage.js";
import { type Influxd, startInfluxd } from "../support/influxd.js";
import type { Dashboard, Target } from "./dashboard-model.js";
import { influxAnnotations, loadDashboard, queryPanels } from "./dashboard-model.js";
import {
  interpolate,
  interpolateVariables,
  type SelectedValues,
  type TimeRange,
} from "./grafana-interpolation.js";

const DB = "cellbench";
const bench = loadDashboard("cellbench-bench");
const run = loadDashboard("cellbench-run");
const chamber = loadDashboard("cellbench-chamber");
const DASHBOARDS: readonly Dashboard[] = [bench, run, chamber];

interface Series {
  name: string;
  columns: string[];
  values: unknown[][];
  tags?: Record<string, string>;
}
interface QueryResult {
  results: { series?: Series[]; error?: string }[];
}

let influxd: Influxd;
const T0 = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
const SAMPLES = 120;
/** The test's time range, as a dashboard opened on "last 15 minutes" would have it. */
let range: TimeRange;
/** A run of a sped-up simulated bench: stamped in simulated wall time, a month ahead of the host's clock. */
const SIMULATED_START = Date.now() + 30 * 86_400_000;

function step(overrides: Partial<StepRecord>): StepRecord {
  return {
    channel: "ch1",
    run: "R1",
    cell: "NMC-1",
    tWallMs: T0,
    stepIndex: 1,
    cycleIndex: 1,
    stepId: 1,
    path: "1",
    type: "cc_discharge",
    endReason: "voltage <= 3.0 V",
    durationS: 30,
    chargeAh: 0,
    dischargeAh: 0.0083,
    chargeWh: 0,
    dischargeWh: 0.03,
    startVoltageV: 3.9,
    endVoltageV: 3.7,
    maxTemperatureC: 26,
    dcirOhm: {},
    ...overrides,
  };
}

function openStorage(name: string): Storage {
  const storage = Storage.open({
    bench: name,
    store: ":memory:",
    influx: { url: influxd.url, database: DB },
    logger: pino({ level: "silent" }),
  });
  storage.start();
  return storage;
}

beforeAll(async () => {
  influxd = await startInfluxd();
  const b1 = openStorage("b1");
  const b2 = openStorage("b2");
  for (let i = 0; i < SAMPLES; i++) {
    const t = T0 + i * 1000;
    for (const [storage, channel, runId, sign] of [
      [b1, "ch1", "R1", -1],
      [b1, "ch2", "R2", 1],
      [b2, "ch1", "R9", 1],
    ] as const)
      storage.logCell({
        channel,
        run: runId,
        cell: `NMC-${runId}`,
        tWallMs: t,
        testTimeS: i,
        stepTimeS: i % 30,
        voltageV: 3.7 - sign * i * 0.001,
        currentA: sign,
        temperatureC: 25 + i * 0.01,
        sensorsC: { "daq1:101": 25.5, "daq1:102": 25.2 },
        powerW: sign * 3.7,
        chargeAh: sign > 0 ? i / 3600 : 0,
        dischargeAh: sign < 0 ? i / 3600 : 0,
        chargeWh: sign > 0 ? (3.7 * i) / 3600 : 0,
        dischargeWh: sign < 0 ? (3.7 * i) / 3600 : 0,
        stepIndex: 1 + Math.floor(i / 30),
        cycleIndex: Math.floor(i / 60),
      });
    for (const id of ["tc1", "tc2"])
      b1.logChamber({
        chamber: id,
        tWallMs: t,
        temperatureC: 25 + i * 0.05,
        setpointC: 30,
        outputPct: 80,
        sensorsC: { "daq1:201": 24.9 },
      });
  }
  b1.logRunEvent({ channel: "ch1", run: "R1", tWallMs: T0, state: "running", reason: "", stepIndex: 1 });
  b1.logRunEvent({ channel: "ch2", run: "R2", tWallMs: T0, state: "running", reason: "", stepIndex: 1 });
  b1.logRunEvent({
    channel: "ch1",
    run: "R1",
    tWallMs: T0 + 100_000,
    state: "faulted",
    reason: "cell temperature 61 °C above the limit of 60 °C",
    stepIndex: 4,
  });
  for (const [i, stepIndex] of [
    [30, 1],
    [60, 2],
  ] as const)
    b1.logStep(
      step({ tWallMs: T0 + i * 1000, stepIndex, stepId: stepIndex, dcirOhm: { s0p1: 0.021, s1: 0.025 } }),
    );
  b1.logCycle({
    channel: "ch1",
    run: "R1",
    cell: "NMC-R1",
    tWallMs: T0 + 60_000,
    cycleIndex: 0,
    chargeAh: 0.0166,
    dischargeAh: 0.0164,
    chargeWh: 0.061,
    dischargeWh: 0.058,
    coulombicEfficiency: 0.988,
    energyEfficiency: 0.95,
    capacityRetention: 1,
    minTemperatureC: 25,
    maxTemperatureC: 25.6,
  });
  for (let i = 0; i < 30; i++)
    b1.logCell({
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
      cycleIndex: 0,
    });
  await Promise.all([b1.close({ drainTimeoutMs: 15_000 }), b2.close({ drainTimeoutMs: 15_000 })]);
  range = { fromMs: T0 - 60_000, toMs: T0 + SAMPLES * 1000 + 60_000 };
  // The long-term policy as its continuous queries fill it (they run once a minute; run them now).
  for (const q of downsampleQueries(resolveSchema(DB))) {
    const bucket = durationMs(q.every);
    const from = Math.floor(range.fromMs / bucket) * bucket;
    const to = Math.ceil(range.toMs / bucket) * bucket;
    await query(`${q.select} WHERE time >= ${from}ms AND time < ${to}ms GROUP BY time(${q.every}), *`);
  }
}, 90_000);
afterAll(async () => {
  await influxd?.stop();
});

async function query(q: string): Promise<{ series: Series[] }> {
  const json = (await influxd.query(q, { db: DB })) as QueryResult;
  const result = json.results[0];
  if (result?.error) throw new Error(`${result.error}\n  in: ${q}`);
  return { series: result?.series ?? [] };
}

/** Rows with a value in some column other than time. */
function valueRows(series: Series[]): unknown[][] {
  return series.flatMap((s) =>
    s.values.filter((row) => row.some((v, i) => s.columns[i] !== "time" && v !== null && v !== undefined)),
  );
}

/**
 * Resolves the variables in the dashboard's order, as Grafana does on load: each query variable's
 * query, with the variables before it filled in, lists its values; a multi-value variable selects
 * "All", a single-value one the preferred value (a link's var-*) or Grafana's first in its sort order.
 */
async function resolveVariables(
  d: Dashboard,
  prefer: Readonly<Record<string, string>> = {},
): Promise<{ selected: Map<string, SelectedValues>; listed: Map<string, string[]> }> {
  const selected = new Map<string, SelectedValues>();
  const listed = new Map<string, string[]>();
  for (const v of d.templating.list) {
    let values: string[];
    if (v.type === "custom") values = v.query.split(",").map((s) => s.trim());
    else {
      const { series } = await query(interpolateVariables(v.query, selected));
      values = series.flatMap((s) => s.values.map((row) => String(row[s.columns.indexOf("value")])));
      values.sort();
      if (v.sort === 2) values.reverse();
    }
    listed.set(v.name, values);
    const one = prefer[v.name] ?? values[0];
    selected.set(
      v.name,
      v.multi
        ? { values, multi: true }
        : { values: one !== undefined && values.includes(one) ? [one] : [], multi: false },
    );
  }
  return { selected, listed };
}

const withPolicy = (vars: Map<string, SelectedValues>, policy: string) =>
  new Map(vars).set("policy", { values: [policy], multi: false });

function targetsOf(d: Dashboard): [string, string, Target][] {
  return queryPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => [p.title, t.refId, t] as [string, string, Target]),
  );
}

describe("Grafana dashboards against influxd with data the daemon wrote", () => {
  it("lists each variable's values, chained bench → channel → run", async () => {
    const all = await resolveVariables(bench);
    expect(all.listed.get("bench")).toEqual(["b1", "b2"]);
    expect(all.listed.get("channel")).toEqual(["ch1", "ch2"]);
    expect(all.listed.get("chamber")).toEqual(["tc1", "tc2"]);
    expect(all.listed.get("policy")).toEqual(["raw", "long_term"]);
    const r = await resolveVariables(run, { bench: "b1", channel: "ch2" });
    expect(r.listed.get("bench")).toEqual(["b1", "b2"]);
    expect(r.listed.get("channel")).toEqual(["ch1", "ch2"]);
    expect(r.listed.get("run")).toEqual(["RSIM", "R2"]); // newest first (sort 2); b2's R9 and ch1's R1 left out
    const b2 = await resolveVariables(run, { bench: "b2" });
    expect(b2.listed.get("channel")).toEqual(["ch1"]);
    expect(b2.listed.get("run")).toEqual(["R9"]);
    const c = await resolveVariables(chamber);
    expect(c.listed.get("chamber")).toEqual(["tc1", "tc2"]);
  });

  describe.each(DASHBOARDS.map((d) => [d.uid, d] as const))("%s", (_uid, d) => {
    const prefer = { bench: "b1", channel: "ch1", run: "R1" };
    it.each(targetsOf(d))(
      "panel %s (%s) returns data for every retention policy",
      async (_title, _ref, t) => {
        const { selected } = await resolveVariables(d, prefer);
        const policies = t.query.includes("$policy") ? ["raw", "long_term"] : ["raw"];
        for (const policy of policies) {
          const { series } = await query(interpolate(t.query, withPolicy(selected, policy), range, 1000));
          expect(valueRows(series).length, `${policy}: ${t.query}`).toBeGreaterThan(0);
        }
      },
    );

    const annotations = influxAnnotations(d);
    if (annotations.length > 0)
      it.each(annotations.map((a) => [a.name, a] as const))(
        "annotation %s returns events with the columns it maps",
        async (_name, a) => {
          const { selected } = await resolveVariables(d, prefer);
          const { series } = await query(interpolate(a.query ?? "", selected, range, 1000));
          expect(valueRows(series).length).toBeGreaterThan(0);
          const columns = series[0]?.columns ?? [];
          for (const key of ["textColumn", "titleColumn", "tagsColumn"] as const)
            for (const c of (a[key] ?? "").split(",").filter(Boolean)) expect(columns).toContain(c);
        },
      );
  });

  it("shows the run's own values: R1's voltage, its cycle and steps, its fault", async () => {
    const { selected } = await resolveVariables(run, { bench: "b1", channel: "ch1", run: "R1" });
    const panel = (title: string) =>
      queryPanels(run).find((p) => p.title === title)?.targets?.[0]?.query as string;
    const rows = async (title: string) =>
      valueRows((await query(interpolate(panel(title), withPolicy(selected, "raw"), range, 1000))).series);
    expect(await rows("Voltage")).toHaveLength(SAMPLES);
    expect((await rows("Voltage"))[0]?.[1]).toBeCloseTo(3.7, 6); // R1 discharges from 3.7 V; R2 charges from 3.7 V too
    expect(await rows("Cycles")).toHaveLength(1);
    expect(await rows("Steps")).toHaveLength(2);
    const events = await rows("Run events (state changes, faults)");
    expect(events.map((e) => e[1])).toEqual(["running", "faulted"]);
  });

  it("a misspelled field or measurement returns nothing (so the panel checks can fail)", async () => {
    const { selected } = await resolveVariables(run, { bench: "b1", channel: "ch1", run: "R1" });
    const voltage = queryPanels(run).find((p) => p.title === "Voltage")?.targets?.[0]?.query as string;
    const vars = withPolicy(selected, "raw");
    expect(valueRows((await query(interpolate(voltage, vars, range, 1000))).series).length).toBeGreaterThan(
      0,
    );
    for (const broken of [
      voltage.replace('"voltage_v"', '"voltage"'),
      voltage.replace('."cell"', '."cells"'),
    ])
      expect(valueRows((await query(interpolate(broken, vars, range, 1000))).series)).toEqual([]);
  });

  it("opens a sped-up run by the link the daemon gives it (its own time range), where 'last hour' shows nothing", async () => {
    const link = new URL(
      runDashboardPath(
        { id: "RSIM", channel: "ch2", bench: "b1" },
        { fromMs: SIMULATED_START, toMs: SIMULATED_START + 29_000 },
        0,
      ),
      "http://grafana.invalid",
    );
    expect(link.pathname).toBe(`/d/${run.uid}`);
    const prefer = Object.fromEntries(
      ["bench", "channel", "run"].map((name) => [name, link.searchParams.get(`var-${name}`) as string]),
    );
    const { selected } = await resolveVariables(run, prefer);
    // Every value the link sets is one the variable lists, so Grafana keeps it.
    for (const name of ["bench", "channel", "run"])
      expect(selected.get(name)?.values).toEqual([prefer[name]]);
    const voltage = queryPanels(run).find((p) => p.title === "Voltage")?.targets?.[0]?.query as string;
    const points = async (r: TimeRange) =>
      valueRows((await query(interpolate(voltage, withPolicy(selected, "raw"), r, 1000))).series).length;
    const fromLink = {
      fromMs: Number(link.searchParams.get("from")),
      toMs: Number(link.searchParams.get("to")),
    };
    expect(await points(fromLink)).toBe(30);
    expect(await points({ fromMs: Date.now() - 3_600_000, toMs: Date.now() })).toBe(0);
  });
});
