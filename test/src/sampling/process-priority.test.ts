import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { logPriority, SAMPLING_NICE } from "../../../src/sampling/process-priority.js";

const MODULE = fileURLToPath(new URL("../../../src/sampling/process-priority.ts", import.meta.url));
const NOBODY = 65534;

/**
 * raiseSamplingPriority() in a fresh process (renicing the test process would change every later
 * test), with the nice value of each of its threads afterwards (Linux: field 19 of /proc/self/task/N/stat).
 */
function raiseInChild(uid?: number): { raised: boolean; nice: number; reason?: string; threads: number[] } {
  const script = `
    const { readdirSync, readFileSync } = await import("node:fs");
    const m = await import(${JSON.stringify(MODULE)});
    const outcome = m.raiseSamplingPriority();
    const threads = readdirSync("/proc/self/task").map((t) => {
      const stat = readFileSync("/proc/self/task/" + t + "/stat", "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
    process.stdout.write(JSON.stringify({ ...outcome, threads }));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 20_000,
    ...(uid === undefined ? {} : { uid, gid: NOBODY }),
  });
  return JSON.parse(out);
}

describe("the sampling process's CPU priority", () => {
  it("is raised to nice −10 where the process may (root or CAP_SYS_NICE), and refused with a reason where not", () => {
    const outcome = raiseInChild();
    if (process.getuid?.() === 0) {
      expect(outcome).toMatchObject({ raised: true, nice: SAMPLING_NICE });
      // Every thread, not only the main one: V8's collector threads hold up its pauses.
      expect(outcome.threads.length).toBeGreaterThan(1);
      expect(new Set(outcome.threads)).toEqual(new Set([SAMPLING_NICE]));
    } else expect(outcome).toMatchObject({ raised: false, reason: expect.stringMatching(/^E(ACCES|PERM)$/) });
  });

  it.runIf(process.getuid?.() === 0)("an unprivileged user is refused, and keeps its priority", () => {
    const outcome = raiseInChild(NOBODY);
    expect(outcome).toMatchObject({ raised: false, reason: expect.stringMatching(/^E(ACCES|PERM)$/) });
    expect(outcome.nice).toBeGreaterThan(SAMPLING_NICE);
  });

  it("is logged: info when raised, a warning that says what to grant when refused", () => {
    const lines: Array<{ level: string; fields: object; msg: string }> = [];
    const logger = {
      info: (fields: object, msg: string) => void lines.push({ level: "info", fields, msg }),
      warn: (fields: object, msg: string) => void lines.push({ level: "warn", fields, msg }),
    };
    logPriority(logger as never, { raised: true, nice: -10 });
    logPriority(logger as never, { raised: false, nice: 0, reason: "EACCES" });
    expect(lines[0]).toEqual({
      level: "info",
      fields: { nice: -10 },
      msg: "sampling at raised CPU priority",
    });
    expect(lines[1]?.level).toBe("warn");
    expect(lines[1]?.fields).toEqual({ nice: 0, reason: "EACCES" });
    expect(lines[1]?.msg).toMatch(/could not raise the CPU priority to nice -10.*CAP_SYS_NICE.*Nice=-10/);
  });
});
