/**
 * `--help` on every command and subcommand: the walk goes over COMMAND_TREE, which holds the same
 * records the dispatchers accept names from (a command the dispatchers accept has help, or the code
 * does not compile); this test checks that each one's help is printed, without running the command.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLIENT_COMMANDS } from "../../../src/cli/client/client-command.js";
import { COMMAND_TREE, LOCAL_COMMANDS } from "../../../src/cli/command-tree.js";
import { type CommandHelp, leafCommands } from "../../../src/cli/help.js";
import { main } from "../../../src/cli/main.js";

// `serve --help` must print, not start a daemon.
vi.mock("../../../src/cli/serve-command.js", () => ({
  serveCommand: () => Promise.reject(new Error("serveCommand ran on --help")),
}));

const root = join(import.meta.dirname, "..", "..", "..");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

/** Every command of the tree with a path (groups and runnable commands), depth first. */
function allCommands(path: string[], node: CommandHelp): { path: string[]; node: CommandHelp }[] {
  const below = Object.entries(node.subcommands ?? {}).flatMap(([name, sub]) =>
    allCommands([...path, name], sub),
  );
  return path.length === 0 ? below : [{ path, node }, ...below];
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
    errors.push(a.join(" "));
  });
  try {
    const code = await main(argv, (line) => lines.push(line));
    return { code, out: lines.join("\n"), err: errors.join("\n") };
  } finally {
    spy.mockRestore();
  }
}

beforeEach(() => {
  // Were a client command run instead of its help, it would fail on this port (discard, closed).
  vi.stubEnv("CELLBENCH_URL", "http://127.0.0.1:9");
});
afterEach(() => vi.unstubAllEnvs());

const commands = allCommands([], COMMAND_TREE);

describe("cellbench ... --help", () => {
  it("walks the whole tree: every client and local command, and the subcommands of each group", () => {
    const top = Object.keys(COMMAND_TREE.subcommands ?? {});
    expect(top.sort()).toEqual([...Object.keys(LOCAL_COMMANDS), ...CLIENT_COMMANDS].sort());
    const names = commands.map((c) => c.path.join(" "));
    for (const expected of [
      "serve",
      "profile check",
      "export",
      "emulate",
      "cell add",
      "run start",
      "queue cancel",
      "batch resume",
    ])
      expect(names).toContain(expected);
    expect(commands.length).toBeGreaterThan(30);
  });

  it.each(commands.map((c) => [c.path.join(" "), c] as const))(
    "%s --help and -h print its usage and exit 0",
    async (_, c) => {
      for (const flag of ["--help", "-h"]) {
        const { code, out, err } = await run([...c.path, flag]);
        expect(err).toBe("");
        expect(code).toBe(0);
        const [usage, blank, summary] = out.split("\n");
        expect(usage).toBe(
          `usage: cellbench ${c.path.join(" ")}${c.node.args !== undefined ? ` ${c.node.args}` : c.node.subcommands ? " COMMAND ..." : ""}`,
        );
        expect(blank).toBe("");
        expect(summary).toBe(c.node.summary);
        // A group lists every command under it.
        if (c.node.subcommands)
          for (const leaf of leafCommands(c.path, c.node))
            expect(out).toContain(`  cellbench ${leaf.path.join(" ")}`);
      }
    },
  );

  it.each(commands.filter((c) => !c.node.subcommands).map((c) => [c.path.join(" "), c] as const))(
    "help %s prints the same as --help, and --help after arguments and options too",
    async (_, c) => {
      const help = await run([...c.path, "--help"]);
      expect(await run(["help", ...c.path])).toEqual(help);
      expect(await run([...c.path, "ARG", "--url", "http://127.0.0.1:9", "--help"])).toEqual(help);
    },
  );

  it("a word that names no subcommand of a group is a usage error that shows the group's help", async () => {
    for (const c of commands.filter((c) => c.node.subcommands)) {
      const { code, out, err } = await run([...c.path, "bogus", "--help"]);
      expect(code, c.path.join(" ")).toBe(2);
      expect(out).toBe("");
      expect(err).toContain(`unknown command "${[...c.path, "bogus"].join(" ")}"`);
      expect(err).toContain(`usage: cellbench ${c.path.join(" ")} COMMAND ...`);
    }
  });

  it("and without --help, every group's dispatcher refuses a name its help does not list", async () => {
    for (const c of commands.filter((c) => c.node.subcommands)) {
      const { code, err } = await run([...c.path, "bogus"]);
      expect(code, c.path.join(" ")).toBe(2);
      expect(err).toMatch(/unknown \w+ command "bogus"/);
      expect(err).toMatch(/\[USAGE\]$/);
    }
  });

  it("cellbench --help, -h and help list every runnable command; no command prints the list and exits 2", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out.split("\n")[0]).toBe(`cellbench ${version} — battery cell-test controller`);
    for (const leaf of leafCommands([], COMMAND_TREE))
      expect(help.out).toContain(`  cellbench ${leaf.path.join(" ")}`);
    expect(await run(["-h"])).toEqual(help);
    expect(await run(["help"])).toEqual(help);
    expect(await run([])).toEqual({ ...help, code: 2 });
  });

  it("an unknown command names itself and points to --help", async () => {
    const { code, err } = await run(["frobnicate", "--help"]);
    expect(code).toBe(2);
    expect(err).toContain('unknown command "frobnicate"');
    expect((await run(["frobnicate"])).err).toContain("`cellbench --help` lists the commands");
  });

  it("--help after -- is an argument, not a request for help", async () => {
    const { code, err } = await run(["profile", "check", "--", "--help"]);
    expect(code).toBe(2);
    expect(err).toContain("--cell is required");
  });
});

describe("cellbench --version", () => {
  it("prints the version of package.json, with -v too", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, out: `cellbench ${version}`, err: "" });
    expect(await run(["-v"])).toEqual({ code: 0, out: `cellbench ${version}`, err: "" });
  });

  it("works as a process: the exit code and stdout of `node --import tsx src/cli/main.ts`", () => {
    const out = (args: string[]) =>
      execFileSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 30_000,
      });
    expect(out(["--version"])).toBe(`cellbench ${version}\n`);
    // execFileSync throws on a non-zero exit: serve --help exits 0 without starting anything.
    expect(out(["serve", "--help"])).toMatch(/^usage: cellbench serve /);
  });
});
