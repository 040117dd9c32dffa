import type { Clock } from "../drivers/clock.js";
import { ScaledClock, SystemClock } from "../drivers/clock.js";
import "../drivers/all.js";
import { Bench } from "./bench/bench.js";
import type { BenchConfig } from "./config/load-config.js";
import type { Logger } from "./log.js";

export interface DaemonOptions {
  config: BenchConfig;
  logger: Logger;
  /** Virtual-time factor for simulated benches; real drivers refuse anything but 1. */
  speed?: number;
  clock?: Clock;
}

/**
 * The running daemon: the bench with its pollers, and what hangs off the data path.
 * Start-up puts every channel into safe state before anything else happens.
 */
export class Daemon {
  private constructor(
    readonly config: BenchConfig,
    readonly bench: Bench,
    readonly logger: Logger,
  ) {}

  static async start(options: DaemonOptions): Promise<Daemon> {
    const speed = options.speed ?? 1;
    const clock = options.clock ?? (speed === 1 ? new SystemClock() : new ScaledClock(speed));
    const logger = options.logger.child({ bench: options.config.bench });
    const errorCounts = new Map<string, number>();
    const bench = await Bench.open(options.config, clock, {
      error: (source, err) => {
        // Log the first failures of a source and then every 100th, so a dead instrument cannot flood the log.
        const n = (errorCounts.get(source) ?? 0) + 1;
        errorCounts.set(source, n);
        if (n <= 3 || n % 100 === 0) logger.warn({ source, failures: n, err }, "acquisition error");
      },
    });
    bench.start();
    logger.info(
      {
        speed,
        periodMs: options.config.samplingPeriodMs,
        channels: [...bench.channels.keys()],
        chambers: [...bench.chambers.keys()],
      },
      "bench sampling",
    );
    return new Daemon(options.config, bench, logger);
  }

  /** Stops sampling, puts every channel and chamber into safe state and closes the devices. */
  async stop(): Promise<void> {
    await this.bench.shutdown();
    this.logger.info("bench stopped, every channel in safe state");
  }
}
