/**
 * What `--help` prints: every command and subcommand of the CLI describes itself with a CommandHelp;
 * command-tree.ts assembles them, and `cellbench WORDS... --help` prints the one WORDS name.
 */
export interface CommandHelp {
  /** One line, for the parent's list and under the usage line. */
  summary: string;
  /** What follows the command's words on its usage line, e.g. "PROFILE --cell CELL [--out FILE.csv]". */
  args?: string;
  /** Options, examples, notes: printed after the summary, as they are. */
  details?: string;
  /** A group's commands (`cellbench run start`, `cellbench run show`, ...). */
  subcommands?: Readonly<Record<string, CommandHelp>>;
}

/** Where the summaries of a list start, from the start of the line. */
const SUMMARY_COLUMN = 44;

/** The usage line of a command: `cellbench WORDS ARGS`, `cellbench WORDS COMMAND ...` for a group. */
export function usageLine(path: readonly string[], node: CommandHelp): string {
  const words = ["cellbench", ...path].join(" ");
  if (node.args !== undefined) return `${words} ${node.args}`;
  return node.subcommands ? `${words} COMMAND ...` : words;
}

/** Every runnable command under `node` (itself when it has no subcommands), depth first. */
export function leafCommands(
  path: readonly string[],
  node: CommandHelp,
): { path: string[]; node: CommandHelp }[] {
  if (!node.subcommands) return [{ path: [...path], node }];
  return Object.entries(node.subcommands).flatMap(([name, sub]) => leafCommands([...path, name], sub));
}

/** The list lines of commands: usage line, then the summary in its column (on the next line when it does not fit). */
export function commandList(commands: { path: string[]; node: CommandHelp }[]): string[] {
  return commands.flatMap(({ path, node }) => {
    const usage = `  ${usageLine(path, node)}`;
    return usage.length < SUMMARY_COLUMN - 1
      ? [`${usage.padEnd(SUMMARY_COLUMN)}${node.summary}`]
      : [usage, `${" ".repeat(SUMMARY_COLUMN)}${node.summary}`];
  });
}

/** The help of one command: usage, summary, its details, and for a group the list of its commands. */
export function renderHelp(path: readonly string[], node: CommandHelp): string {
  const lines = [`usage: ${usageLine(path, node)}`, "", node.summary];
  if (node.subcommands) {
    lines.push("", "commands:", ...commandList(leafCommands(path, node)));
    lines.push("", `\`cellbench ${[...path, "COMMAND"].join(" ")} --help\` shows one command's options.`);
  }
  if (node.details !== undefined) lines.push("", node.details);
  return lines.join("\n");
}

/** The command `--help` asks about, or the word that names no command. */
export type HelpTarget =
  | { found: true; path: string[]; node: CommandHelp }
  | { found: false; path: string[]; node: CommandHelp; unknown: string };

/**
 * Finds the command that the words of `argv` name, from `root`: a subcommand name descends; an option
 * (`-x`, `--name`, `--name=value`) and the word after an option without `=` (its value, perhaps) are
 * skipped; `--` ends the search. Any other word ends it too: as an argument of a runnable command, or,
 * in a group, as an unknown command.
 */
export function findHelpTarget(root: CommandHelp, argv: readonly string[]): HelpTarget {
  const path: string[] = [];
  let node = root;
  let afterOption = false;
  for (const word of argv) {
    if (word === "--") break;
    if (word.startsWith("-")) {
      afterOption = !word.includes("=");
      continue;
    }
    const sub =
      node.subcommands && Object.hasOwn(node.subcommands, word) ? node.subcommands[word] : undefined;
    if (sub) {
      path.push(word);
      node = sub;
      afterOption = false;
      continue;
    }
    if (afterOption) {
      afterOption = false;
      continue;
    }
    if (node.subcommands) return { found: false, path, node, unknown: word };
    break;
  }
  return { found: true, path, node };
}

/** Whether the command line asks for help: `--help` or `-h` before any `--`. */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((word) => word === "--help" || word === "-h");
}

/** The default branch of a dispatcher's switch over its commands: a command listed but not handled does not compile. */
export function unhandledCommand(command: never): never {
  throw new Error(`command "${String(command)}" is listed but not handled`);
}
