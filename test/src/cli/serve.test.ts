import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { npmStartServeArgs } from "../../support/npm-start.js";

const root = join(import.meta.dirname, "..", "..", "..");

interface Served {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  exited: Promise<number | null>;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** `cellbench serve` on the example simulated bench at 50×, with InfluxDB unreachable (port 9, no private influxd). */
function serve(): Served {
  const dir = mkdtempSync(join(tmpdir(), "cellbench-serve-"));
  const config = join(dir, "bench.yaml");
  const example = readFileSync(join(root, "examples", "sim-bench.yaml"), "utf8");
  writeFileSync(config, example.replace("store: ./var/cellbench.db", `store: ${join(dir, "cellbench.db")}`));
  const child = spawn(
    process.execPath,
    [...npmStartServeArgs(), "--config", config, "--speed", "50", "--port", "0", "--no-local-influx"],
    {
      cwd: root,
      env: { ...process.env, CELLBENCH_LOG_LEVEL: "info", INFLUX_URL: "http://127.0.0.1:9" },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    child,
    output: () => out,
    exited,
    async waitFor(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`"${text}" not printed within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The exit code, or "hung" when the process is still running after `ms`. */
function exitWithin(served: Served, ms: number): Promise<number | null | "hung"> {
  return Promise.race([served.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), ms))]);
}

describe("cellbench serve", () => {
  it("samples the simulated bench and shuts down cleanly on SIGTERM", async () => {
    const served = serve();
    await served.waitFor('"msg":"API listening"');
    expect(served.output()).toContain('"msg":"bench sampling"');
    expect(served.output()).toContain('"channels":["ch1","ch2","ch3","ch4","ch5","ch6","ch7","ch8"]');
    served.child.kill("SIGTERM");
    expect(await exitWithin(served, 15_000)).toBe(0);
    expect(served.output()).toContain("every channel in safe state");
  }, 60_000);

  it("exits at once on a second signal while the first is still flushing the outbox", async () => {
    const served = serve();
    await served.waitFor('"msg":"API listening"');
    // InfluxDB is unreachable, so the graceful stop waits (up to 5 s) for the outbox to drain.
    await new Promise((r) => setTimeout(r, 500));
    served.child.kill("SIGINT");
    await served.waitFor("every channel in safe state", 10_000);
    const secondAt = Date.now();
    served.child.kill("SIGINT");
    expect(await exitWithin(served, 3000)).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(3000);
    expect(served.output()).toContain('"msg":"second signal: exiting at once"');
    expect(served.output()).not.toContain('"msg":"storage closed"');
  }, 60_000);
});
