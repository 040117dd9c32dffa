import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Two pseudo-terminals joined by socat, reachable through stable symlinks `a` and `b`. */
export interface PtyPair {
  /** Symlink to one pty (e.g. for the client under test). */
  readonly a: string;
  /** Symlink to the other pty (e.g. for the emulator or responder). */
  readonly b: string;
  /** Kills socat: both ptys and their links vanish, as when a USB adapter is pulled. */
  unplug(): Promise<void>;
  /** Starts socat again with the same link paths (new /dev/pts numbers behind them). */
  replug(): Promise<void>;
  /** Kills socat and removes the temporary directory. */
  stop(): Promise<void>;
}

export interface PtyPairOptions {
  /** How long to wait for socat to create both links. Default 5000 ms. */
  startTimeoutMs?: number;
}

/** Starts `socat -d -d pty,raw,echo=0,link=<tmp>/a pty,raw,echo=0,link=<tmp>/b` and waits for both links. */
export async function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  const dir = await mkdtemp(join(tmpdir(), "cellbench-pty-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let exited = false;
    proc.once("exit", () => {
      exited = true;
    });
    const spawnError = new Promise<never>((_, reject) => proc.once("error", reject));
    spawnError.catch(() => undefined);
    const deadline = Date.now() + startTimeoutMs;
    while (!(existsSync(a) && existsSync(b))) {
      if (exited) throw new Error(`socat exited before creating the links: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`socat did not create ${a} and ${b} within ${startTimeoutMs} ms: ${stderr.trim()}`);
      }
      await Promise.race([sleep(10), spawnError]);
    }
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
    const deadline = Date.now() + 2000;
    while ((existsSync(a) || existsSync(b)) && Date.now() < deadline) await sleep(10);
  };

  await start();
  return {
    a,
    b,
    unplug: kill,
    replug: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
