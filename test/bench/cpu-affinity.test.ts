import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { affinity, parseCpuList, partitionCpus } from "./cpu-affinity.js";

describe("parseCpuList", () => {
  it("reads taskset's lists", () => {
    expect(parseCpuList("0")).toEqual([0]);
    expect(parseCpuList("0,1")).toEqual([0, 1]);
    expect(parseCpuList("0,2-4,7")).toEqual([0, 2, 3, 4, 7]);
  });

  it("refuses what is not a list", () => {
    expect(() => parseCpuList("")).toThrow(/not a CPU list/);
    expect(() => parseCpuList("3-1")).toThrow(/not a CPU list/);
    expect(() => parseCpuList("a")).toThrow(/not a CPU list/);
  });
});

describe("partitionCpus", () => {
  const children: { kill: () => void }[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });

  it("puts this process and the other on CPUs of their own, and gives them back", () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(child);
    const pid = child.pid as number;
    const own = affinity(process.pid);
    const other = affinity(pid);
    const partition = partitionCpus(pid);
    if (own.length < 2) {
      expect(partition).toMatchObject({ refused: expect.stringMatching(/nothing to partition/) });
      return;
    }
    if ("refused" in partition) throw new Error(partition.refused);
    try {
      expect(affinity(process.pid)).toEqual(partition.own);
      expect(affinity(pid)).toEqual(partition.other);
      expect(partition.own).toHaveLength(1);
      expect(partition.other).not.toContain(partition.own[0]);
      expect([...partition.own, ...partition.other].sort()).toEqual([...own].sort());
    } finally {
      partition.undo();
    }
    expect(affinity(process.pid)).toEqual(own);
    expect(affinity(pid)).toEqual(other);
  });

  it("says why when the other process is gone", async () => {
    const child = spawn("true", { stdio: "ignore" });
    const pid = child.pid as number;
    await new Promise((resolve) => child.on("exit", resolve));
    const before = affinity(process.pid);
    const partition = partitionCpus(pid);
    expect(partition).toMatchObject({ refused: expect.stringMatching(/taskset|nothing to partition/) });
    expect(affinity(process.pid)).toEqual(before);
  });
});
