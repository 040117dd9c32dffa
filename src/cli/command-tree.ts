import { CLIENT_HELP } from "./client/client-command.js";
import { EMULATE_HELP } from "./emulate-help.js";
import { EXPORT_HELP } from "./export-help.js";
import { type CommandHelp, commandList, leafCommands } from "./help.js";
import { PROFILE_CHECK_HELP } from "./profile-check-help.js";
import { SERVE_HELP } from "./serve-help.js";

/** The commands main.ts runs itself; the client commands (CLIENT_HELP) go to clientCommand. */
export const LOCAL_COMMANDS = {
  serve: SERVE_HELP,
  profile: {
    summary: "profiles, checked without a bench",
    subcommands: { check: PROFILE_CHECK_HELP },
  },
  export: EXPORT_HELP,
  emulate: EMULATE_HELP,
} as const satisfies Readonly<Record<string, CommandHelp>>;

export type LocalCommand = keyof typeof LOCAL_COMMANDS;

/** Every command of the CLI, with its help: what `cellbench [COMMAND ...] --help` prints. */
export const COMMAND_TREE: CommandHelp = {
  summary: "cellbench — battery cell-test controller",
  subcommands: { ...LOCAL_COMMANDS, ...CLIENT_HELP },
};

/** `cellbench --help`: every command with its summary, the client commands apart. */
export function rootHelp(version: string): string {
  const list = (commands: Readonly<Record<string, CommandHelp>>) =>
    commandList(Object.entries(commands).flatMap(([name, node]) => leafCommands([name], node)));
  return [
    `cellbench ${version} — battery cell-test controller`,
    "",
    "usage: cellbench COMMAND ... [--help]",
    "       cellbench --version",
    "",
    "commands:",
    ...list(LOCAL_COMMANDS),
    "",
    "client of a running daemon (--url or CELLBENCH_URL, --token or CELLBENCH_TOKEN):",
    ...list(CLIENT_HELP),
    "",
    "`cellbench COMMAND --help` shows a command's options (`cellbench run start --help`).",
  ].join("\n");
}
