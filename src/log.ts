import { pino } from "pino";

export type Logger = pino.Logger;

/** Creates the daemon's root logger; secrets never reach the output. */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? process.env.CELLBENCH_LOG_LEVEL ?? "info",
    redact: {
      paths: [
        "token",
        "*.token",
        "password",
        "*.password",
        "req.headers.authorization",
        "headers.authorization",
      ],
      censor: "[redacted]",
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
