#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { UsageError } from "./cli-error.js";
import { CLIENT_COMMANDS, CLIENT_HELP, clientCommand } from "./client/client-command.js";
import { emulateCommand } from "./emulate-command.js";
import { exportCommand } from "./export-command.js";
import { profileCheckCommand } from "./profile-check-command.js";
import { serveCommand } from "./serve-command.js";

const HELP = `cellbench — battery cell-test controller

  cellbench serve --config FILE [--speed N]        run the daemon on a bench
  cellbench profile check PROFILE --cell CELL      validate and dry-run a profile on the simulated cell
        [--out FILE.csv] [--soc 0..1] [--period SECONDS]
  cellbench export RUN --format bdf-csv [--out FILE] [--config FILE]   a run from InfluxDB as Battery Data Format CSV
  cellbench emulate DRIVER --listen URL [--unit N,..] [--link-timing] [--list]     a wire-level instrument emulator

client of a running daemon (--url / CELLBENCH_URL, --token / CELLBENCH_TOKEN):
${CLIENT_HELP}`;

/** Runs one CLI invocation; returns the process exit code. */
export async function main(argv: string[], print = (line: string) => console.log(line)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "serve") {
      await serveCommand(rest);
      return 0;
    }
    if (command === "emulate") {
      await emulateCommand(rest, print);
      return 0;
    }
    if (command === "export") {
      await exportCommand(rest, print);
      return 0;
    }
    if (command === "profile" && rest[0] === "check") {
      await profileCheckCommand(rest.slice(1), print);
      return 0;
    }
    if (command !== undefined && CLIENT_COMMANDS.includes(command)) {
      await clientCommand(argv, print);
      return 0;
    }
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      print(HELP);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${argv.join(" ")}"\n${HELP}`);
  } catch (err) {
    if (err instanceof CellbenchError) {
      console.error(`cellbench: ${err.message} [${err.code}]`);
      return err instanceof UsageError ? 2 : 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`cellbench: ${err.message}\n${HELP}`);
      return 2;
    }
    throw err;
  }
}

const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 70;
    },
  );
}
