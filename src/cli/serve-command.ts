import { parseArgs } from "node:util";
import { loadConfig } from "../config/load-config.js";
import { Daemon } from "../daemon.js";
import { createLogger } from "../log.js";
import { UsageError } from "./cli-error.js";

/** `cellbench serve`: runs the daemon until SIGINT/SIGTERM; a second signal exits at once. */
export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", default: "examples/sim-bench.yaml" },
      speed: { type: "string", default: "1" },
      port: { type: "string" },
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
  const daemon = await Daemon.start({ config, logger, speed });
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
      daemon.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exitCode = 1;
        resolve();
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
