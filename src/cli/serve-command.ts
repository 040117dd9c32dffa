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
    },
  });
  const speed = Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new UsageError(`--speed must be a positive number (1 = real time), got "${values.speed}"`);
  }
  const config = loadConfig(values.config);
  const logger = createLogger();
  const daemon = await Daemon.start({ config, logger, speed });
  const summary = setInterval(() => {
    for (const slot of daemon.bench.channels.values()) {
      if (!slot.latest) continue;
      logger.info(
        {
          channel: slot.id,
          voltageV: slot.latest.voltageV,
          currentA: slot.latest.currentA,
          temperatureC: slot.latest.temperatureC,
          run: slot.run?.id,
        },
        "channel",
      );
    }
  }, 10_000);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting at once");
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      clearInterval(summary);
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
