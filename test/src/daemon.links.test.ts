import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SystemClock } from "../../drivers/clock.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../drivers/emulators/ea-psb-scpi-emulator.js";
import "../../drivers/all.js";
import type { MemoryPair } from "../../protocols/index.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { memoryLink } from "../drivers/ea/emulator-fixtures.js";
import { eventually } from "../support/wait.js";

const TOKEN = "viewer-token-for-link-tests-0001";

interface Health {
  status: string;
  problems: string[];
  devices: Array<{ id: string; link: Record<string, unknown> }>;
}

/**
 * The daemon's account of a real instrument whose link drops and comes back: the real EA PSB driver
 * over a memory pair to its emulator, seen through the log, /health, /api/v1/bench and /metrics.
 */
describe("daemon: a real instrument's link drops and comes back", () => {
  let daemon: Daemon | undefined;
  let emulator: EaPsbScpiEmulator | undefined;
  let pair: MemoryPair | undefined;
  afterEach(async () => {
    await daemon?.stop({ drainTimeoutMs: 0 });
    await emulator?.stop();
    await pair?.dispose();
  });

  it("logs the loss and the take-over, reports the link in /health and /api/v1/bench, counts the reconnect", async () => {
    const link = memoryLink();
    pair = link.pair;
    emulator = await startEaPsbScpiEmulator({ listen: pair.device, clock: new SystemClock() });
    const config: BenchConfig = {
      source: "test",
      bench: "links",
      http: { host: "127.0.0.1", port: 0 },
      store: ":memory:",
      devices: [
        {
          id: "psb1",
          driver: "ea/psb-scpi",
          transport: link.url,
          channels: ["ch1"],
          options: { timeoutMs: 200, retryMs: 50 },
        },
      ],
      chambers: [],
      samplingPeriodMs: 100,
      tokens: [{ role: "viewer", token: TOKEN }],
    };
    const logLines: Array<{ msg: string; device?: string; reason?: string }> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line));
        done();
      },
    });
    daemon = await Daemon.start({ config, logger: pino({ level: "info" }, destination) });
    const base = daemon.address!;
    const fetchOk = (path: string) =>
      fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const health = async () => (await (await fetchOk("/health")).json()) as Health;
    const benchDevices = async () => ((await (await fetchOk("/api/v1/bench")).json()) as Health).devices;
    const metricsText = async () => (await fetchOk("/metrics")).text();

    const before = await health();
    expect(before.devices[0]?.link).toEqual({
      state: "up",
      since: null,
      reason: null,
      losses: 0,
      reconnects: 0,
    });

    pair.unplug();
    await eventually(
      async () => (await health()).devices[0]?.link.state === "down",
      "/health to see the drop",
    );
    const down = await health();
    expect(down.status).not.toBe("ok");
    expect(down.problems.some((p) => /^device psb1 link down since \S+Z: /.test(p))).toBe(true);
    expect((await benchDevices())[0]?.link).toMatchObject({ state: "down", losses: 1 });
    expect(await metricsText()).toMatch(/cellbench_device_link_up\{device="psb1"\} 0/);
    const lost = logLines.find((l) => l.msg.startsWith("link lost"));
    expect(lost).toMatchObject({ device: "psb1" });
    expect(lost?.reason).toBeTruthy();
    // Reads while the link is down fail fast, counted by their stable code, not as one opaque kind.
    const failFast = /cellbench_device_errors_total\{device="psb1",kind="cycler_output_unknown"\} \d+/;
    await eventually(async () => failFast.test(await metricsText()), "a read to fail fast while down");

    pair.plug();
    await eventually(async () => (await health()).devices[0]?.link.state === "up", "the take-over", 10_000);
    const up = await health();
    expect(up.devices[0]?.link).toMatchObject({ state: "up", reason: null, losses: 1, reconnects: 1 });
    expect(up.problems.filter((p) => p.includes("link"))).toEqual([]);
    const metrics = await metricsText();
    expect(metrics).toMatch(/cellbench_device_reconnects_total\{device="psb1"\} 1/);
    expect(metrics).toMatch(/cellbench_device_link_up\{device="psb1"\} 1/);
    expect(logLines.some((l) => l.msg === "link restored" && l.device === "psb1")).toBe(true);
  }, 30_000);
});
