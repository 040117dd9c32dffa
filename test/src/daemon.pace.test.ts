/** What a sped-up simulated daemon says about its clock: /health, /metrics and the log. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PacedClock } from "../../drivers/paced-clock.js";
import { loadConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { createLogger } from "../../src/log.js";
import { parseProfile } from "../../src/profile/document.js";
import { eventually } from "../support/wait.js";

const TOKEN = "pace-viewer-token-0001";
const scratch = mkdtempSync(join(tmpdir(), "cellbench-pace-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function simBench(name: string): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `bench: ${name}`,
      `store: ${join(scratch, `${name}.db`)}`,
      "http: { host: 127.0.0.1, port: 0 }",
      "sampling: { period: 100 ms }",
      `auth: { tokens: [{ role: viewer, token: ${TOKEN} }] }`,
      "devices:",
      "  - { id: cycler1, driver: sim/cycler, channels: [ch1] }",
      "",
    ].join("\n"),
  );
  return path;
}

describe("the clock of a simulated bench", () => {
  it("is paced simulated time, reported with its achieved speed in /health and /metrics", async () => {
    const daemon = await Daemon.start({
      config: loadConfig(simBench("paced"), {}),
      logger: createLogger({ level: "silent" }),
      speed: 20,
    });
    try {
      expect(daemon.bench.clock).toBeInstanceOf(PacedClock);
      await eventually(() => daemon.bench.clock.now() >= 2000, "two simulated seconds", 30_000);
      const health = (await (await fetch(`${daemon.address}/health`)).json()) as {
        clock: { kind: string; speed: number; achieved_speed: number };
      };
      expect(health.clock).toMatchObject({ kind: "simulated", speed: 20 });
      expect(health.clock.achieved_speed).toBeGreaterThan(0);
      expect(health.clock.achieved_speed).toBeLessThanOrEqual(20 * 1.5);
      const bench = (await (
        await fetch(`${daemon.address}/api/v1/bench`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as { clock: { kind: string; speed: number } };
      expect(bench.clock).toMatchObject({ kind: "simulated", speed: 20 });
      const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
      expect(metrics).toMatch(/^cellbench_clock_speed 20$/m);
      expect(metrics).toMatch(/^cellbench_clock_achieved_speed \d+(\.\d+)?(e[-+]\d+)?$/m);
      expect(metrics).toMatch(/^cellbench_clock_slowdowns \d+$/m);
    } finally {
      await daemon.stop();
    }
  });

  it("continues simulated wall time after a restart instead of going back to the real clock", async () => {
    const path = simBench("restart");
    const first = await Daemon.start({
      config: loadConfig(path, {}),
      logger: createLogger({ level: "silent" }),
      speed: 5000,
      http: false,
    });
    await first.runs.create(
      {
        channel: "ch1",
        cell: {
          id: "C1",
          chemistry: "li-ion-nmc",
          capacityAh: 3,
          voltageV: [2.5, 4.2],
          currentA: [-6, 6],
          temperatureC: [-20, 60],
        },
        profile: parseProfile("name: rest\nsteps:\n  - Rest for 1 hour\n", { sourceName: "rest" }),
      },
      "R1",
    );
    // Well ahead of the real clock: 1000 simulated seconds in well under a real one at 5000×.
    await eventually(() => first.bench.clock.now() >= 1_000_000, "1000 simulated seconds", 60_000);
    await first.stop();
    const stoppedAt = Math.max(...first.runs.get("R1").history.map((h) => h.tWallMs));
    expect(stoppedAt).toBeGreaterThan(Date.now() + 500_000);
    const second = await Daemon.start({
      config: loadConfig(path, {}),
      logger: createLogger({ level: "silent" }),
      speed: 5000,
      http: false,
    });
    try {
      expect(second.bench.clock.wallNow()).toBeGreaterThan(stoppedAt);
    } finally {
      await second.stop();
    }
  });
});
