/**
 * What `npm start` does without an InfluxDB: `cellbench serve` (a child process) on the example
 * bench with influx.url on a free loopback port starts a private influxd there, its samples reach
 * it, and SIGTERM stops the daemon and then influxd, whose data stays beside the store file. Without
 * influxd on PATH it says how to install it, once, and runs on, spooling.
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeInflux } from "../../../src/storage/influx-probe.js";
import { isAlive } from "../../../src/storage/local-influxd.js";
import { freePort } from "../../support/influxd.js";
import { npmStartServeArgs } from "../../support/npm-start.js";
import { eventually } from "../../support/wait.js";

const root = join(import.meta.dirname, "..", "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "cellbench-serve-influx-"));
const children: ChildProcessWithoutNullStreams[] = [];
const influxdPids: number[] = [];
let benches = 0;

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const pid of influxdPids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  pid?: number;
  url?: string;
  err?: unknown;
}

/** `cellbench serve` on a copy of the example bench whose InfluxDB URL is `url` and whose store is in a fresh directory. */
function serve(url: string, env: NodeJS.ProcessEnv = {}) {
  const dir = join(tmp, `bench${++benches}`);
  mkdirSync(dir);
  const config = join(dir, "bench.yaml");
  const example = readFileSync(join(root, "examples", "sim-bench.yaml"), "utf8");
  writeFileSync(
    config,
    example
      .replace("store: ./var/cellbench.db", `store: ${join(dir, "var", "cellbench.db")}`)
      .replace("url: http://127.0.0.1:8086", `url: ${url}`),
  );
  expect(readFileSync(config, "utf8")).toContain(url);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CELLBENCH_LOG_LEVEL: "info", ...env };
  delete childEnv.INFLUX_URL;
  delete childEnv.INFLUX_DB;
  delete childEnv.INFLUX_TOKEN;
  const child = spawn(
    process.execPath,
    [...npmStartServeArgs(), "--config", config, "--speed", "20", "--port", "0"],
    { cwd: root, env: childEnv, stdio: ["pipe", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const gone = () => (child.exitCode !== null ? `serve exited (${child.exitCode}):\n${out}` : undefined);
  return {
    dir,
    child,
    output: () => out,
    lines: (): LogLine[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as LogLine),
    until: (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) =>
      eventually(condition, what, timeoutMs, gone),
    /** SIGTERM; the exit code, or "hung" after 20 s. */
    async terminate(): Promise<number | null | "hung"> {
      child.kill("SIGTERM");
      return Promise.race([
        exited,
        new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 20_000)),
      ]);
    },
  };
}

describe("cellbench serve with no InfluxDB at its loopback URL", () => {
  it("starts a private influxd, writes to it, and stops it on SIGTERM", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    const served = serve(url);
    await served.until(() => served.lines().some((l) => l.msg === "API listening"), "the daemon listening");
    const influxDir = join(served.dir, "var", "influxd");
    const started = served.lines().find((l) => l.component === "local-influxd");
    expect(started?.msg, served.output()).toBe(
      `started a private InfluxDB at ${url} (data in ${influxDir}); it stops with the daemon`,
    );
    const pid = started?.pid as number;
    influxdPids.push(pid);
    expect(isAlive(pid)).toBe(true);
    expect(await probeInflux(url)).toMatchObject({ kind: "influxdb" });

    // The simulated chambers' readings arrive in the private InfluxDB.
    const measurements = async (): Promise<string> => {
      const res = await fetch(`${url}/query?q=${encodeURIComponent("SHOW MEASUREMENTS ON cellbench")}`);
      return res.text();
    };
    await served.until(async () => (await measurements()).includes('["chamber"]'), "chamber points", 20_000);
    expect(served.output()).not.toContain("does not answer");

    expect(await served.terminate(), served.output()).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    const messages = served.lines().map((l) => l.msg);
    expect(messages.indexOf("private InfluxDB stopped")).toBeGreaterThan(messages.indexOf("storage closed"));
    expect(messages.indexOf("storage closed")).toBeGreaterThan(0);
    for (const file of ["influxd.conf", "meta", "data/cellbench", "wal/cellbench"])
      expect(existsSync(join(influxDir, file)), file).toBe(true);
    expect(existsSync(join(influxDir, "influxd.pid"))).toBe(false);
  }, 90_000);

  it("without influxd on PATH, says once how to install it and keeps spooling", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const emptyBin = join(tmp, "empty-bin");
    mkdirSync(emptyBin, { recursive: true });
    const served = serve(url, { PATH: emptyBin });
    await served.until(() => served.lines().some((l) => l.msg === "API listening"), "the daemon listening");
    await served.until(
      () => served.lines().some((l) => l.msg.includes("does not answer")),
      "the storage's outage warning",
    );
    const warnings = served.lines().filter((l) => l.level >= 40);
    expect(warnings.map((l) => l.msg)).toEqual([
      `influxd is not installed, so no InfluxDB runs at ${url}: install it with \`sudo apt-get install influxdb\`; samples are spooled to the outbox meanwhile`,
      expect.stringMatching(
        new RegExp(
          `^InfluxDB at ${url} does not answer \\(.*ECONNREFUSED.*\\); samples are spooled to the outbox`,
        ),
      ),
    ]);
    expect(warnings.some((l) => l.err !== undefined)).toBe(false);
    // Spooling: the chambers' readings pile up in the outbox.
    const api = served.lines().find((l) => l.msg === "API listening")?.url as string;
    const backlog = async () => {
      const metrics = await (await fetch(`${api}/metrics`)).text();
      return Number(/^cellbench_storage_backlog_points (\d+)$/m.exec(metrics)?.[1] ?? 0);
    };
    await served.until(async () => (await backlog()) > 0, "points in the outbox", 20_000);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    expect(await served.terminate(), served.output()).toBe(0);
    expect(existsSync(join(served.dir, "var", "influxd"))).toBe(false);
  }, 90_000);
});
