/**
 * The environment variables cellbench reads, for `--help` and the README. The test beside this file
 * fails when the code reads a variable this list does not describe, or this list one the code ignores.
 */
export interface EnvironmentVariable {
  name: string;
  /** The commands that read it. */
  readBy: "serve" | "serve, export" | "client commands";
  /** What it sets, its form and its default. */
  meaning: string;
}

export const ENVIRONMENT: readonly EnvironmentVariable[] = [
  {
    name: "CELLBENCH_TOKENS",
    readBy: "serve",
    meaning:
      "API tokens, `role:token` separated by commas (roles viewer, operator, admin); when set and not empty it replaces the configuration's auth.tokens",
  },
  {
    name: "INFLUX_URL",
    readBy: "serve, export",
    meaning: "InfluxDB URL, replaces influx.url (alone it turns storage on, at database cellbench)",
  },
  {
    name: "INFLUX_DB",
    readBy: "serve, export",
    meaning: "InfluxDB database, replaces influx.database",
  },
  {
    name: "INFLUX_TOKEN",
    readBy: "serve, export",
    meaning: "InfluxDB token (sent as `Authorization: Token …`), replaces influx.token",
  },
  {
    name: "CELLBENCH_LOG_LEVEL",
    readBy: "serve",
    meaning: "log level: trace, debug, info, warn, error, fatal or silent (default info)",
  },
  {
    name: "CELLBENCH_LOG_FORMAT",
    readBy: "serve",
    meaning:
      "log lines: pretty (human-readable) or json (one object a line); default pretty on a terminal, json otherwise",
  },
  {
    name: "CELLBENCH_URL",
    readBy: "client commands",
    meaning: "the daemon's URL (default http://127.0.0.1:8080); --url wins",
  },
  {
    name: "CELLBENCH_TOKEN",
    readBy: "client commands",
    meaning:
      "the bearer token sent to the daemon; --token wins (but a command line is visible to other users)",
  },
];

/** The variables `readBy` accepts, as lines of a help text: `  NAME  meaning`, wrapped at 100 columns. */
export function environmentHelp(readBy: (v: EnvironmentVariable) => boolean): string {
  const shown = ENVIRONMENT.filter(readBy);
  const width = Math.max(...shown.map((v) => v.name.length)) + 4;
  const lines = ["environment:"];
  for (const v of shown) {
    let line = `  ${v.name}`.padEnd(width);
    for (const word of v.meaning.split(" ")) {
      if (line.length + 1 + word.length > 100 && line.trim() !== "") {
        lines.push(line);
        line = " ".repeat(width);
      }
      line += line.endsWith(" ") ? word : ` ${word}`;
    }
    lines.push(line);
  }
  return lines.join("\n");
}
