import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../drivers/clock.js";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { parseProfile } from "../../src/profile/document.js";
import type { CellRecord, RunState } from "../../src/run/records.js";
import { DEFAULT_CATCH_UP_POINTS_PER_SECOND } from "../../src/storage/forwarder.js";
import { type Influxd, startInfluxd } from "../support/influxd.js";
import { NMC_18650 } from "../support/sim-bench.js";
import { eventually } from "../support/wait.js";

const root = join(import.meta.dirname, "..", "..");
const silent = pino({ level: "silent" });
let influxd: Influxd;
const scratch = mkdtempSync(join(tmpdir(), "cellbench-daemon-"));

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

let n = 0;
/** A one-channel simulated bench writing into its own database. */
function benchConfig(influxExtra = ""): { path: string; database: string } {
  n++;
  const database = `e2e${n}`;
  const path = join(scratch, `bench${n}.yaml`);
  writeFileSync(
    path,
    [
      "bench: e2e",
      `store: ${join(scratch, `bench${n}.db`)}`,
      `influx: { url: "${influxd.url}", database: ${database}${influxExtra} }`,
      "sampling: { period: 100 ms }",
      "devices:",
      "  - { id: cycler1, driver: sim/cycler, channels: [ch1], options: { initialSoc: 0.6 } }",
      "",
    ].join("\n"),
  );
  return { path, database };
}

const profile = parseProfile(
  "name: e2e\nsteps:\n  - Discharge at 1C for 10 minutes\n  - Rest for 5 minutes\n  - Charge at 1C for 10 minutes\n",
  { sourceName: "e2e" },
);
const cell = NMC_18650;

interface StoredPoint {
  time: number;
  voltage_v: number;
  current_a: number;
  charge_ah: number;
  discharge_ah: number;
  test_time_s: number;
  step_index: number;
}

async function storedPoints(database: string, run: string): Promise<StoredPoint[]> {
  const json = (await influxd.query(
    `SELECT voltage_v, current_a, charge_ah, discharge_ah, test_time_s, step_index FROM raw.cell WHERE run = '${run}'`,
    { db: database },
  )) as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] };
  const series = json.results[0]?.series?.[0];
  if (!series) return [];
  return series.values.map(
    (row) => Object.fromEntries(series.columns.map((c, i) => [c, row[i]])) as unknown as StoredPoint,
  );
}

/**
 * Starts a daemon (on its own clock at `time.speed`, or on `time.clock`), records what it hands to
 * storage, and starts the e2e run on ch1. `endedAs()` says how the run ended, once it has.
 */
async function startRun(
  path: string,
  time: { clock: VirtualClock } | { speed: number },
): Promise<{
  daemon: Daemon;
  logged: CellRecord[];
  ended: Promise<RunState>;
  endedAs: () => string | undefined;
}> {
  const daemon = await Daemon.start({ config: loadConfig(path, {}), logger: silent, ...time, http: false });
  const storage = daemon.storage!;
  const logged: CellRecord[] = [];
  const logCell = storage.logCell.bind(storage);
  storage.logCell = (record) => {
    logged.push(record);
    logCell(record);
  };
  let end: string | undefined;
  const ended = new Promise<RunState>((resolve) =>
    daemon.runs.subscribe((e) => {
      if (e.type === "state" && ["completed", "stopped", "aborted", "faulted"].includes(e.event.state)) {
        end = `the run ended ${e.event.state}: ${e.event.reason}`;
        resolve(e.event.state);
      }
    }),
  );
  await daemon.runs.create({ channel: "ch1", cell, profile }, "R20261125-0001");
  return { daemon, logged, ended, endedAs: () => end };
}

/** The child's `L` lines whose sample is among the first `upTo` lines committed (default: the last `C`). */
function committedSamples(lines: string[], upTo?: number): string[] {
  const last =
    upTo ?? Math.max(0, ...lines.filter((l) => l.startsWith("C ")).map((l) => Number(l.split(" ")[1])));
  return lines.filter((l) => l.startsWith("L ") && Number(l.split(" ")[3]) <= last);
}

const drained = (daemon: Daemon) => {
  const s = daemon.storage!.status();
  return s.backlog.points === 0 && s.backlog.pendingLines === 0;
};

describe("the daemon's data path into a real influxd", () => {
  it("stores every logged sample of a high-speed simulated run exactly once, values intact", async () => {
    const { path, database } = benchConfig();
    const { daemon, logged, ended } = await startRun(path, {
      clock: new VirtualClock({ auto: true, wallOriginMs: Date.now() }),
    });
    expect(await ended).toBe("completed");
    await eventually(() => drained(daemon), "the outbox to drain", 60_000);
    await daemon.stop();
    const stored = await storedPoints(database, "R20261125-0001");
    const csvPath = join(scratch, "export.csv");
    const printed: string[] = [];
    expect(
      await main(
        ["export", "R20261125-0001", "--format", "bdf-csv", "--out", csvPath, "--config", path],
        (l) => printed.push(l),
      ),
    ).toBe(0);
    const csv = readFileSync(csvPath, "utf8").trim().split("\n");
    expect(csv[0]).toContain("Test Time / s,Unix Time / s,Voltage / V,Current / A");
    expect(csv.length - 1).toBe(logged.length);
    const metadataPath = join(scratch, "export.metadata.json");
    expect(printed).toEqual([
      `exported ${logged.length} rows of run R20261125-0001 to ${csvPath}`,
      `wrote the run's metadata to ${metadataPath}`,
    ]);
    const metadata = JSON.parse(readFileSync(metadataPath, "utf8"));
    expect(metadata.run).toMatchObject({
      id: "R20261125-0001",
      bench: "e2e",
      channel: "ch1",
      state: "completed",
    });
    expect(metadata.cell).toMatchObject({
      id: cell.id,
      chemistry: cell.chemistry,
      nominal_capacity_ah: cell.capacityAh,
    });
    // Step ID and Step Type come from the run's step records: every row's step has ended.
    const header = (csv[0] as string).split(",");
    const [idAt, typeAt] = [header.indexOf("Step ID / 1"), header.indexOf("Step Type / 1")];
    expect(new Set(csv.slice(1).map((l) => l.split(",")[typeAt]))).toEqual(
      new Set(["cc_discharge", "rest", "cc_charge"]),
    );
    expect(new Set(csv.slice(1).map((l) => l.split(",")[idAt]))).toEqual(new Set(["1", "2", "3"]));
    // 25 minutes at 100 ms, every sample logged (the profile sets no criteria).
    expect(logged.length).toBeGreaterThan(15_000);
    expect(stored.length).toBe(logged.length);
    const byTime = new Map(stored.map((p) => [p.time, p]));
    for (const r of logged) {
      const p = byTime.get(r.tWallMs);
      expect(p, `point at ${r.tWallMs}`).toBeDefined();
      expect([
        p!.voltage_v,
        p!.current_a,
        p!.charge_ah,
        p!.discharge_ah,
        p!.test_time_s,
        p!.step_index,
      ]).toEqual([r.voltageV, r.currentA, r.chargeAh, r.dischargeAh, r.testTimeS, r.stepIndex]);
    }
  }, 120_000);

  it("hands influx.catchUpPointsPerSecond to the forwarder, and uses its default without it", async () => {
    for (const [extra, rate] of [
      [", catchUpPointsPerSecond: 40000", 40_000],
      ["", DEFAULT_CATCH_UP_POINTS_PER_SECOND],
    ] as const) {
      const daemon = await Daemon.start({
        config: loadConfig(benchConfig(extra).path, {}),
        logger: silent,
        http: false,
      });
      try {
        expect(daemon.storage?.status().backlog.catchUpPointsPerSecond).toBe(rate);
      } finally {
        await daemon.stop();
      }
    }
  });

  it("loses and duplicates nothing when InfluxDB stops mid-run and comes back", async () => {
    const { path, database } = benchConfig();
    const { daemon, logged, ended, endedAs } = await startRun(path, { speed: 100 });
    try {
      await eventually(() => logged.length > 1000, "the run to log samples", 60_000, endedAs);
      await influxd.halt();
      const before = logged.length;
      await eventually(
        () => logged.length > before + 2000,
        "samples logged during the outage",
        60_000,
        endedAs,
      );
      expect(daemon.storage!.status().influx.reachable).toBe(false);
    } finally {
      await influxd.restart();
    }
    expect(await ended).toBe("completed");
    await eventually(() => drained(daemon), "the outbox to drain", 60_000);
    await daemon.stop();
    const stored = await storedPoints(database, "R20261125-0001");
    expect(new Set(logged.map((r) => r.tWallMs)).size).toBe(logged.length);
    expect(stored.length).toBe(logged.length);
    expect(stored.map((p) => p.time).sort((a, b) => a - b)).toEqual(
      logged.map((r) => r.tWallMs).sort((a, b) => a - b),
    );
  }, 120_000);

  it("after SIGKILL with InfluxDB down, a restart delivers every committed sample and resumes the run as interrupted", async () => {
    const { path, database } = benchConfig();
    await influxd.halt();
    let child: ChildProcess | undefined;
    const lines: string[] = [];
    let readyAt = 0;
    try {
      child = spawn(
        process.execPath,
        ["--import", "tsx", join(root, "test", "support", "daemon-child.ts"), path, "10"],
        {
          cwd: root,
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let buffer = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        for (const line of parts) {
          if (line === "READY") readyAt = Date.now();
          else lines.push(line);
        }
      });
      // Enough committed samples to judge, however fast this machine runs the child's simulation.
      const committedSoFar = () => committedSamples(lines).length;
      await eventually(
        () => readyAt > 0 && committedSoFar() > 300,
        "the child to commit 300 samples",
        60_000,
        () => (child?.exitCode !== null ? `the child exited with ${child?.exitCode}` : undefined),
      );
      child.kill("SIGKILL");
      await new Promise((resolve) => child?.once("exit", resolve));
    } finally {
      child?.kill("SIGKILL");
      await influxd.restart();
    }
    const daemon = await Daemon.start({ config: loadConfig(path, {}), logger: silent, http: false });
    await eventually(() => drained(daemon), "the recovered outbox to drain", 60_000);
    const run = daemon.runs.get("R20261125-0001");
    await daemon.stop();
    const stored = await storedPoints(database, "R20261125-0001");

    // The child printed "C <n>" once the first n lines it appended were committed.
    const samples = lines.filter((l) => l.startsWith("L ")).map((l) => Number(l.split(" ")[2]));
    const committed = committedSamples(lines).length;
    const lost = samples.length - stored.length;
    // The most samples one commit made durable (what a kill may cut off at most).
    let biggestCommit = 0;
    let before = 0;
    for (const line of lines) {
      if (!line.startsWith("C ")) continue;
      const upTo = committedSamples(lines, Number(line.split(" ")[1])).length;
      biggestCommit = Math.max(biggestCommit, upTo - before);
      before = upTo;
    }
    console.log(
      `crash: ${samples.length} samples handed to storage, ${committed} committed, ${stored.length} in InfluxDB, ${lost} lost; largest commit ${biggestCommit} samples`,
    );
    expect(committed).toBeGreaterThan(200);
    // Every confirmed sample reached InfluxDB, in order, with no gap. The commit in flight when the
    // kill came may have become durable unconfirmed, so at most that much more arrives; what is
    // lost is at most that commit and the lines waiting for the next one.
    expect(stored.length).toBeGreaterThanOrEqual(committed);
    expect(stored.length - committed).toBeLessThanOrEqual(biggestCommit * 2);
    expect(lost).toBeLessThanOrEqual(biggestCommit * 2);
    const storedTimes = stored.map((p) => p.test_time_s).sort((a, b) => a - b);
    expect(storedTimes).toEqual(samples.slice(0, stored.length));
    // The checkpoint committed with the last lines brings the run back where the data stops.
    expect(run.state).toBe("interrupted");
    expect(run.status?.testTimeS).toBeGreaterThanOrEqual(storedTimes[storedTimes.length - 1]!);
    expect(run.status?.testTimeS).toBeLessThan(storedTimes[storedTimes.length - 1]! + 1);
  }, 120_000);
});
