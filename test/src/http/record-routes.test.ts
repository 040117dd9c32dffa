/** GET /api/v1/runs/:id/steps and /cycles: a run's records read back from a real influxd. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { Daemon } from "../../../src/daemon.js";
import { createLogger } from "../../../src/log.js";
import { parseProfile } from "../../../src/profile/document.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";
import { NMC_18650 } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

const TOKEN = "viewer-token-records-0123456789";
let influxd: Influxd;
let daemon: Daemon;
let base: string;

const PROFILE = `
name: two-cycles
steps:
  - Rest for 1 minute
  - repeat: 2
    steps:
      - Discharge at 1C for 3 minutes
      - Rest for 1 minute
      - Charge at 1C for 3 minutes
  - Rest for 2 minutes
`;

beforeAll(async () => {
  influxd = await startInfluxd();
  const config: BenchConfig = {
    source: "test",
    bench: "records",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    influx: { url: influxd.url, database: "records" },
    devices: [{ id: "cycler1", driver: "sim/cycler", channels: ["ch1"], options: { initialSoc: 0.6 } }],
    chambers: [],
    samplingPeriodMs: 1000,
    tokens: [{ role: "viewer", token: TOKEN }],
  };
  daemon = await Daemon.start({
    config,
    logger: createLogger({ level: "silent" }),
    clock: new VirtualClock({ auto: true, wallOriginMs: Date.now() }),
  });
  base = daemon.address as string;
  await daemon.runs.create(
    { channel: "ch1", cell: NMC_18650, profile: parseProfile(PROFILE, { sourceName: "test" }) },
    "R20261204-0001",
  );
  await eventually(
    () => daemon.runs.get("R20261204-0001").state === "completed",
    "the run to complete",
    60_000,
  );
  await eventually(
    () => {
      const s = daemon.storage?.status();
      return s !== undefined && s.backlog.points === 0 && s.backlog.pendingLines === 0;
    },
    "the outbox to drain",
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await influxd?.stop();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Rows = Record<string, string | number | null>[];

describe("run records over the API", () => {
  it("lists every step with its type, cycle, Ah and end reason; steps outside the loop in cycle 0", async () => {
    const { status, body } = await get("/api/v1/runs/R20261204-0001/steps");
    expect(status).toBe(200);
    const steps = body.records as Rows;
    expect(steps.map((s) => [s.step_index, s.step_id, s.cycle_index, s.step_type])).toEqual([
      [1, 1, 0, "rest"],
      [2, 3, 1, "cc_discharge"],
      [3, 4, 1, "rest"],
      [4, 5, 1, "cc_charge"],
      [5, 3, 2, "cc_discharge"],
      [6, 4, 2, "rest"],
      [7, 5, 2, "cc_charge"],
      [8, 6, 0, "rest"],
    ]);
    const discharge = steps[1] as Rows[number];
    expect(discharge.discharge_ah).toBeCloseTo(0.15, 2);
    expect(discharge.duration_s).toBeCloseTo(180, 3);
    expect(discharge.end_reason).toBe("step time 180 s");
    expect(typeof discharge.time).toBe("string");
    expect(body.next_after).toBeNull();
  });

  it("pages by step index", async () => {
    const first = await get("/api/v1/runs/R20261204-0001/steps?limit=3");
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect((first.body.records as Rows).map((s) => s.step_index)).toEqual([1, 2, 3]);
    expect(first.body.next_after).toBe(3);
    const second = await get("/api/v1/runs/R20261204-0001/steps?limit=3&after=3");
    expect((second.body.records as Rows).map((s) => s.step_index)).toEqual([4, 5, 6]);
  });

  it("lists the cycles with efficiencies and retention", async () => {
    const { status, body } = await get("/api/v1/runs/R20261204-0001/cycles");
    expect(status).toBe(200);
    const cycles = body.records as Rows;
    expect(cycles.map((c) => c.cycle_index)).toEqual([1, 2]);
    for (const c of cycles) {
      expect(c.coulombic_efficiency).toBeCloseTo(1, 2);
      expect(c.energy_efficiency as number).toBeLessThan(1);
      expect(c.energy_efficiency as number).toBeGreaterThan(0.8);
    }
    expect(cycles[0]?.capacity_retention).toBe(1);
  });

  it("gives the run's metadata: the cell and the test", async () => {
    const { status, body } = await get("/api/v1/runs/R20261204-0001/metadata");
    expect(status).toBe(200);
    expect(body.run).toMatchObject({
      id: "R20261204-0001",
      bench: "records",
      channel: "ch1",
      profile: "two-cycles",
    });
    expect(body.cell).toMatchObject({
      id: NMC_18650.id,
      chemistry: NMC_18650.chemistry,
      nominal_capacity_ah: NMC_18650.capacityAh,
      voltage_v: NMC_18650.voltageV,
    });
  });

  it("answers 400 for a bad page size and 404 for an unknown run", async () => {
    expect((await get("/api/v1/runs/R20261204-0001/steps?limit=0")).status).toBe(400);
    expect((await get("/api/v1/runs/R20261204-0001/cycles?limit=5000")).status).toBe(400);
    expect((await get("/api/v1/runs/R20261204-0099/steps")).status).toBe(404);
  });
});
