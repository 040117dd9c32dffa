/**
 * `cellbench serve --speed 100` on a busy host: four runs in one chamber, two CPU-burning processes
 * beside the daemon. Simulated time is paced, so the host being slow makes the runs slower, never
 * faulted, and the stored series has every logged second.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { parseProfile } from "../../src/profile/document.js";
import { type Influxd, startInfluxd } from "../support/influxd.js";
import { NMC_18650 } from "../support/sim-bench.js";
import { eventually } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "cellbench-speed-"));
let influxd: Influxd;
const burners: ChildProcess[] = [];

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  for (const b of burners) b.kill("SIGKILL");
  await influxd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const CHANNELS = ["ch1", "ch2", "ch3", "ch4"];
const LOG_EVERY_S = 1;
const profile = parseProfile(
  [
    "name: speed",
    `log: { every: ${LOG_EVERY_S} s }`,
    "steps:",
    "  - Discharge at 2C for 8 minutes",
    "  - Rest for 4 minutes",
    "  - Charge at 2C for 8 minutes",
    "  - Rest for 4 minutes",
    "",
  ].join("\n"),
  { sourceName: "speed" },
);
const PROFILE_S = 24 * 60;

function burnCpu(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  burners.push(child);
  return child;
}

async function storedTestTimes(database: string, run: string): Promise<number[]> {
  const json = (await influxd.query(`SELECT test_time_s FROM raw.cell WHERE run = '${run}'`, {
    db: database,
  })) as { results: { series?: { values: [unknown, number][] }[] }[] };
  return (json.results[0]?.series?.[0]?.values ?? []).map((row) => row[1]).sort((a, b) => a - b);
}

describe("a simulated bench at --speed 100 beside two CPU-burning processes", () => {
  it("completes every run, and InfluxDB holds each run's series without a gap over one log period", async () => {
    const database = "speed";
    const path = join(scratch, "bench.yaml");
    writeFileSync(
      path,
      [
        "bench: speed",
        `store: ${join(scratch, "bench.db")}`,
        `influx: { url: "${influxd.url}", database: ${database} }`,
        "sampling: { period: 100 ms }",
        "devices:",
        `  - { id: cycler1, driver: sim/cycler, channels: [${CHANNELS.join(", ")}], options: { initialSoc: 0.6 } }`,
        "  - { id: tc1, driver: sim/chamber, options: { initialC: 25 } }",
        `chambers: [{ id: tc1, device: tc1, channels: [${CHANNELS.join(", ")}] }]`,
        "",
      ].join("\n"),
    );
    burnCpu();
    burnCpu();
    const daemon = await Daemon.start({
      config: loadConfig(path, {}),
      logger: pino({ level: "silent" }),
      speed: 100,
      http: false,
    });
    const ended = new Map<string, string>();
    daemon.runs.subscribe((e) => {
      if (e.type === "state" && ["completed", "stopped", "aborted", "faulted"].includes(e.event.state))
        ended.set(e.run, `${e.event.state}${e.event.reason ? `: ${e.event.reason}` : ""}`);
    });
    const runs = CHANNELS.map((_channel, i) => `R20261203-000${i + 1}`);
    try {
      for (const [i, channel] of CHANNELS.entries())
        await daemon.runs.create(
          { channel, cell: { ...NMC_18650, id: `NMC-${i + 1}` }, profile },
          runs[i] as string,
        );
      const faulted = () => [...ended.values()].find((reason) => !reason.startsWith("completed"));
      await eventually(() => ended.size === runs.length, "every run to end", 240_000, faulted);
      for (const b of burners) b.kill("SIGKILL");
      expect(Object.fromEntries(ended)).toEqual(Object.fromEntries(runs.map((r) => [r, "completed"])));
      const drained = () => {
        const s = daemon.storage?.status();
        return s !== undefined && s.backlog.points === 0 && s.backlog.pendingLines === 0;
      };
      await eventually(drained, "the outbox to drain", 60_000);
    } finally {
      await daemon.stop();
    }
    for (const run of runs) {
      const times = await storedTestTimes(database, run);
      expect(times[0], run).toBe(0);
      expect(times[times.length - 1], run).toBeCloseTo(PROFILE_S, 6);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      expect(Math.max(...gaps), `${run}: largest gap in test time`).toBeLessThanOrEqual(LOG_EVERY_S + 1e-6);
      // Every logged second is there once: about one point per second, plus forced step boundaries.
      expect(times.length, run).toBeGreaterThanOrEqual(PROFILE_S);
    }
  }, 300_000);
});
