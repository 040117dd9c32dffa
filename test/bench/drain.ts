/**
 * Backlog drain (issue 16 target 3, second half): an outage's worth of 64 channels × 10 Hz is spooled
 * into the outbox (InfluxDB down), then the rig opens on that outbox with InfluxDB back and samples
 * 64 channels × 100 Hz on the real clock (every sample logged) while the forwarder drains. Reported:
 * how long the backlog took to drain and the sampling loops' lateness meanwhile (judged as target 2).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SystemClock } from "../../drivers/clock.js";
import { raiseSamplingPriority } from "../../src/sampling/process-priority.js";
import { dropRealtimePriority, requestRealtimePriority } from "../../src/sampling/realtime-priority.js";
import { Storage } from "../../src/storage/storage.js";
import type { Influxd } from "../support/influxd.js";
import { closedPort, openRig } from "./rig.js";
import { distribution, type Out, sleep } from "./stats.js";
import { STEADINESS_TARGET } from "./steadiness.js";

export interface DrainFigures {
  /** Minutes of 64 × 10 Hz in the backlog. */
  backlog_minutes: number;
  backlog_points: number;
  spool_seconds: number;
  drain_seconds: number;
  /** Backlog points per second of drain (new samples came on top). */
  drain_points_per_s: number;
  /** Sampling during the drain: 64 channels × 100 Hz, every sample logged. */
  hz: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  missed: number;
  drained: boolean;
  /** SCHED_FIFO priority the sampling thread ran at during the drain (as in steadiness), or null: nice only. */
  realtime_priority: number | null;
  target: typeof STEADINESS_TARGET;
  met: boolean;
}

export interface DrainOptions {
  influxd: Influxd;
  minutes: number;
  /** Bound on the drain, real seconds (default 600). */
  sampleS?: number | undefined;
  /** SCHED_FIFO priority for the sampling thread during the drain, as the steadiness scenarios run (0: none). */
  realtimePriority?: number | undefined;
  out?: Out;
}

const CHANNELS = 64;
const SPOOL_HZ = 10;
const HZ = 100;

export async function measureDrain(options: DrainOptions): Promise<DrainFigures> {
  const dir = mkdtempSync(join(tmpdir(), "cellbench-drain-"));
  const store = join(dir, "cellbench.db");
  try {
    const spoolStarted = performance.now();
    const backlog = await spool(store, options.minutes);
    const spoolSeconds = (performance.now() - spoolStarted) / 1000;
    options.out?.(
      `\nbacklog drain: ${backlog.toLocaleString("en")} points (${options.minutes} min of ${CHANNELS} × ${SPOOL_HZ} Hz) ` +
        `spooled in ${spoolSeconds.toFixed(1)} s; InfluxDB back, sampling ${CHANNELS} × ${HZ} Hz meanwhile`,
    );
    const lateness: number[] = [];
    // As the daemon does at start-up, and as the steadiness scenarios are judged.
    raiseSamplingPriority();
    const rig = await openRig({
      clock: new SystemClock(),
      periodMs: 1000 / HZ,
      influxUrl: options.influxd.url,
      database: "drain",
      store,
      logging: "every sample",
      http: true,
      onLateness: (_poller, ms) => lateness.push(ms),
    });
    const asked = options.realtimePriority ?? 0;
    // After the rig's threads have started (they must not inherit it).
    const realtime = asked > 0 ? requestRealtimePriority(asked) : undefined;
    try {
      const started = performance.now();
      const missed0 = rig.missed();
      const boundMs = (options.sampleS ?? 600) * 1000;
      const drained = () => {
        const s = rig.storage.status();
        return s.written.points >= backlog && s.backlog.rows === 0;
      };
      while (!drained() && performance.now() - started < boundMs) await sleep(20);
      const seconds = (performance.now() - started) / 1000;
      const d = distribution(lateness);
      const missed = rig.missed() - missed0;
      const f: DrainFigures = {
        backlog_minutes: options.minutes,
        backlog_points: backlog,
        spool_seconds: spoolSeconds,
        drain_seconds: seconds,
        drain_points_per_s: Math.round(backlog / seconds),
        hz: HZ,
        p50_ms: d.p50,
        p99_ms: d.p99,
        max_ms: d.max,
        missed,
        drained: drained(),
        realtime_priority: realtime?.applied ? realtime.priority : null,
        target: STEADINESS_TARGET,
        met: drained() && d.p99 < STEADINESS_TARGET.max_p99_ms && missed <= STEADINESS_TARGET.max_missed,
      };
      options.out?.(
        `  ${f.drained ? "drained" : "NOT drained"} in ${seconds.toFixed(1)} s (${f.drain_points_per_s.toLocaleString("en")} backlog points/s); ` +
          `lateness p50 / p99 / max ${d.p50.toFixed(3)} / ${d.p99.toFixed(3)} / ${d.max.toFixed(3)} ms, ${missed} missed ` +
          `(target p99 < ${STEADINESS_TARGET.max_p99_ms} ms, none missed: ${f.met ? "met" : "MISSED"}; ` +
          `${f.realtime_priority !== null ? `SCHED_FIFO ${f.realtime_priority}` : "nice only"})`,
      );
      return f;
    } finally {
      if (realtime?.applied) dropRealtimePriority();
      await rig.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Spools `minutes` of 64 × 10 Hz cell samples into the outbox at `store`; returns the points. */
async function spool(store: string, minutes: number): Promise<number> {
  const storage = Storage.open({
    bench: "rig",
    store,
    influx: { url: `http://127.0.0.1:${await closedPort()}`, database: "drain" },
    statusLogEveryMs: 0,
  });
  const ticks = Math.round(minutes * 60 * SPOOL_HZ);
  const t0 = Date.now() - minutes * 60_000;
  let points = 0;
  for (let k = 0; k < ticks; k++) {
    for (let c = 1; c <= CHANNELS; c++) {
      const chargeAh = k / 36_000;
      storage.logCell({
        channel: `ch${c}`,
        run: `R-spool-ch${c}`,
        cell: `NMC-ch${c}`,
        tWallMs: t0 + k * 100,
        testTimeS: k / SPOOL_HZ,
        stepTimeS: k / SPOOL_HZ,
        voltageV: Math.round((3.6 + (k % 6000) / 10_000 + c / 1e4) * 1e4) / 1e4,
        currentA: 0.3,
        temperatureC: 25,
        powerW: 1.1,
        chargeAh,
        dischargeAh: 0,
        chargeWh: chargeAh * 3.7,
        dischargeWh: 0,
        stepIndex: 3,
        cycleIndex: 0,
      });
      points++;
    }
    // Commits of the size the daemon makes (its group commit runs every 100 ms).
    if (k % 10 === 9) {
      await storage.outbox.commit();
      if (k % 1000 === 999) await sleep(0);
    }
  }
  await storage.close({ drainTimeoutMs: 0 });
  return points;
}
