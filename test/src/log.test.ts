/** The log format: pretty on a terminal, JSON otherwise, CELLBENCH_LOG_FORMAT forcing either. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogFormatError, logFormat, prettyTransport } from "../../src/log.js";

const root = join(import.meta.dirname, "..", "..");

/** A process that logs two lines through createLogger (one with a secret), as the daemon's would. */
const SCRIPT = `
import { createLogger } from "./src/log.ts";
const log = createLogger();
log.info({ channel: "ch1", token: "s3cret-s3cret-s3cret" }, "hello from the test");
log.child({ component: "bench" }).warn("second line");
`;
const NODE_ARGS = ["--import", "tsx", "--input-type=module", "-e", SCRIPT];

function logOutput(env: Record<string, string>): string {
  return execFileSync(process.execPath, NODE_ARGS, {
    cwd: root,
    env: { ...process.env, CELLBENCH_LOG_FORMAT: "", NO_COLOR: "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("logFormat", () => {
  it.each([
    [undefined, true, "pretty"],
    [undefined, false, "json"],
    ["", true, "pretty"],
    ["", false, "json"],
    ["pretty", false, "pretty"],
    ["json", true, "json"],
  ] as const)("CELLBENCH_LOG_FORMAT=%s with a terminal %s: %s", (forced, tty, format) => {
    expect(logFormat(forced === undefined ? {} : { CELLBENCH_LOG_FORMAT: forced }, tty)).toBe(format);
  });

  it("refuses a format it does not know, saying which it knows", () => {
    const err = (() => {
      try {
        logFormat({ CELLBENCH_LOG_FORMAT: "text" }, true);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LogFormatError);
    expect(err).toMatchObject({ code: "LOG_FORMAT_INVALID" });
    expect((err as Error).message).toMatch(/must be pretty or json, got "text"/);
  });

  it("colours pretty lines on a terminal only, and never with NO_COLOR", () => {
    const colorize = (env: NodeJS.ProcessEnv, tty: boolean) =>
      (prettyTransport(env, tty).options as { colorize: boolean }).colorize;
    expect(colorize({}, true)).toBe(true);
    expect(colorize({}, false)).toBe(false);
    expect(colorize({ NO_COLOR: "1" }, true)).toBe(false);
  });
});

describe("the logger's output", () => {
  it("is one JSON object a line when stdout is not a terminal, secrets redacted", () => {
    const lines = logOutput({}).trim().split("\n");
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(first).toMatchObject({
      level: 30,
      msg: "hello from the test",
      channel: "ch1",
      token: "[redacted]",
    });
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ level: 40, component: "bench", msg: "second line" });
  });

  it("is pretty when CELLBENCH_LOG_FORMAT=pretty, secrets redacted, no colour codes into a pipe", () => {
    const out = logOutput({ CELLBENCH_LOG_FORMAT: "pretty" });
    // One line an event: time, level, message, then the fields.
    expect(out).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: hello from the test \{"channel":"ch1","token":"\[redacted\]"\}$/m,
    );
    expect(out).toMatch(/^\[[^\]]+\] WARN: second line \{"component":"bench"\}$/m);
    expect(out.trim().split("\n")).toHaveLength(2);
    expect(out).not.toContain("s3cret");
    expect(out).not.toContain("\u001b[");
    expect(out).not.toMatch(/^\{/m);
  });

  it("is JSON when CELLBENCH_LOG_FORMAT=json, even on a terminal", () => {
    // `script` gives the child a pseudo-terminal as stdout (util-linux; in Debian's base system).
    expect(existsSync("/usr/bin/script")).toBe(true);
    const onTerminal = (format: string) =>
      execFileSync(
        "/usr/bin/script",
        ["-qec", [process.execPath, ...NODE_ARGS].map(shellQuote).join(" "), "/dev/null"],
        {
          cwd: root,
          env: { ...process.env, CELLBENCH_LOG_FORMAT: format, NO_COLOR: "" },
          encoding: "utf8",
          timeout: 30_000,
        },
      );
    const forced = onTerminal("json");
    expect(JSON.parse(forced.trim().split(/\r?\n/)[0] ?? "")).toMatchObject({ msg: "hello from the test" });
    // And without it, the same terminal gets pretty lines, in colour.
    const auto = onTerminal("");
    expect(auto).toContain("hello from the test");
    expect(auto).toContain("\u001b[");
    expect(auto).not.toMatch(/^\{/m);
  });
});

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
