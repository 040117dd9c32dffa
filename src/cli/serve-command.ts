import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BenchConfig } from "../config/load-config.js";
import { loadConfig } from "../config/load-config.js";
import { Daemon } from "../daemon.js";
import { createLogger, type Logger } from "../log.js";
import { type LocalInfluxd, provideLocalInflux } from "../storage/local-influxd.js";
import { UsageError } from "./cli-error.js";

/** `cellbench serve`: runs the daemon until SIGINT/SIGTERM; a second signal exits at once. */
export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", default: "examples/sim-bench.yaml" },
      speed: { type: "string", default: "1" },
      port: { type: "string" },
      "no-local-influx": { type: "boolean", default: false },
    },
  });
  const speed = Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new UsageError(`--speed must be a positive number (1 = real time), got "${values.speed}"`);
  }
  const config = loadConfig(values.config);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`);
    }
    config.http.port = port;
  }
  const logger = createLogger();
  const influxd = values["no-local-influx"] ? undefined : await localInflux(config, logger);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, logger, speed });
  } catch (err) {
    await stopInfluxd(influxd, logger);
    throw err;
  }
  daemon.runs.subscribe((event) => {
    if (event.type === "state")
      logger.info(
        {
          run: event.run,
          channel: event.event.channel,
          state: event.event.state,
          reason: event.event.reason,
        },
        "run state",
      );
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting at once");
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, "shutting down: safe state, flushing the outbox");
      daemon
        .stop()
        .catch((err: unknown) => {
          logger.error({ err }, "shutdown failed");
          process.exitCode = 1;
        })
        // The outbox drains into the private influxd first, so it stops last.
        .then(() => stopInfluxd(influxd, logger))
        .then(resolve, resolve);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** Where the private influxd of a bench keeps its data: beside the store file. */
export function localInfluxDir(config: BenchConfig): string {
  return join(dirname(resolve(config.store)), "influxd");
}

/**
 * Starts a private influxd when the configured InfluxDB is a loopback address where nothing
 * answers, and says in one line what it did; the daemon spools to the outbox in every other case.
 */
async function localInflux(config: BenchConfig, logger: Logger): Promise<LocalInfluxd | undefined> {
  if (!config.influx) return undefined;
  const log = logger.child({ component: "local-influxd" });
  const outcome = await provideLocalInflux({ url: config.influx.url, dir: localInfluxDir(config) });
  switch (outcome.kind) {
    case "started":
    case "adopted":
      log.info(
        { url: outcome.influxd.url, pid: outcome.influxd.pid, dir: outcome.influxd.dir },
        outcome.kind === "started"
          ? `started a private InfluxDB at ${outcome.influxd.url} (data in ${outcome.influxd.dir}); it stops with the daemon`
          : `a private InfluxDB left running by an earlier daemon answers at ${outcome.influxd.url}; it stops with this one`,
      );
      return outcome.influxd;
    case "missing":
      log.warn(outcome.message);
      return undefined;
    case "port-taken":
    case "failed":
      log.error(`no private InfluxDB: ${outcome.message}; samples are spooled to the outbox meanwhile`);
      return undefined;
    case "answering":
    case "not-local":
      return undefined;
  }
}

async function stopInfluxd(influxd: LocalInfluxd | undefined, logger: Logger): Promise<void> {
  if (!influxd) return;
  try {
    await influxd.stop();
    logger.info({ component: "local-influxd", pid: influxd.pid }, "private InfluxDB stopped");
  } catch (err) {
    logger.error({ component: "local-influxd", err }, "could not stop the private InfluxDB");
  }
}
