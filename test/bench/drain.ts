/**
 * Backlog drain (issue 16 target 3, second half), as an outage ends in the lab: an outage's worth of
 * 64 channels × 10 Hz is spooled into the outbox with InfluxDB down; the rig opens on that outbox and
 * samples 64 channels × 100 Hz on the real clock (every sample logged), still without InfluxDB, for
 * a warm-up; then InfluxDB comes back on its port and the forwarder drains the backlog (at the
 * catch-up rate, influx.catchUpPointsPerSecond) while sampling goes on. Reported: how long the
 * forwarder took to notice InfluxDB and to drain, and the sampling loops' lateness from InfluxDB's
 * return until the backlog was gone (judged as target 2).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SystemClock } from "../../drivers/clock.js";
import { raiseSamplingPriority } from "../../src/sampling/process-priority.js";
import {
  dropRealtimePriority,
  type RealtimeOutcome,
  requestRealtimePriority,
} from "../../src/sampling/realtime-priority.js";
import { Storage } from "../../src/storage/storage.js";
import type { Influxd } from "../support/influxd.js";
import { describeHostStalls, type HostStallFigures, LatenessWindow } from "./lateness-window.js";
import { CHANNELS_PER_CYCLER, closedPort, openRig, type Rig } from "./rig.js";
import { forceGc, type Out, sleep } from "./stats.js";
import { STEADINESS_TARGET } from "./steadiness.js";

export interface DrainFigures {
  /** Minutes of 64 × 10 Hz in the backlog. */
  backlog_minutes: number;
  backlog_points: number;
  spool_seconds: number;
  /** From InfluxDB's return to the forwarder's first accepted write (its back-off from the outage). */
  reconnect_seconds: number;
  /** From InfluxDB's return until the backlog was gone. */
  drain_seconds: number;
  /** Backlog points per second from the first accepted write (new samples came on top). */
  drain_points_per_s: number;
  /** The forwarder's catch-up rate, points per second (null: unpaced). */
  catch_up_points_per_s: number | null;
  /** Sampling during the drain: 64 channels × 100 Hz, every sample logged. */
  hz: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  missed: number;
  /** Longest garbage-collection pause during the drain, ms, and its kind. */
  gc_max_ms: number;
  gc_max_kind: string | null;
  /** V8 heap in use when the drain began, MB. */
  heap_used_mb_at_start: number;
  /** Wake-ups more than 1 ms late, and how many of them a garbage-collection pause overlapped. */
  late_over_1ms: number;
  late_over_1ms_in_gc: number;
  /** The host's own stalls during the drain, as the steadiness scenarios report them (not judged). */
  host_stalls: HostStallFigures;
  drained: boolean;
  /** SCHED_FIFO priority the sampling thread ran at during the drain (as in steadiness), or null: nice only. */
  realtime_priority: number | null;
  target: typeof STEADINESS_TARGET;
  met: boolean;
  /** The same backlog drained again with the forwarder unpaced (for comparison; not judged). */
  unpaced?: Pick<
    DrainFigures,
    "drain_seconds" | "drain_points_per_s" | "p50_ms" | "p99_ms" | "max_ms" | "missed" | "drained"
  >;
}

export interface DrainOptions {
  influxd: Influxd;
  minutes: number;
  /** The forwarder's catch-up rate (default: the storage layer's; Infinity: unpaced). */
  catchUpPointsPerSecond?: number;
  /** Drain the same backlog unpaced afterwards, for comparison (default true). */
  compareUnpaced?: boolean;
  /** Sampling before InfluxDB comes back, seconds (default 3, as the steadiness scenarios warm up). */
  warmupS?: number;
  /** Bound on the drain, real seconds (default 600). */
  sampleS?: number | undefined;
  /** SCHED_FIFO priority for the sampling thread during the drain, as the steadiness scenarios run (0: none). */
  realtimePriority?: number | undefined;
  out?: Out;
}

const CHANNELS = 64;
const SPOOL_HZ = 10;
const HZ = 100;

/**
 * The drain at the catch-up rate (judged), then, for comparison in the same run, the same backlog
 * again with the forwarder unpaced.
 */
export async function measureDrain(options: DrainOptions): Promise<DrainFigures> {
  const paced = await drainOnce(options, options.catchUpPointsPerSecond);
  if (options.compareUnpaced === false) return paced;
  const unpaced = await drainOnce(options, Number.POSITIVE_INFINITY);
  return {
    ...paced,
    unpaced: {
      drain_seconds: unpaced.drain_seconds,
      drain_points_per_s: unpaced.drain_points_per_s,
      p50_ms: unpaced.p50_ms,
      p99_ms: unpaced.p99_ms,
      max_ms: unpaced.max_ms,
      missed: unpaced.missed,
      drained: unpaced.drained,
    },
  };
}

async function drainOnce(
  options: DrainOptions,
  catchUpPointsPerSecond: number | undefined,
): Promise<DrainFigures> {
  const dir = mkdtempSync(join(tmpdir(), "cellbench-drain-"));
  const store = join(dir, "cellbench.db");
  try {
    const spoolStarted = performance.now();
    const backlog = await spool(store, options.minutes);
    const spoolSeconds = (performance.now() - spoolStarted) / 1000;
    const warmupS = options.warmupS ?? 3;
    options.out?.(
      `\nbacklog drain: ${backlog.toLocaleString("en")} points (${options.minutes} min of ${CHANNELS} × ${SPOOL_HZ} Hz) ` +
        `spooled in ${spoolSeconds.toFixed(1)} s; sampling ${CHANNELS} × ${HZ} Hz for ${warmupS} s, then InfluxDB back`,
    );
    let watch: LatenessWindow | undefined;
    // As the daemon does at start-up, and as the steadiness scenarios are judged.
    raiseSamplingPriority();
    await options.influxd.halt();
    let rig: Rig | undefined;
    let realtime: RealtimeOutcome | undefined;
    try {
      rig = await openRig({
        clock: new SystemClock(),
        periodMs: 1000 / HZ,
        influxUrl: options.influxd.url,
        database: "drain",
        store,
        logging: "every sample",
        http: true,
        onLateness: (poller, ms) => watch?.add(poller, ms),
        ...(catchUpPointsPerSecond !== undefined ? { catchUpPointsPerSecond } : {}),
      });
      const asked = options.realtimePriority ?? 0;
      // After the rig's threads have started (they must not inherit it).
      realtime = asked > 0 ? requestRealtimePriority(asked) : undefined;
      const boundMs = (options.sampleS ?? 600) * 1000;
      // A cycler's and a chamber's sampling loop per eight channels.
      const loops = (CHANNELS / CHANNELS_PER_CYCLER) * 2;
      watch = await LatenessWindow.open(
        realtime,
        1000 / HZ,
        Math.ceil((boundMs / 1000) * HZ * loops * 1.1) + 1_000,
      );
      await sleep(warmupS * 1000);
      // As in the steadiness scenarios: the set-up's garbage (spooling the backlog here, and whatever
      // ran before in this process) is collected now, not inside the window; the wake-ups it delayed pass.
      forceGc();
      await sleep(50);
      const storage = rig.storage;
      if (storage.status().written.points > 0)
        throw new Error("drain bench: points written during the outage");
      await options.influxd.restart();
      const started = performance.now();
      watch.start(rig);
      let reconnectedAt: number | undefined;
      const drained = () => {
        const s = storage.status();
        if (reconnectedAt === undefined && s.written.points > 0) reconnectedAt = performance.now();
        return s.written.points >= backlog && s.backlog.rows === 0;
      };
      while (!drained() && performance.now() - started < boundMs) await sleep(20);
      const seconds = (performance.now() - started) / 1000;
      const reconnectS = ((reconnectedAt ?? performance.now()) - started) / 1000;
      const w = await watch.finish();
      const d = w.lateness;
      const missed = w.missed;
      const rate = storage.status().backlog.catchUpPointsPerSecond;
      const f: DrainFigures = {
        backlog_minutes: options.minutes,
        backlog_points: backlog,
        spool_seconds: spoolSeconds,
        reconnect_seconds: reconnectS,
        drain_seconds: seconds,
        drain_points_per_s: Math.round(backlog / Math.max(0.001, seconds - reconnectS)),
        catch_up_points_per_s: rate !== null && Number.isFinite(rate) ? rate : null,
        hz: HZ,
        p50_ms: d.p50,
        p99_ms: d.p99,
        max_ms: d.max,
        missed,
        gc_max_ms: w.gc_max_ms,
        gc_max_kind: w.gc_max_kind,
        heap_used_mb_at_start: w.heap_used_mb_at_start,
        late_over_1ms: w.late_over_1ms,
        late_over_1ms_in_gc: w.late_over_1ms_in_gc,
        host_stalls: w.host_stalls,
        drained: drained(),
        realtime_priority: realtime?.applied ? realtime.priority : null,
        target: STEADINESS_TARGET,
        met: drained() && d.p99 < STEADINESS_TARGET.max_p99_ms && missed <= STEADINESS_TARGET.max_missed,
      };
      options.out?.(
        `  first write ${reconnectS.toFixed(1)} s after InfluxDB's return (back-off); ` +
          `${f.drained ? "drained" : "NOT drained"} ${seconds.toFixed(1)} s after it ` +
          `(${f.drain_points_per_s.toLocaleString("en")} backlog points/s; catch-up rate ${f.catch_up_points_per_s?.toLocaleString("en") ?? "none: unpaced, for comparison"})\n` +
          `  lateness p50 / p99 / max ${d.p50.toFixed(3)} / ${d.p99.toFixed(3)} / ${d.max.toFixed(3)} ms, ${missed} missed ` +
          `(target p99 < ${STEADINESS_TARGET.max_p99_ms} ms, none missed: ${f.met ? "met" : "MISSED"}; ` +
          `${f.realtime_priority !== null ? `SCHED_FIFO ${f.realtime_priority}` : "nice only"}; ` +
          `${w.late_over_1ms} over 1 ms late (${w.late_over_1ms_in_gc} during GC), worst GC ${w.gc_max_ms.toFixed(1)} ms (${w.gc_max_kind ?? "none"}; heap ${w.heap_used_mb_at_start.toFixed(0)} MB at the start), ` +
          `${describeHostStalls(w.host_stalls)})`,
      );
      return f;
    } finally {
      if (realtime?.applied) dropRealtimePriority();
      await watch?.close();
      await rig?.close();
      if (!options.influxd.running) await options.influxd.restart();
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
