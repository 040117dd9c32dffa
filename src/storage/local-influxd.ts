/**
 * A private InfluxDB for `cellbench serve` on a developer's machine: when the configured InfluxDB is
 * a loopback http:// URL where nothing listens and Debian's influxd (InfluxDB 1.x) is installed, it
 * runs one bound to that host and port only, with its data in a directory of its own, for as long as
 * the daemon runs.
 *
 *   const outcome = await provideLocalInflux({ url, dir: "./var/influxd" });
 *   if (outcome.kind === "started") ... await outcome.influxd.stop();
 *
 * influxd runs in a process group of its own, so that a Ctrl-C at the terminal reaches the daemon
 * only and the daemon's last samples are written before influxd stops. A pid file lets the next
 * start adopt an influxd that outlived its daemon (killed with SIGKILL, say).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { loopbackAddress, probeInflux } from "./influx-probe.js";
import { influxdConfigText } from "./influxd-config.js";

/** The one command that installs influxd (Debian, Ubuntu). */
export const INSTALL_INFLUXD = "sudo apt-get install influxdb";

/** The private influxd could not be started. */
export class LocalInfluxdError extends CellbenchError {
  constructor(message: string) {
    super("LOCAL_INFLUXD_FAILED", message);
  }
}

/** The path of an executable `name` on PATH (or `name` itself when it holds a slash), else undefined. */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ""): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : pathEnv
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return resolve(candidate);
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface LocalInfluxdOptions {
  /** http://host:port on loopback (see loopbackAddress). */
  url: string;
  /** Directory for influxd.conf, meta, data, wal, the log and the pid file (created when missing). */
  dir: string;
  /** Path of the influxd binary. */
  binary: string;
  /** Upper bound for start-up until /ping answers (default 15 s). */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
}

const running = new Set<LocalInfluxd>();
let exitHookInstalled = false;

/** A private influxd this process started (or adopted); stop() ends it. */
export class LocalInfluxd {
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  readonly configPath: string;
  readonly logPath: string;
  private readonly child: ChildProcess | undefined;
  private readonly stopTimeoutMs: number;
  private stopping: Promise<void> | undefined;

  private constructor(init: {
    url: string;
    dir: string;
    pid: number;
    child?: ChildProcess;
    stopTimeoutMs?: number;
  }) {
    this.url = init.url;
    this.dir = init.dir;
    this.pid = init.pid;
    this.child = init.child;
    this.configPath = join(init.dir, "influxd.conf");
    this.logPath = join(init.dir, "influxd.log");
    this.stopTimeoutMs = init.stopTimeoutMs ?? 5_000;
    running.add(this);
    installExitHook();
  }

  /** Writes influxd.conf, starts influxd and resolves once /ping answers; rejects with LocalInfluxdError. */
  static async start(options: LocalInfluxdOptions): Promise<LocalInfluxd> {
    const address = loopbackAddress(options.url);
    if (!address)
      throw new LocalInfluxdError(`a private influxd serves loopback http:// URLs only, not ${options.url}`);
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const rpcPort = await freePort(address.host);
    const configPath = join(dir, "influxd.conf");
    writeFileSync(
      configPath,
      influxdConfigText({
        dir,
        httpBind: `${address.host}:${address.port}`,
        rpcBind: `${address.host}:${rpcPort}`,
        logLevel: "warn",
      }),
    );
    const logPath = join(dir, "influxd.log");
    const logStart = fileSize(logPath);
    const logFd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(options.binary, ["run", "-config", configPath], {
        detached: true,
        stdio: ["ignore", logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    const spawned = await new Promise<Error | undefined>((settle) => {
      child.once("spawn", () => settle(undefined));
      child.once("error", settle);
    });
    if (spawned || child.pid === undefined)
      throw new LocalInfluxdError(
        `could not run ${options.binary}: ${spawned?.message ?? "no process"}; install it with \`${INSTALL_INFLUXD}\``,
      );
    child.unref();
    const influxd = new LocalInfluxd({
      url: options.url.replace(/\/+$/, ""),
      dir,
      pid: child.pid,
      child,
      stopTimeoutMs: options.stopTimeoutMs,
    });
    // Its pid and the owner's: a daemon adopts only an influxd whose owner is gone.
    writeFileSync(join(dir, "influxd.pid"), `${child.pid} ${process.pid}\n`);
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await influxd.stop();
        throw new LocalInfluxdError(
          `influxd exited during start-up (${child.exitCode ?? child.signalCode}): ${logTail(logPath, logStart)}`,
        );
      }
      const probe = await probeInflux(influxd.url, 500);
      if (probe.kind === "influxdb") return influxd;
      if (Date.now() >= deadline) {
        await influxd.stop();
        throw new LocalInfluxdError(
          `influxd did not answer at ${influxd.url}/ping within ${timeoutMs} ms: ${logTail(logPath, logStart)}`,
        );
      }
      await delay(50);
    }
  }

  /**
   * The influxd an earlier daemon started in `dir` and left running (it was killed before it could
   * stop it): its pid file names a live influxd run with that directory's configuration, and an
   * owner that is gone (a daemon still running keeps its own).
   */
  static adopt(options: { url: string; dir: string; stopTimeoutMs?: number }): LocalInfluxd | undefined {
    const dir = resolve(options.dir);
    let pid: number;
    let owner: number;
    let cmdline: string;
    try {
      [pid, owner] = readFileSync(join(dir, "influxd.pid"), "utf8").trim().split(/\s+/).map(Number) as [
        number,
        number,
      ];
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      return undefined;
    }
    if (!cmdline.split("\0").includes(join(dir, "influxd.conf"))) return undefined;
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return undefined;
    return new LocalInfluxd({
      url: options.url.replace(/\/+$/, ""),
      dir,
      pid,
      stopTimeoutMs: options.stopTimeoutMs,
    });
  }

  /** True while the process exists. */
  get running(): boolean {
    if (this.child) return this.child.exitCode === null && this.child.signalCode === null;
    return isAlive(this.pid);
  }

  /** SIGTERM, then SIGKILL after the stop timeout; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.terminate().finally(() => {
      running.delete(this);
      rmSync(join(this.dir, "influxd.pid"), { force: true });
    });
    return this.stopping;
  }

  private async terminate(): Promise<void> {
    if (!this.running) return;
    const child = this.child;
    const gone = child === undefined ? undefined : exitOf(child);
    const waitGone = (ms: number) => (gone === undefined ? pollGone(this.pid, ms) : within(gone, ms));
    signal(this.pid, "SIGTERM");
    if (await waitGone(this.stopTimeoutMs)) return;
    signal(this.pid, "SIGKILL");
    if (await waitGone(2_000)) return;
    throw new LocalInfluxdError(`influxd (pid ${this.pid}) is still running after SIGKILL`);
  }
}

export type LocalInfluxOutcome =
  /** The configured InfluxDB answers; nothing to do. */
  | { kind: "answering"; version: string }
  /** A private influxd left by an earlier daemon answers; it is this daemon's to stop now. */
  | { kind: "adopted"; influxd: LocalInfluxd }
  | { kind: "started"; influxd: LocalInfluxd }
  /** Not a loopback http:// URL, or not reachable for another reason than a free port: not ours to fix. */
  | { kind: "not-local"; message: string }
  /** influxd is not installed. */
  | { kind: "missing"; message: string }
  /** Something that is not InfluxDB holds the port. */
  | { kind: "port-taken"; message: string }
  | { kind: "failed"; message: string };

export interface ProvideLocalInfluxOptions {
  /** The configured InfluxDB URL. */
  url: string;
  /** Directory of the private influxd. */
  dir: string;
  /** influxd to run (default: `influxd` on PATH). A path that is not executable counts as not installed. */
  binary?: string;
  probeTimeoutMs?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** Makes sure an InfluxDB answers at `url` when that is a loopback address nothing listens on. */
export async function provideLocalInflux(options: ProvideLocalInfluxOptions): Promise<LocalInfluxOutcome> {
  const url = options.url.replace(/\/+$/, "");
  const probe = await probeInflux(url, options.probeTimeoutMs ?? 1000);
  if (probe.kind === "influxdb") {
    const influxd = LocalInfluxd.adopt({ url, dir: options.dir, stopTimeoutMs: options.stopTimeoutMs });
    return influxd ? { kind: "adopted", influxd } : { kind: "answering", version: probe.version };
  }
  const address = loopbackAddress(url);
  if (!address) return { kind: "not-local", message: `${url} is not a loopback http:// URL` };
  const where = `${address.host}:${address.port}`;
  if (probe.kind === "other")
    return {
      kind: "port-taken",
      message: `${where} is taken by a program that is not InfluxDB (${probe.what}); stop that program or point influx.url (or INFLUX_URL) at another port`,
    };
  if (probe.kind === "unreachable") return { kind: "not-local", message: `${url}: ${probe.error}` };
  const binary = findExecutable(options.binary ?? "influxd");
  if (!binary)
    return {
      kind: "missing",
      message: `influxd is not installed, so no InfluxDB runs at ${url}: install it with \`${INSTALL_INFLUXD}\`; samples are spooled to the outbox meanwhile`,
    };
  try {
    const influxd = await LocalInfluxd.start({
      url,
      dir: options.dir,
      binary,
      startTimeoutMs: options.startTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs,
    });
    return { kind: "started", influxd };
  } catch (err) {
    if (err instanceof LocalInfluxdError) return { kind: "failed", message: err.message };
    throw err;
  }
}

/** Asks every private influxd still running to stop when the process exits without stopping them. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const influxd of running) signal(influxd.pid, "SIGTERM");
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
function within(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((settle) => {
    const timer = setTimeout(() => settle(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      settle(true);
    });
  });
}

async function pollGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last lines influxd wrote to its log since `from` (its reason for failing, usually). */
function logTail(path: string, from: number): string {
  try {
    const text = readFileSync(path).subarray(from).toString("utf8").trim();
    return text === "" ? "(nothing in its log)" : text.slice(-1_500);
  } catch {
    return "(no log)";
  }
}

/** A TCP port on `host` that was free a moment ago. */
function freePort(host: string): Promise<number> {
  return new Promise((settle, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host.replace(/^\[|\]$/g, ""), () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => settle(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((settle) => setTimeout(settle, ms));
}
