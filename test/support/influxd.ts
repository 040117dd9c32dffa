/**
 * Starts a private influxd (Debian's InfluxDB 1.6, /usr/bin/influxd) for integration tests: its own
 * temporary directory (meta, data, wal), HTTP and RPC bound to free loopback ports, reporting off,
 * logging quiet. Never touches the system service on :8086.
 *
 *   const influxd = await startInfluxd();
 *   ... influxd.url ...
 *   await influxd.halt();     // outage: process gone, port and data kept
 *   await influxd.restart();  // same port, same data
 *   await influxd.stop();     // process gone, directory removed (call in afterAll)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { influxdConfigText } from "../../src/storage/influxd-config.js";

export interface InfluxdOptions {
  /** Path of the influxd binary (default /usr/bin/influxd or $INFLUXD). */
  binary?: string;
  /** Require authentication (create the first admin user with `createAdmin`). */
  auth?: boolean;
  /** Upper bound for start-up (default 15 s). */
  startTimeoutMs?: number;
  /** How a free port is chosen (default `freePort`: the kernel's choice); tests of the retry hand one in. */
  pickPort?: () => Promise<number>;
}

/**
 * Start-ups tried with fresh ports when influxd finds one taken: a port free when it was picked may
 * be taken before influxd binds it (a bench run failed so).
 */
const PORT_ATTEMPTS = 3;

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** True while the process is running. */
  readonly running: boolean;
  /** Process id while running (for CPU accounting in benchmarks). */
  readonly pid: number | undefined;
  /** Kills the process but keeps the port and the data directory (for outage tests). */
  halt(): Promise<void>;
  /** Starts the process again on the same port and directory; resolves when /ping answers. */
  restart(): Promise<void>;
  /** Kills the process and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Runs an InfluxQL statement through /query (POST) and returns the parsed JSON. */
  query(q: string, params?: { db?: string; auth?: { username: string; password: string } }): Promise<unknown>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts influxd and waits for /ping. */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<Influxd> {
  const binary = options.binary ?? process.env.INFLUXD ?? "/usr/bin/influxd";
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const pickPort = options.pickPort ?? freePort;
  const dir = await mkdtemp(join(tmpdir(), "cellbench-influxd-"));
  const configPath = join(dir, "influxd.conf");
  let httpPort = 0;
  let url = "";
  const choosePorts = async () => {
    httpPort = await pickPort();
    let rpcPort = await pickPort();
    for (let i = 0; rpcPort === httpPort && i < 10; i++) rpcPort = await pickPort();
    await writeFile(
      configPath,
      influxdConfigText({
        dir,
        httpBind: `127.0.0.1:${httpPort}`,
        rpcBind: `127.0.0.1:${rpcPort}`,
        auth: options.auth ?? false,
      }),
    );
    url = `http://127.0.0.1:${httpPort}`;
  };
  installExitHook();

  let child: ChildProcess | undefined;
  let stderrTail = "";
  let removed = false;

  const launch = async (): Promise<void> => {
    stderrTail = "";
    const proc = spawn(binary, ["run", "-config", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    live.add(proc);
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    proc.once("exit", () => live.delete(proc));
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`influxd exited during start-up (code ${proc.exitCode}): ${stderrTail}`);
      if (await ping(url)) return;
      await delay(25);
    }
    await kill(proc);
    throw new Error(`influxd did not answer /ping at ${url} within ${startTimeoutMs} ms: ${stderrTail}`);
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc) await kill(proc);
  };

  for (let attempt = 1; ; attempt++) {
    await choosePorts();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt < PORT_ATTEMPTS && /address already in use/.test(stderrTail)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  return {
    url,
    port: httpPort,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return child?.pid;
    },
    halt,
    async restart() {
      if (removed) throw new Error("influxd was stopped for good; start a new one");
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      if (!removed) {
        removed = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
    async query(q, params = {}) {
      const body = new URLSearchParams({ q });
      if (params.db) body.set("db", params.db);
      const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
      if (params.auth)
        headers.authorization = `Basic ${Buffer.from(`${params.auth.username}:${params.auth.password}`).toString("base64")}`;
      const res = await fetch(`${url}/query?epoch=ms`, { method: "POST", body, headers });
      const json: unknown = await res.json();
      if (!res.ok) throw new Error(`influxd /query ${res.status}: ${JSON.stringify(json)}`);
      return json;
    },
  };
}

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Returns a loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Kills any influxd still running when the test process exits (a crashed test must not leak one). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const proc of live) proc.kill("SIGKILL");
  });
}
