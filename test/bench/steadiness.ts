/**
 * Steadiness (issue 16 target 2): 64 simulated channels sampled at 100 Hz on the real clock, through
 * the daemon's whole sampling path (rig.ts: every sample logged, outbox commits, forwarding), the
 * API listening on loopback. Reported: every sampling loop's wake-up lateness after its absolute
 * deadline (p50, p99, max) and the periods the loops missed, in three scenarios:
 * - idle: InfluxDB (a private influxd) up, no client;
 * - http-load: another process hammers GET /api/v1/bench and holds the /api/v1/events stream;
 * - influx-down: InfluxDB at a closed loopback port, every line spooled to the outbox.
 * Run alone: npx tsx test/bench/steadiness.ts [--seconds N]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SystemClock } from "../../drivers/clock.js";
import { memoryReducerOff } from "../../src/sampling/memory-reducer.js";
import { raiseSamplingPriority } from "../../src/sampling/process-priority.js";
import { dropRealtimePriority, requestRealtimePriority } from "../../src/sampling/realtime-priority.js";
import { semiSpaceCap } from "../../src/sampling/young-generation.js";
import { startInfluxd } from "../support/influxd.js";
import { type HostFloor, measureHostFloor } from "./host-floor.js";
import { describeHostStalls, type HostStallFigures, LatenessWindow } from "./lateness-window.js";
import { closedPort, openRig, type Rig, VIEWER_TOKEN } from "./rig.js";
import { forceGc, type Out, sleep } from "./stats.js";

export const STEADINESS_TARGET = { max_p99_ms: 1, max_missed: 0 } as const;
export type Scenario = "idle" | "http-load" | "influx-down";
export const SCENARIOS: readonly Scenario[] = ["idle", "http-load", "influx-down"];

export interface SteadinessFigures {
  scenario: Scenario;
  channels: number;
  hz: number;
  seconds: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  missed: number;
  /** Poller wake-ups measured (8 cyclers + 8 chambers, 100 Hz each). */
  wakeups: number;
  /** Longest garbage-collection pause in the window, ms. */
  gc_max_ms: number;
  gc_max_kind: string | null;
  /** Wake-ups more than 1 ms late, and how many of them a garbage-collection pause overlapped. */
  late_over_1ms: number;
  late_over_1ms_in_gc: number;
  /** Worst outbox commit in the window (a transaction on the writer thread, not on the loop), ms. */
  commit_worst_ms: number;
  /** Points InfluxDB acknowledged / lines spooled during the window. */
  forwarded_points: number;
  backlog_points_end: number;
  errors: number;
  /** The young generation's cap the process ran with, MiB per semi-space, or null: V8's default. */
  young_generation_mib: number | null;
  /** Whether V8's memory reducer was off (src/sampling/memory-reducer.ts), as the daemon runs. */
  memory_reducer_off: boolean;
  /** SCHED_FIFO priority the sampling thread ran at (sampling.realtime_priority), or null: nice only. */
  realtime_priority: number | null;
  /** Why the real-time priority asked for was not given (the host refused it). */
  realtime_refused?: string;
  /**
   * The same 16 loops with no work, same priority, measured just before the scenario (host-floor.ts):
   * the lateness this host gives a process that does nothing else.
   */
  host_floor: HostFloor;
  /**
   * The host's own stalls during the window, seen by a sentinel process above the sampling thread's
   * priority (test/support/host-stalls.ts), and what of the window's lateness they account for.
   */
  host_stalls: HostStallFigures;
  /** http-load only: what the client process did. */
  load?: { requests: number; statuses: Record<string, number>; sse_bytes: number };
  target: typeof STEADINESS_TARGET;
  met: boolean;
}

export interface SteadinessOptions {
  seconds?: number;
  warmupS?: number;
  /** A running influxd for idle and http-load (else one is started and stopped here). */
  influxUrl?: string;
  scenarios?: readonly Scenario[];
  /** SCHED_FIFO priority for the sampling thread during each window, as sampling.realtime_priority (0: none). */
  realtimePriority?: number;
  out?: Out;
}

const HZ = 100;
const LOAD_LOOPS = 4;
/** Sampling loops of the rig: 8 cyclers and 8 chambers. */
const LOOPS = 16;
const FLOOR_SECONDS = 15;

export async function measureSteadiness(options: SteadinessOptions = {}): Promise<SteadinessFigures[]> {
  const scenarios = options.scenarios ?? SCENARIOS;
  const needsInflux = scenarios.some((s) => s !== "influx-down");
  const influxd = needsInflux && !options.influxUrl ? await startInfluxd() : undefined;
  const influxUrl = options.influxUrl ?? influxd?.url;
  // As the daemon does at start-up (where the host allows it).
  raiseSamplingPriority();
  const results: SteadinessFigures[] = [];
  try {
    for (const scenario of scenarios) {
      const url = scenario === "influx-down" ? `http://127.0.0.1:${await closedPort()}` : influxUrl;
      const f = await measureScenario(scenario, url as string, options);
      options.out?.(describe(f));
      results.push(f);
    }
  } finally {
    await influxd?.stop();
  }
  return results;
}

async function measureScenario(
  scenario: Scenario,
  influxUrl: string,
  options: SteadinessOptions,
): Promise<SteadinessFigures> {
  const seconds = options.seconds ?? 60;
  const asked = options.realtimePriority ?? 0;
  const hostFloor = await measureHostFloor({
    seconds: Math.min(seconds, FLOOR_SECONDS),
    loops: LOOPS,
    hz: HZ,
    realtimePriority: asked,
  });
  let watch: LatenessWindow | undefined;
  const rig = await openRig({
    clock: new SystemClock(),
    periodMs: 1000 / HZ,
    influxUrl,
    database: `steady_${scenario.replace("-", "_")}`,
    logging: "every sample",
    http: true,
    onLateness: (poller, ms) => watch?.add(poller, ms),
  });
  let client: LoadClient | undefined;
  // After the rig's threads have started, as the daemon does (they must not inherit it).
  const realtime = asked > 0 ? requestRealtimePriority(asked) : undefined;
  // Every wake-up of the window, kept in arrays made beforehand (see LatenessWindow).
  const opened = await LatenessWindow.open(
    realtime,
    1000 / HZ,
    Math.ceil(seconds * HZ * LOOPS * 1.2) + 1_000,
  );
  watch = opened;
  try {
    await sleep((options.warmupS ?? 3) * 1000);
    if (scenario === "http-load") client = await startLoad(rig);
    // The set-up's garbage is collected now, not inside the window; the wake-ups it delayed pass.
    forceGc();
    await sleep(50);
    const forwarded0 = rig.storage.status().written.points;
    const worstCommit = { ms: 0 };
    const commitWatch = setInterval(() => {
      worstCommit.ms = Math.max(worstCommit.ms, rig.storage.outbox.stats().lastCommitMs);
    }, 20);
    opened.start(rig);
    await sleep(seconds * 1000);
    const w = await opened.finish();
    clearInterval(commitWatch);
    const load = client ? await client.stop() : undefined;
    client = undefined;
    const d = w.lateness;
    const missed = w.missed;
    const status = rig.storage.status();
    return {
      scenario,
      channels: rig.channels,
      hz: HZ,
      seconds,
      p50_ms: d.p50,
      p99_ms: d.p99,
      max_ms: d.max,
      missed,
      realtime_priority: realtime?.applied ? realtime.priority : null,
      young_generation_mib: semiSpaceCap() ?? null,
      memory_reducer_off: memoryReducerOff(),
      ...(realtime && !realtime.applied ? { realtime_refused: realtime.reason } : {}),
      wakeups: w.wakeups,
      gc_max_ms: w.gc_max_ms,
      gc_max_kind: w.gc_max_kind,
      late_over_1ms: w.late_over_1ms,
      late_over_1ms_in_gc: w.late_over_1ms_in_gc,
      commit_worst_ms: worstCommit.ms,
      forwarded_points: status.written.points - forwarded0,
      backlog_points_end: status.backlog.points,
      errors: rig.errors.length,
      host_floor: hostFloor,
      host_stalls: w.host_stalls,
      ...(load ? { load } : {}),
      target: STEADINESS_TARGET,
      met: d.p99 < STEADINESS_TARGET.max_p99_ms && missed <= STEADINESS_TARGET.max_missed,
    };
  } finally {
    if (realtime?.applied) dropRealtimePriority();
    await opened.close();
    await client?.stop();
    await rig.close();
  }
}

interface LoadClient {
  stop(): Promise<{ requests: number; statuses: Record<string, number>; sse_bytes: number }>;
}

/** Starts the load process and waits until its stream is open and it has had an answer. */
async function startLoad(rig: Rig): Promise<LoadClient> {
  const script = fileURLToPath(new URL("./http-load-client.mjs", import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [script, JSON.stringify({ url: rig.url, token: VIEWER_TOKEN, loops: LOAD_LOOPS })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("bench: the HTTP load client did not answer")), 15_000);
      lines.once("line", (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`bench: the HTTP load client exited (${code})`));
      });
    });
  const ready = await next();
  if (ready !== "ready") throw new Error(`bench: the HTTP load client said ${ready}`);
  let stopped: ReturnType<LoadClient["stop"]> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        const summary = next();
        child.kill("SIGTERM");
        const s = JSON.parse(await summary) as {
          requests: number;
          statuses: Record<string, number>;
          sseBytes: number;
        };
        return { requests: s.requests, statuses: s.statuses, sse_bytes: s.sseBytes };
      })();
      return stopped;
    },
  };
}

const ms = (x: number) => x.toFixed(3);

function describe(f: SteadinessFigures): string {
  const load = f.load
    ? `; client: ${f.load.requests} requests ${JSON.stringify(f.load.statuses)}, ${Math.round(f.load.sse_bytes / 1024)} KiB SSE`
    : "";
  return (
    `  ${f.scenario.padEnd(12)} ${ms(f.p50_ms).padStart(8)} ${ms(f.p99_ms).padStart(8)} ${ms(f.max_ms).padStart(8)}` +
    ` ${String(f.missed).padStart(7)}   ${f.met ? "met" : "MISSED"}  (${f.wakeups} wake-ups, ${f.late_over_1ms} over 1 ms late (${f.late_over_1ms_in_gc} during GC), worst GC ${f.gc_max_ms.toFixed(1)} ms (${f.gc_max_kind ?? "none"}), ` +
    `host floor (no work, ${f.host_floor.seconds} s) p99 ${ms(f.host_floor.p99_ms)} max ${f.host_floor.max_ms.toFixed(1)} ms with ${f.host_floor.late_over_1ms} over 1 ms, ` +
    `${describeHostStalls(f.host_stalls)}, ` +
    `worst commit ${f.commit_worst_ms.toFixed(1)} ms, ${f.forwarded_points} points forwarded, backlog ${f.backlog_points_end}, errors ${f.errors}${load}; ` +
    `${f.realtime_priority !== null ? `SCHED_FIFO ${f.realtime_priority}` : f.realtime_refused ? `SCHED_FIFO refused: ${f.realtime_refused}` : "nice only"}, ` +
    `young generation ${f.young_generation_mib === null ? "V8's default" : `${f.young_generation_mib} MiB`}, ` +
    `memory reducer ${f.memory_reducer_off ? "off" : "on"})`
  );
}

export function steadinessHeader(seconds: number, out: Out): void {
  out(
    `steadiness: 64 sim channels × ${HZ} Hz on the real clock for ${seconds} s per scenario, every sample logged, API up ` +
      `(target p99 < ${STEADINESS_TARGET.max_p99_ms} ms, no missed period)`,
  );
  out("  scenario     p50 ms   p99 ms   max ms  missed");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf("--seconds");
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 60;
  const out: Out = (line = "") => console.log(line);
  steadinessHeader(seconds, out);
  await measureSteadiness({ seconds, out });
}
