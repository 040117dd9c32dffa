import { environmentHelp } from "./environment.js";
import type { CommandHelp } from "./help.js";

/** `cellbench export --help` (export-command.ts parses these options). */
export const EXPORT_HELP: CommandHelp = {
  summary: "a run from InfluxDB as Battery Data Format CSV",
  args: "RUN [--format bdf-csv] [--out FILE.csv] [--config FILE]",
  details: `options:
  --format bdf-csv   the only format (default)
  --out FILE.csv     write the CSV there, and the run's metadata (cell, test) beside it as
                     FILE.metadata.json; without --out the CSV goes to stdout
  --config FILE      the bench configuration whose InfluxDB and store hold the run
                     (default examples/sim-bench.yaml)

${environmentHelp((v) => v.readBy === "serve, export")}

example:
  cellbench export R20260412-0007 --out run-7.csv --config /etc/cellbench/bench.yaml`,
};
