import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  logRealtime,
  type RunCommand,
  requestRealtimePriority,
} from "../../../src/sampling/realtime-priority.js";

const MODULE = fileURLToPath(new URL("../../../src/sampling/realtime-priority.ts", import.meta.url));
const NOBODY = 65534;

interface ChildReport {
  outcome: { applied: boolean; priority: number; reason?: string };
  /** Scheduling policy (field 41 of stat: 0 other, 1 FIFO) of the main thread, a worker thread started afterwards, and a child process started afterwards. */
  main: number;
  worker: number;
  child: number;
  /** dropRealtimePriority() afterwards, and the main thread's policy then. */
  dropped: boolean;
  afterDrop: number;
}

/**
 * requestRealtimePriority() in a fresh process (the test process must not run under SCHED_FIFO), and
 * what the kernel then reports for its main thread, a thread and a process it starts afterwards.
 */
function requestInChild(priority: number, uid?: number): ChildReport {
  const script = `
    const { readFileSync, readdirSync } = await import("node:fs");
    const { Worker } = await import("node:worker_threads");
    const { execFileSync } = await import("node:child_process");
    const policyOf = (path) => { const s = readFileSync(path, "utf8"); return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[38]); };
    const m = await import(${JSON.stringify(MODULE)});
    const outcome = m.requestRealtimePriority(${priority});
    const before = new Set(readdirSync("/proc/self/task"));
    const worker = new Worker("setInterval(() => {}, 1000)", { eval: true });
    await new Promise((resolve) => worker.once("online", resolve));
    const fresh = readdirSync("/proc/self/task").filter((t) => !before.has(t));
    const workerPolicy = Math.max(...fresh.map((t) => policyOf("/proc/self/task/" + t + "/stat")));
    await worker.terminate();
    const child = Number(execFileSync("sh", ["-c", "cut -d' ' -f41 /proc/self/stat"], { encoding: "utf8" }));
    const main = policyOf("/proc/self/task/" + process.pid + "/stat");
    const dropped = m.dropRealtimePriority();
    const afterDrop = policyOf("/proc/self/task/" + process.pid + "/stat");
    process.stdout.write(JSON.stringify({ outcome, main, worker: workerPolicy, child, dropped, afterDrop }));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 30_000,
    ...(uid === undefined ? {} : { uid, gid: NOBODY }),
  });
  return JSON.parse(out);
}

describe("real-time priority of the sampling thread (sampling.realtime_priority)", () => {
  it("is what the kernel reports: SCHED_FIFO for the main thread only, never inherited by threads or processes started later", () => {
    const report = requestInChild(5);
    expect(report.outcome.applied).toBe(report.main === 1);
    if (process.getuid?.() === 0 && report.outcome.applied) expect(report.main).toBe(1);
    expect([report.worker, report.child]).toEqual([0, 0]);
    // The bench drops it between scenarios: the thread is ordinary again.
    expect([report.dropped, report.afterDrop]).toEqual([true, 0]);
  });

  it.runIf(process.getuid?.() === 0)("is refused to an unprivileged user, with chrt's reason", () => {
    const report = requestInChild(5, NOBODY);
    expect(report.outcome).toMatchObject({ applied: false, priority: 5 });
    expect(report.outcome.reason).toMatch(/not permitted/);
    expect(report.main).toBe(0);
  });

  it("asks chrt for FIFO with reset-on-fork on this process's main thread, and says why when it cannot", () => {
    const calls: string[][] = [];
    const failing: RunCommand = (command, args) => {
      calls.push([command, ...args]);
      return { status: 1, stderr: "chrt: failed to set pid 1's policy: Operation not permitted\n" };
    };
    expect(requestRealtimePriority(20, failing)).toEqual({
      applied: false,
      priority: 20,
      reason: "chrt: failed to set pid 1's policy: Operation not permitted",
    });
    expect(calls).toEqual([["chrt", "--fifo", "--reset-on-fork", "--pid", "20", String(process.pid)]]);
    const missing: RunCommand = () => ({
      status: null,
      stderr: "",
      error: Object.assign(new Error("spawnSync chrt ENOENT"), { code: "ENOENT" }),
    });
    expect(requestRealtimePriority(20, missing)).toMatchObject({
      applied: false,
      reason: "chrt not found (install util-linux)",
    });
    // chrt "succeeds" but the kernel reports otherwise (this test process stays SCHED_OTHER).
    expect(requestRealtimePriority(20, () => ({ status: 0, stderr: "" }))).toMatchObject({
      applied: false,
      reason: "chrt succeeded but the kernel does not report SCHED_FIFO",
    });
  });

  it.each([0, 100, 2.5, Number.NaN])("refuses priority %s without running chrt", (priority) => {
    const never: RunCommand = () => {
      throw new Error("chrt must not run");
    };
    expect(requestRealtimePriority(priority, never)).toMatchObject({
      applied: false,
      reason: "priority must be an integer from 1 to 99",
    });
  });

  it("is logged: info when applied, a warning that says what to grant when not", () => {
    const lines: Array<{ level: string; fields: object; msg: string }> = [];
    const logger = {
      info: (fields: object, msg: string) => void lines.push({ level: "info", fields, msg }),
      warn: (fields: object, msg: string) => void lines.push({ level: "warn", fields, msg }),
    };
    logRealtime(logger as never, { applied: true, priority: 20 });
    logRealtime(logger as never, { applied: false, priority: 20, reason: "EPERM" });
    expect(lines[0]).toMatchObject({ level: "info", fields: { priority: 20 } });
    expect(lines[1]).toMatchObject({ level: "warn", fields: { priority: 20, reason: "EPERM" } });
    expect(lines[1]?.msg).toMatch(
      /LimitRTPRIO=20 or more.*RestrictRealtime=.*CAP_SYS_NICE.*sampling\.realtime_priority/,
    );
  });
});
