/**
 * `npm run demo:emulated` end to end: the demo script in a child process (its own process group) with
 * a temporary pty folder, free loopback ports and a temporary store; the REAL drivers over socat ptys
 * and loopback TCP to the wire-level emulators. Over HTTP: every device samples, the bench lists its
 * channel and chambers, a short run completes; SIGINT stops everything cleanly (exit 0, no socat left).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NMC_CELL_BODY } from "../support/http-bench.js";
import { freePort } from "../support/influxd.js";
import { eventually } from "../support/wait.js";

const root = join(import.meta.dirname, "..", "..");
const TOKEN = "demo-e2e-operator-token-0123456789";
const PROFILE = "name: demo-e2e\nsteps:\n  - Discharge at 1 A for 5 s\n  - Rest for 2 s\n";

interface Health {
  devices: { id: string; fresh: boolean }[];
}
interface BenchView {
  channels: { id: string; device: string; chamber: string | null }[];
  chambers: { id: string }[];
}
interface RunView {
  id: string;
  state: string;
  reason: string;
  history: { state: string }[];
}

/** Pids of live processes whose command line mentions `text` (the test's unique pty folder). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // A zombie (state Z) is dead already; it only waits for its parent to reap it.
      if (cmdline.includes(text) && !/^\d+ \(.*\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last lines of the demo's output, each cut short (the daemon logs long JSON lines). */
function tail(output: string): string {
  return output
    .split("\n")
    .slice(-60)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line))
    .join("\n");
}

/** Distinct free loopback ports (freePort may hand out the same port twice in a row). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

describe("examples/demo-emulated.ts", () => {
  let dir: string | undefined;
  let demo: ChildProcess | undefined;

  afterEach(async () => {
    // Fallback for a failing test: the demo's group, then anything still naming the pty folder (socat
    // and the daemon run in process groups of their own).
    const pid = demo?.pid;
    if (pid !== undefined && demo?.exitCode === null && demo.signalCode === null) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (dir !== undefined) {
      for (const leftover of processesMentioning(dir)) {
        try {
          process.kill(leftover, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await sleep(100);
      rmSync(dir, { recursive: true, force: true });
    }
    demo = undefined;
    dir = undefined;
  });

  it("serves the emulated bench, completes a run over HTTP and stops cleanly on SIGINT", async () => {
    const started = Date.now();
    const tmp = mkdtempSync(join(tmpdir(), "cellbench-demo-"));
    dir = tmp;
    const [apiPort, especPort, influxPort] = await freePorts(3);
    const api = `http://127.0.0.1:${apiPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CELLBENCH_TOKENS: `operator:${TOKEN}`,
      // A closed loopback port: samples spool in the outbox, and an influxd a developer runs on the
      // YAML's 8086 gets no test data.
      INFLUX_URL: `http://127.0.0.1:${influxPort}`,
    };
    delete env.INFLUX_DB;
    delete env.INFLUX_TOKEN;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "examples/demo-emulated.ts",
        ...["--dir", tmp, "--port", String(apiPort), "--espec-port", String(especPort)],
        ...["--store", join(tmp, "cellbench.db"), "--physics-speed", "20"],
      ],
      { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    demo = child;
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const alive = () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the demo exited early (${child.exitCode ?? child.signalCode})`);
    };
    const get = async <T>(path: string, token?: string): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${api}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(5000),
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    try {
      // Every device samples over its link: the PSB and both F4s over ptys, the Espec over TCP.
      let health: Health | undefined;
      await eventually(
        async () => {
          alive();
          await sleep(100);
          try {
            health = (await get<Health>("/health")).body;
          } catch {
            return false; // not listening yet
          }
          const fresh = health.devices.filter((d) => d.fresh).map((d) => d.id);
          return ["psb1", "tc1", "tc2", "tc3"].every((id) => fresh.includes(id));
        },
        "every device to have a fresh sample",
        30_000,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last health ${JSON.stringify(health)}`);
      });
      const startedAfterS = (Date.now() - started) / 1000;

      expect((await get<unknown>("/api/v1/bench")).status).toBe(401);
      const bench = await get<BenchView>("/api/v1/bench", TOKEN);
      expect(bench.status).toBe(200);
      expect(bench.body.channels.map((c) => [c.id, c.device, c.chamber])).toEqual([["ch1", "psb1", "tc1"]]);
      expect(bench.body.chambers.map((c) => c.id).sort()).toEqual(["tc1", "tc2", "tc3"]);

      const start = (extra: Record<string, unknown>) =>
        fetch(`${api}/api/v1/runs`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ channel: "ch1", cell: NMC_CELL_BODY, profile: PROFILE, ...extra }),
          signal: AbortSignal.timeout(10_000),
        });
      // The emulated PSB, like the real one, measures no cell temperature: the emulated DAQ's
      // thermocouple on its cell does, so a run starts without an override.
      const ch1 = bench.body.channels[0] as BenchView["channels"][number] & { temperature_sensors: string[] };
      expect(ch1.temperature_sensors).toEqual(["daq1:101"]);
      const created = await start({});
      const createdBody = (await created.json()) as RunView;
      expect(created.status, JSON.stringify(createdBody)).toBe(201);

      let run: RunView | undefined;
      await eventually(
        async () => {
          alive();
          await sleep(200);
          run = (await get<RunView>(`/api/v1/runs/${createdBody.id}`, TOKEN)).body;
          if (!["queued", "running", "completed"].includes(run.state))
            throw new Error(`run ${run.id} ended ${run.state}: ${run.reason}`);
          return run.state === "completed";
        },
        `run ${createdBody.id} to complete`,
        30_000,
      );
      expect(run?.history.map((h) => h.state)).toEqual(["queued", "running", "completed"]);

      process.kill(child.pid as number, "SIGINT");
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("still running 15 s after SIGINT"), 15_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(code).toBe(0);
      // The demo stopped socat and the daemon before exiting; nothing names the pty folder any more.
      await eventually(() => processesMentioning(tmp).length === 0, "socat and the daemon to be gone", 3000);
      expect(existsSync(join(tmp, "psb1"))).toBe(false);
      expect(existsSync(join(tmp, "rs485"))).toBe(false);
      console.log(
        `demo: devices fresh after ${startedAfterS.toFixed(1)} s, all done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      if (err instanceof Error)
        err.message += `\n--- demo output (last lines, shortened) ---\n${tail(output)}`;
      throw err;
    }
  }, 90_000);
});
