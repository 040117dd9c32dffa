/**
 * What `npm start` does without an InfluxDB: `cellbench serve` (a child process) on the example
 * bench with influx.url on a free loopback port starts a private influxd there, its samples reach
 * it, and SIGTERM stops the daemon and then influxd, whose data stays beside the store file.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeInflux } from "../../../src/storage/local-influxd.js";
import { freePort } from "../../support/influxd.js";
import { eventually } from "../../support/wait.js";

const root = join(import.meta.dirname, "..", "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cellbench-serve-influx-"));
let child: ChildProcessWithoutNullStreams | undefined;
let influxdPid: number | undefined;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (influxdPid !== undefined && isAlive(influxdPid)) process.kill(influxdPid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface LogLine {
  msg: string;
  component?: string;
  pid?: number;
  dir?: string;
  url?: string;
}

describe("cellbench serve with no InfluxDB at its loopback URL", () => {
  it("starts a private influxd, writes to it, and stops it on SIGTERM", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const store = join(dir, "var", "cellbench.db");
    const config = join(dir, "bench.yaml");
    const example = readFileSync(join(root, "examples", "sim-bench.yaml"), "utf8");
    writeFileSync(
      config,
      example
        .replace("store: ./var/cellbench.db", `store: ${store}`)
        .replace("url: http://127.0.0.1:8086", `url: ${url}`),
    );
    expect(readFileSync(config, "utf8")).toContain(url);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });

    const env: NodeJS.ProcessEnv = { ...process.env, CELLBENCH_LOG_LEVEL: "info" };
    delete env.INFLUX_URL;
    delete env.INFLUX_DB;
    delete env.INFLUX_TOKEN;
    const served = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "serve", "--config", config, "--speed", "20", "--port", "0"],
      { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] },
    );
    child = served;
    let out = "";
    served.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    served.stderr.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => served.on("exit", (code) => resolve(code)));
    const lines = (): LogLine[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as LogLine);
    const gone = () => (served.exitCode !== null ? `serve exited (${served.exitCode}):\n${out}` : undefined);

    await eventually(
      () => lines().some((l) => l.msg === "API listening"),
      "the daemon listening",
      30_000,
      gone,
    );
    const startedLine = lines().find((l) => l.component === "local-influxd" && l.msg.startsWith("started"));
    expect(startedLine, out).toBeDefined();
    expect(startedLine?.msg).toBe(
      `started a private InfluxDB at ${url} (data in ${join(dir, "var", "influxd")}); it stops with the daemon`,
    );
    const pid = startedLine?.pid as number;
    influxdPid = pid;
    expect(isAlive(pid)).toBe(true);
    expect(await probeInflux(url)).toMatchObject({ kind: "influxdb" });

    // The simulated chambers' readings arrive in the private InfluxDB.
    const measurements = async (): Promise<string> => {
      const res = await fetch(`${url}/query?q=${encodeURIComponent("SHOW MEASUREMENTS ON cellbench")}`);
      return res.text();
    };
    await eventually(
      async () => (await measurements()).includes('["chamber"]'),
      "chamber points",
      20_000,
      gone,
    );
    expect(out).not.toContain("does not answer");

    served.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 20_000)),
    ]);
    expect(code, out).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    const messages = lines().map((l) => l.msg);
    expect(messages.indexOf("private InfluxDB stopped")).toBeGreaterThan(messages.indexOf("storage closed"));
    const influxDir = join(dir, "var", "influxd");
    for (const file of ["influxd.conf", "meta", "data/cellbench", "wal/cellbench"])
      expect(existsSync(join(influxDir, file)), file).toBe(true);
    expect(existsSync(join(influxDir, "influxd.pid"))).toBe(false);
  }, 90_000);
});
