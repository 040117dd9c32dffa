#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { UsageError } from "./cli-error.js";
import { CLIENT_COMMANDS, clientCommand } from "./client/client-command.js";
import { COMMAND_TREE, LOCAL_COMMANDS, type LocalCommand, rootHelp } from "./command-tree.js";
import { asksForHelp, findHelpTarget, renderHelp } from "./help.js";
import { packageVersion } from "./version.js";

type Print = (line: string) => void;

/**
 * What runs each command of LOCAL_COMMANDS (the args after the command's name). Each module is loaded
 * when its command runs: the daemon's for serve takes seconds, which `--help`, `--version` and the
 * client commands do not wait for.
 */
const HANDLERS: Readonly<Record<LocalCommand, (args: string[], print: Print) => Promise<void>>> = {
  serve: async (args) => (await import("./serve-command.js")).serveCommand(args),
  profile: async (args, print) => {
    const [sub, ...rest] = args;
    if (sub !== "check")
      throw new UsageError(
        `unknown profile command "${sub ?? ""}"\n${renderHelp(["profile"], LOCAL_COMMANDS.profile)}`,
      );
    await (await import("./profile-check-command.js")).profileCheckCommand(rest, print);
  },
  export: async (args, print) => (await import("./export-command.js")).exportCommand(args, print),
  emulate: async (args, print) => (await import("./emulate-command.js")).emulateCommand(args, print),
};

/** Runs one CLI invocation; returns the process exit code. */
export async function main(argv: string[], print: Print = (line) => console.log(line)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "--version" || command === "-v") {
      print(`cellbench ${packageVersion()}`);
      return 0;
    }
    if (command === undefined) {
      print(rootHelp(packageVersion()));
      return 2;
    }
    if (command === "help" || asksForHelp(argv)) {
      printHelp(command === "help" ? rest : argv, print);
      return 0;
    }
    if (Object.hasOwn(HANDLERS, command)) {
      await HANDLERS[command as LocalCommand](rest, print);
      return 0;
    }
    if (CLIENT_COMMANDS.includes(command)) {
      await clientCommand(argv, print);
      return 0;
    }
    throw new UsageError(`unknown command "${command}"; \`cellbench --help\` lists the commands`);
  } catch (err) {
    if (err instanceof CellbenchError) {
      console.error(`cellbench: ${err.message} [${err.code}]`);
      return err instanceof UsageError ? 2 : 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      const target = findHelpTarget(COMMAND_TREE, argv);
      console.error(`cellbench: ${err.message}\n${renderHelp(target.path, target.node)}`);
      return 2;
    }
    throw err;
  }
}

/** Prints the help of the command `words` name; a word that names no command is a usage error. */
function printHelp(words: string[], print: Print): void {
  const target = findHelpTarget(COMMAND_TREE, words);
  if (!target.found)
    throw new UsageError(
      `unknown command "${[...target.path, target.unknown].join(" ")}"\n` +
        (target.path.length === 0
          ? "`cellbench --help` lists the commands"
          : renderHelp(target.path, target.node)),
    );
  print(target.path.length === 0 ? rootHelp(packageVersion()) : renderHelp(target.path, target.node));
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
