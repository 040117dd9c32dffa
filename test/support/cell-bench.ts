/**
 * A simulated two-channel bench (ch1 and ch2 of cycler1, both in chamber tc1) with its run store
 * and cell registry in one SQLite file, and the API on top: reopened on the same file, it is the
 * daemon after a restart (runs recovered as the daemon does).
 */
import { VirtualClock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import { Bench } from "../../src/bench/bench.js";
import { CellRegistry } from "../../src/cell/cell-registry.js";
import { CellStore } from "../../src/cell/cell-store.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import { type App, buildServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log.js";
import { ProfileStore } from "../../src/profile-store/profile-store.js";
import { RunManager } from "../../src/run/run-manager.js";
import { RunStore } from "../../src/run/run-store.js";
import { sharedProfileWork, TOKENS } from "./http-bench.js";
import { NMC_18650, simBenchConfig } from "./sim-bench.js";

export interface CellBench {
  app: App;
  bench: Bench;
  clock: VirtualClock;
  runs: RunManager;
  cells: CellRegistry;
  logs: string[];
  close(): Promise<void>;
}

export function twoChannelConfig(store: string): BenchConfig {
  const base = simBenchConfig();
  return {
    ...base,
    store,
    devices: [
      {
        id: "cycler1",
        driver: "sim/cycler",
        channels: ["ch1", "ch2"],
        options: { cell: NMC_18650, initialSoc: 0.5 },
      },
      { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
    ],
    chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
    tokens: [
      { role: "viewer", token: TOKENS.viewer },
      { role: "operator", token: TOKENS.operator },
    ],
  };
}

/** Opens the bench on `store` (a file: open it again for a restart). The clock jumps whenever everything sleeps. */
export async function openCellBench(store: string): Promise<CellBench> {
  const config = twoChannelConfig(store);
  const clock = new VirtualClock({ auto: true });
  const bench = await Bench.open(config, clock);
  const runStore = new RunStore(store);
  const profiles = new ProfileStore(":memory:");
  const logs: string[] = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => void logs.push(line) },
  });
  const runs = new RunManager(bench, { store: runStore, logger });
  const cells = new CellRegistry(new CellStore(store), runs, bench, logger);
  runs.recover(new Map());
  const app = buildServer({
    bench,
    runs,
    store: runStore,
    config,
    logger,
    profiles,
    cells,
    work: sharedProfileWork(),
    options: { controlRateLimit: { max: 10_000, windowMs: 60_000 } },
  });
  await app.ready();
  bench.start();
  return {
    app,
    bench,
    clock,
    runs,
    cells,
    logs,
    async close() {
      await app.close();
      await runs.interruptAll("test closed");
      await bench.shutdown();
      cells.close();
      profiles.close();
      runStore.close();
    },
  };
}
