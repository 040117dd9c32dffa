import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");

describe("cellbench serve", () => {
  it("samples the simulated bench and shuts down cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cellbench-serve-"));
    const config = join(dir, "bench.yaml");
    const example = readFileSync(join(root, "examples", "sim-bench.yaml"), "utf8");
    writeFileSync(
      config,
      example.replace("store: ./var/cellbench.db", `store: ${join(dir, "cellbench.db")}`),
    );
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "serve", "--config", config, "--speed", "50", "--port", "0"],
      {
        cwd: root,
        env: { ...process.env, CELLBENCH_LOG_LEVEL: "info", INFLUX_URL: "http://127.0.0.1:9" },
        stdio: ["ignore", "pipe", "pipe"],
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
    const deadline = Date.now() + 30_000;
    while (!out.includes('"msg":"API listening"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('"msg":"bench sampling"');
    expect(out).toContain('"channels":["ch1","ch2","ch3","ch4","ch5","ch6","ch7","ch8"]');
    child.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<"hung">((r) => setTimeout(() => r("hung"), 15_000)),
    ]);
    if (code === "hung") child.kill("SIGKILL");
    expect(code).toBe(0);
    expect(out).toContain("every channel in safe state");
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
