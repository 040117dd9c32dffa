import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Clock } from "../drivers/clock.js";
import { SystemClock } from "../drivers/clock.js";
import { PacedClock } from "../drivers/paced-clock.js";
import "../drivers/all.js";
import { driverInfo } from "../drivers/registry.js";
import { Bench } from "./bench/bench.js";
import { chamberLogger } from "./bench/chamber-log.js";
import { SHUTDOWN_STEP_MS, settledWithin } from "./bounded-wait.js";
import { CellRegistry } from "./cell/cell-registry.js";
import { CellStore } from "./cell/cell-store.js";
import type { BenchConfig } from "./config/load-config.js";
import { BenchMetrics } from "./http/metrics.js";
import { type App, buildServer } from "./http/server.js";
import type { Logger } from "./log.js";
import { Batches } from "./run/batch.js";
import { BatchStore } from "./run/batch-store.js";
import { QueueStore } from "./run/queue-store.js";
import { RunManager } from "./run/run-manager.js";
import { RunQueues } from "./run/run-queue.js";
import { RunStore } from "./run/run-store.js";
import { logMemoryReducer } from "./sampling/memory-reducer.js";
import { PaceMonitor, paceMessage } from "./sampling/pace-monitor.js";
import { logPriority, raiseSamplingPriority } from "./sampling/process-priority.js";
import { logRealtime, requestRealtimePriority } from "./sampling/realtime-priority.js";
import { logYoungGeneration } from "./sampling/young-generation.js";
import { Storage } from "./storage/storage.js";
import { ProfileWork } from "./work/profile-work.js";

export interface DaemonOptions {
  config: BenchConfig;
  logger: Logger;
  /** Virtual-time factor for simulated benches; real drivers refuse anything but 1. */
  speed?: number;
  clock?: Clock;
  /** Serve the HTTP API (default true). */
  http?: boolean;
  /** Chamber samples are logged at most this often (default 1 s). */
  chamberLogEveryMs?: number;
}

/**
 * The running daemon. Start-up order matters: the outbox first (nothing acquired may be lost),
 * then the instruments, every one put into safe state before anything else touches them, then
 * runs recovered from the last checkpoint (as `interrupted`), sampling, and finally the API.
 */
export class Daemon {
  private constructor(
    readonly config: BenchConfig,
    readonly bench: Bench,
    readonly runs: RunManager,
    readonly storage: Storage | undefined,
    readonly app: App | undefined,
    private readonly runStore: RunStore,
    readonly logger: Logger,
    private readonly paceTimer: NodeJS.Timeout | undefined,
    private readonly work: ProfileWork,
    /** Closes the channel queues and batches and their stores. */
    private readonly closeQueueing: () => void,
    readonly cells: CellRegistry,
  ) {}

  /** Where the API listens (after start). */
  get address(): string | undefined {
    const a = this.app?.server.address();
    return a && typeof a === "object" ? `http://${a.address}:${a.port}` : undefined;
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config } = options;
    const speed = options.speed ?? 1;
    const clock = options.clock ?? benchClock(config, speed);
    const logger = options.logger.child({ bench: config.bench });
    if (config.store !== ":memory:") mkdirSync(dirname(config.store), { recursive: true });
    const runStore = new RunStore(config.store);

    const storage = config.influx
      ? // Storage talks to a real server: its back-off and its own times are real, whatever the bench clock.
        openStorage(config.bench, config.store, config.influx, logger)
      : undefined;
    if (!storage) logger.warn("no influx section in the configuration: samples are not stored");
    const checkpoints = storage?.readCheckpoints() ?? new Map();
    if (clock instanceof PacedClock) clock.continueWallAfter(latestWallMs(runStore, checkpoints));
    const metrics = new BenchMetrics();
    const errorCounts = new Map<string, number>();
    const chamberEveryMs = options.chamberLogEveryMs ?? 1000;
    let bench: Bench | undefined;
    try {
      bench = await Bench.open(config, clock, {
        error: (source, err) => {
          // Sources are channel and chamber ids; the metric counts per device (a bounded label set).
          const device = bench?.channels.get(source)?.device.id ?? bench?.chambers.get(source)?.device.id;
          metrics.countDeviceError(device ?? source, errorKind(err));
          // The first failures of a source, then every 100th: a dead instrument cannot flood the log.
          const n = (errorCounts.get(source) ?? 0) + 1;
          errorCounts.set(source, n);
          if (n <= 3 || n % 100 === 0) logger.warn({ source, failures: n, err }, "acquisition error");
        },
        lateness: (poller, ms) => metrics.observeLateness(poller, ms),
        link: (device, event, status) => {
          if (event.kind === "restored") {
            metrics.countReconnect(device);
            logger.info(
              { device, transport: event.transport, reconnects: status.reconnects },
              "link restored",
            );
          } else
            logger.warn(
              { device, transport: event.transport, reason: event.reason },
              event.kind === "lost"
                ? "link lost: the device's channels fail fast until it is back"
                : "link back but the instrument is unusable; retrying",
            );
        },
        ...(storage ? { chamberSample: chamberLogger(storage, chamberEveryMs) } : {}),
      });
    } catch (err) {
      await storage?.close({ drainTimeoutMs: 0 });
      runStore.close();
      throw err;
    }
    logPriority(logger, raiseSamplingPriority());
    if (config.realtimePriority !== undefined)
      logRealtime(logger, requestRealtimePriority(config.realtimePriority));
    logYoungGeneration(logger);
    logMemoryReducer(logger);
    // Parsing, validation and dry runs of profiles happen in worker processes (nice 10), off the sampling loop.
    const work = new ProfileWork({ warm: true });
    const runs = new RunManager(bench, {
      ...(storage ? { sink: storage } : {}),
      store: runStore,
      logger,
      estimator: (input) => work.run("estimate", input),
    });
    // Before recovery: the runs it brings back as interrupted update their cells' histories.
    const cells = new CellRegistry(new CellStore(config.store), runs, bench, logger);
    runs.firstCycleOf = (id) => cells.firstDischargeAh(id);
    // Batches take their chambers back before their runs are recovered (those attach as members).
    const batchStore = new BatchStore(config.store);
    const batches = new Batches(bench, runs, { store: batchStore, logger });
    runs.recover(checkpoints);
    batches.reconcile();
    const queueStore = new QueueStore(config.store);
    const queues = new RunQueues(bench, runs, { store: queueStore, logger });
    bench.start();
    storage?.start();
    storage?.exportsReady().catch((err: unknown) => logger.warn({ err }, "export thread did not start"));
    logger.info(
      {
        speed,
        periodMs: config.samplingPeriodMs,
        channels: [...bench.channels.keys()],
        chambers: [...bench.chambers.keys()],
      },
      "bench sampling",
    );
    let app: App | undefined;
    if (options.http !== false) {
      // Profiles posted over the API may follow drive cycles from the folder beside the configuration only.
      const driveCycleDir = join(dirname(config.source), "drive-cycles");
      app = buildServer({
        bench,
        runs,
        store: runStore,
        queues,
        batches,
        ...(storage ? { storage } : {}),
        config,
        logger,
        metrics,
        work,
        cells,
        options: existsSync(driveCycleDir) ? { driveCycleDir } : {},
      });
      await app.listen({ host: config.http.host, port: config.http.port });
      const url = `http://${config.http.host}:${(app.server.address() as { port: number }).port}`;
      logger.info({ url, livePage: `${url}/` }, "API listening");
    }
    const paceTimer = clock instanceof PacedClock ? watchPace(clock, logger) : undefined;
    const closeQueueing = () => {
      queues.close();
      batches.close();
      queueStore.close();
      batchStore.close();
    };
    return new Daemon(
      config,
      bench,
      runs,
      storage,
      app,
      runStore,
      logger,
      paceTimer,
      work,
      closeQueueing,
      cells,
    );
  }

  /**
   * Graceful shutdown: stop taking requests, mark running tests `interrupted` (safe state,
   * counters checkpointed, resumable after a restart), stop sampling, flush the outbox, close.
   */
  async stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    clearInterval(this.paceTimer);
    await this.app?.close();
    if (!(await settledWithin([this.runs.interruptAll("daemon shut down")], SHUTDOWN_STEP_MS)))
      this.logger.error("interrupting the runs hangs (a device is not answering); going on to safe state");
    await this.bench.shutdown();
    this.logger.info("bench stopped, every channel in safe state");
    await this.work.close();
    await this.storage?.close({ drainTimeoutMs: options.drainTimeoutMs ?? 5000 });
    this.closeQueueing();
    this.cells.close();
    this.runStore.close();
  }
}

/**
 * A bench whose devices are all simulated runs on simulated time paced at `speed` (1 included, so
 * that a run at --speed 100 is the run at --speed 1, only sooner). Real instruments run on the real
 * clock, and Bench.open refuses any other speed for them.
 */
/** The storage layer as configured: the influx section names the target, and how fast a backlog goes. */
function openStorage(
  bench: string,
  store: string,
  influx: NonNullable<BenchConfig["influx"]>,
  logger: Logger,
): Storage {
  const { catchUpPointsPerSecond, ...target } = influx;
  return Storage.open({
    bench,
    store,
    influx: target,
    logger,
    ...(catchUpPointsPerSecond !== undefined ? { catchUpPointsPerSecond } : {}),
  });
}

function benchClock(config: BenchConfig, speed: number): Clock {
  const simulated = config.devices.every((d) => driverInfo(d.driver).simulated);
  return simulated || speed !== 1 ? new PacedClock(speed) : new SystemClock();
}

/** The newest wall time a previous daemon on this store wrote (simulated time may run ahead of the real clock). */
function latestWallMs(store: RunStore, checkpoints: Map<string, { updatedMs: number }>): number {
  let latest = 0;
  for (const run of store.all())
    for (const h of run.history) latest = Math.max(latest, h.tWallMs, run.createdMs);
  for (const cp of checkpoints.values()) latest = Math.max(latest, cp.updatedMs);
  return latest;
}

const PACE_CHECK_MS = 5000;

/** Logs when the simulation falls behind its speed and when it is back (real time, every few seconds). */
function watchPace(clock: PacedClock, logger: Logger): NodeJS.Timeout {
  const monitor = new PaceMonitor();
  const timer = setInterval(() => {
    const change = monitor.observe(clock.stats());
    if (!change) return;
    const { achievedSpeed, slowdowns, lostRealMs } = change.stats;
    const fields = { speed: clock.speed, achievedSpeed, slowdowns, lostRealMs: Math.round(lostRealMs) };
    if (change.kind === "behind") logger.warn(fields, paceMessage(change));
    else logger.info(fields, paceMessage(change));
  }, PACE_CHECK_MS);
  timer.unref();
  return timer;
}

/** The metric label of an acquisition error: its stable code (a bounded set), or `other`. */
function errorKind(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code.toLowerCase() : "other";
}
