import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerPool } from "../../../src/work/worker-pool.js";

const ENTRY = new URL("../../../src/work/profile-worker.ts", import.meta.url);

/** Nice value of every thread of process `pid` (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNice(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

describe("WorkerPool", () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it("runs every thread of a worker at the pool's nice value, collector threads included", async () => {
    pool = new WorkerPool(ENTRY, { nice: 13 });
    await pool.ready();
    const [pid] = pool.pids;
    expect(pid).toBeDefined();
    const nice = threadNice(pid as number);
    expect(nice.length).toBeGreaterThan(1);
    expect(new Set(nice)).toEqual(new Set([13]));
  });
});
