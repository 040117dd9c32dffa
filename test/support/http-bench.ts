import { type Clock, VirtualClock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import type { CellSpec } from "../../drivers/capabilities.js";
import { Bench } from "../../src/bench/bench.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import type { BenchMetrics } from "../../src/http/metrics.js";
import { type App, buildServer, type HttpOptions } from "../../src/http/server.js";
import { createLogger } from "../../src/log.js";
import { ProfileStore } from "../../src/profile-store/profile-store.js";
import { RunManager } from "../../src/run/run-manager.js";
import { RunStore } from "../../src/run/run-store.js";
import type { Storage } from "../../src/storage/storage.js";
import { ProfileWork } from "../../src/work/profile-work.js";
import type { EstimateInput } from "../../src/work/task-types.js";
import { simBenchConfig } from "./sim-bench.js";

export const TOKENS = {
  viewer: "viewer-token-0123456789abcdef",
  operator: "operator-token-0123456789abcdef",
  admin: "admin-token-0123456789abcdef",
} as const;

export const auth = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

/** The cell of the simulated channel, as the API takes it. */
export const NMC_CELL_BODY = {
  id: "NMC-0042",
  chemistry: "li-ion-nmc",
  capacity_ah: 3,
  voltage: [2.5, 4.2],
  current: [-6, 6],
  temperature: [-20, 60],
};

export interface HttpBench<C extends Clock = VirtualClock> {
  app: App;
  bench: Bench;
  clock: C;
  runs: RunManager;
  store: RunStore;
  profiles: ProfileStore;
  /** Every log line the server wrote (JSON text). */
  logs: string[];
  /** Poller wake-ups so far (each tick reports its lateness). */
  ticks(): number;
  close(): Promise<void>;
}

export interface HttpBenchOptions {
  /** true (default): the clock jumps whenever everything sleeps; false: the test moves time. */
  auto?: boolean;
  periodMs?: number;
  cell?: CellSpec;
  http?: HttpOptions;
  /** Dry-run each run for progress and ETA (default false: tests that need it turn it on). */
  estimate?: boolean;
  tokens?: BenchConfig["tokens"];
  /** Replaces parts of the bench configuration the server is given (e.g. influx credentials). */
  config?: Partial<BenchConfig>;
  metrics?: BenchMetrics;
  /** Stands in for the storage layer (only what the API calls needs to be there). */
  storage?: Partial<Storage>;
  /** Receives every poller wake-up's lateness after its deadline, ms. */
  onLateness?: (poller: string, ms: number) => void;
  /** Adds test routes to the server before it is made ready (they get the server's hooks). */
  routes?: (app: App) => void;
}

/**
 * A simulated one-channel bench (ch1 in chamber tc1) with a run manager, a run store and the
 * API server on top (not listening; use inject or listen on 127.0.0.1:0). Sampling has started.
 */
export async function openHttpBench(options: HttpBenchOptions = {}): Promise<HttpBench> {
  return openHttpBenchOn(new VirtualClock({ auto: options.auto ?? true }), options);
}

/** openHttpBench on a clock of the caller's (a SystemClock for tests that measure real lateness). */
export async function openHttpBenchOn<C extends Clock>(
  clock: C,
  options: HttpBenchOptions = {},
): Promise<HttpBench<C>> {
  const config: BenchConfig = {
    ...simBenchConfig({
      ...(options.cell ? { cell: options.cell } : {}),
      ...(options.periodMs ? { periodMs: options.periodMs } : {}),
    }),
    tokens: options.tokens ?? [
      { role: "viewer", token: TOKENS.viewer },
      { role: "operator", token: TOKENS.operator },
      { role: "admin", token: TOKENS.admin },
    ],
    ...options.config,
  };
  let ticks = 0;
  const bench = await Bench.open(config, clock, {
    lateness: (poller, ms) => {
      ticks++;
      options.onLateness?.(poller, ms);
    },
  });
  const store = new RunStore(":memory:");
  const profiles = new ProfileStore(":memory:");
  const logs: string[] = [];
  const logger = createLogger({
    level: "trace",
    destination: { write: (line: string) => void logs.push(line) },
  });
  const work = sharedProfileWork();
  const runs = new RunManager(bench, {
    store,
    logger,
    ...(options.estimate ? { estimator: (input: EstimateInput) => work.run("estimate", input) } : {}),
  });
  const app = buildServer({
    bench,
    runs,
    store,
    config,
    logger,
    profiles,
    work,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.storage ? { storage: options.storage as Storage } : {}),
    options: {
      controlRateLimit: { max: 10_000, windowMs: 60_000 },
      checkRateLimit: { max: 10_000, windowMs: 60_000 },
      ...options.http,
    },
  });
  options.routes?.(app);
  await app.ready();
  bench.start();
  return {
    app,
    bench,
    clock,
    runs,
    store,
    profiles,
    logs,
    ticks: () => ticks,
    async close() {
      await app.close();
      await bench.shutdown();
      profiles.close();
      store.close();
    },
  };
}

let profileWork: ProfileWork | undefined;

/**
 * One profile worker per test process, started on first use: each costs a process start, and the
 * benches of one test file can share it. It ends with the test process. Its workers run at the
 * priority given by the first caller: the functional suite's at the test's own (a worker at +10
 * beside CPU burners gets too little CPU to answer within a test's time), the attack suite's at the
 * daemon's WORKER_NICE.
 */
export function sharedProfileWork(nice = 0): ProfileWork {
  profileWork ??= new ProfileWork({ nice });
  return profileWork;
}

/** Waits (bounded, real time) until `predicate` holds. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
