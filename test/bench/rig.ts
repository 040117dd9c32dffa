/**
 * The daemon's sampling path, assembled as Daemon.start assembles it, for the loop, steadiness,
 * memory and drain benches: 64 simulated channels (eight 8-channel sim/cyclers, each in its own
 * sim/chamber), the safety supervisor and watchdog (Bench), one run per channel (RunManager with
 * its logging gate and checkpoints), the record encoder and the SQLite outbox with its forwarder
 * (Storage), chamber readings logged once a second, lateness into the metrics, and on request the
 * HTTP API listening on loopback.
 *
 * Left out, on purpose: the profile worker's ETA dry runs (worker processes at nice 10, off the
 * loop; 64 of them would compete for the shared cores during a measurement), and the cell registry.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import { Bench } from "../../src/bench/bench.js";
import { chamberLogger } from "../../src/bench/chamber-log.js";
import { loadCellFile } from "../../src/cell/load-cell.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import { BenchMetrics } from "../../src/http/metrics.js";
import { type App, buildServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log.js";
import type { Profile } from "../../src/profile/ast.js";
import { loadProfileFile } from "../../src/profile/load-profile.js";
import { Batches } from "../../src/run/batch.js";
import { RunManager } from "../../src/run/run-manager.js";
import { RunStore } from "../../src/run/run-store.js";
import { Storage } from "../../src/storage/storage.js";

const root = new URL("../../", import.meta.url);

export const CHANNELS_PER_CYCLER = 8;
/** The viewer token of the bench's API (loopback only). */
export const VIEWER_TOKEN = "bench-viewer-token-0123456789";

export interface RigOptions {
  clock: Clock;
  /** Channels, in groups of eight (one sim/cycler and one sim/chamber per group); default 64. */
  channels?: number;
  periodMs: number;
  /** InfluxDB the storage forwards to: a live influxd, or a closed loopback port (spooling). */
  influxUrl: string;
  database?: string;
  /** SQLite store (outbox, runs); default a file in a fresh temporary directory. */
  store?: string;
  /**
   * "every sample": the profile's logging criteria removed, so every sample goes through the encoder
   * and the outbox (a commercial cycler's 10 ms logging); "profile": formation.yaml's own criteria.
   */
  logging: "every sample" | "profile";
  /** Serve the API on 127.0.0.1 (a free port). */
  http?: boolean;
  /** The forwarder's catch-up rate, points/s (default: the storage layer's; Infinity: unpaced). */
  catchUpPointsPerSecond?: number;
  /** Every poller wake-up's lateness, ms (the Bench's lateness event). */
  onLateness?: (poller: string, ms: number) => void;
}

export interface Rig {
  bench: Bench;
  storage: Storage;
  runs: RunManager;
  app: App | undefined;
  /** `http://127.0.0.1:<port>` when the API listens. */
  url: string | undefined;
  channels: number;
  /** Acquisition errors reported by the bench (must stay 0). */
  errors: string[];
  /** Channel samples taken so far (ticks of the cycler pollers × their channels). */
  samples(): number;
  /** Deadlines every sampling loop skipped so far. */
  missed(): number;
  close(): Promise<void>;
}

/** formation.yaml (examples/profiles), optionally with every sample logged. */
export function benchProfile(logging: RigOptions["logging"]): Profile {
  const profile = loadProfileFile(new URL("examples/profiles/formation.yaml", root).pathname);
  if (logging === "every sample") delete profile.log;
  return profile;
}

/** Opens the rig, starts sampling and one formation batch per chamber; the caller drives the clock. */
export async function openRig(options: RigOptions): Promise<Rig> {
  const channels = options.channels ?? 64;
  if (channels % CHANNELS_PER_CYCLER !== 0)
    throw new RangeError(`channels: a multiple of 8, got ${channels}`);
  const ownDir = options.store ? undefined : mkdtempSync(join(tmpdir(), "cellbench-rig-"));
  const store = options.store ?? join(ownDir as string, "cellbench.db");
  const groups = Array.from({ length: channels / CHANNELS_PER_CYCLER }, (_, g) =>
    Array.from({ length: CHANNELS_PER_CYCLER }, (_, i) => `ch${g * CHANNELS_PER_CYCLER + i + 1}`),
  );
  const cell = loadCellFile(new URL("examples/cells/nmc-18650.yaml", root).pathname);
  const config: BenchConfig = {
    source: "bench rig",
    bench: "rig",
    http: { host: "127.0.0.1", port: 0 },
    influx: { url: options.influxUrl, database: options.database ?? "rig" },
    store,
    devices: [
      ...groups.map((ids, g) => ({
        id: `cycler${g + 1}`,
        driver: "sim/cycler",
        channels: ids,
        options: { initialSoc: 0.5 },
      })),
      ...groups.map((_, g) => ({ id: `tc${g + 1}`, driver: "sim/chamber", options: { initialC: 25 } })),
    ],
    chambers: groups.map((ids, g) => ({ id: `tc${g + 1}`, device: `tc${g + 1}`, channels: ids })),
    samplingPeriodMs: options.periodMs,
    tokens: [{ role: "viewer", token: VIEWER_TOKEN }],
  };
  const logger = createLogger({ level: "silent" });
  const storage = Storage.open({
    bench: config.bench,
    store,
    influx: config.influx as NonNullable<BenchConfig["influx"]>,
    logger,
    statusLogEveryMs: 0,
    ...(options.catchUpPointsPerSecond !== undefined
      ? { catchUpPointsPerSecond: options.catchUpPointsPerSecond }
      : {}),
  });
  const metrics = new BenchMetrics();
  const errors: string[] = [];
  const bench = await Bench.open(config, options.clock, {
    error: (source, err) => {
      if (errors.length < 100) errors.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    },
    lateness: (poller, ms) => {
      metrics.observeLateness(poller, ms);
      options.onLateness?.(poller, ms);
    },
    // As the daemon logs chambers: at most once a second each.
    chamberSample: chamberLogger(storage, 1000),
  });
  const runStore = new RunStore(store);
  const runs = new RunManager(bench, { sink: storage, store: runStore, logger });
  const batches = new Batches(bench, runs, { logger });
  let app: App | undefined;
  let url: string | undefined;
  if (options.http) {
    app = buildServer({ bench, runs, store: runStore, batches, storage, config, logger, metrics });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === "string") throw new Error("the API has no TCP address");
    url = `http://127.0.0.1:${address.port}`;
  }
  const profile = benchProfile(options.logging);
  for (const ids of groups)
    await batches.start(
      {
        members: ids.map((channel) => ({ channel, cell: { ...cell, id: `NMC-${channel}` } })),
        profile,
      },
      ids.map((channel) => `R-${channel}`),
    );
  // Sampling starts once every run is under way: 64 run starts (each stored) block the loop for longer
  // than the watchdog allows (the daemon starts runs one request at a time).
  bench.start();
  storage.start();
  const cyclerPollers = new Set(groups.map((_, g) => `cycler${g + 1}`));
  return {
    bench,
    storage,
    runs,
    app,
    url,
    channels,
    errors,
    samples: () =>
      bench
        .pollerStats()
        .filter((p) => cyclerPollers.has(p.name))
        .reduce((sum, p) => sum + p.stats.ticks * CHANNELS_PER_CYCLER, 0),
    missed: () => bench.pollerStats().reduce((sum, p) => sum + p.stats.missed, 0),
    async close() {
      await app?.close();
      await runs.interruptAll("bench over");
      await bench.shutdown();
      await storage.close({ drainTimeoutMs: 0 });
      batches.close();
      runStore.close();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nothing listens on: the storage spools (InfluxDB down). */
export { freePort as closedPort } from "../support/influxd.js";
