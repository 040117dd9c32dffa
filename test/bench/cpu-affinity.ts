/**
 * CPU affinity of whole processes, for the ingest bench's partitioned rounds: this process on one
 * core and influxd on the others, so that neither's CPU time is taken from the other. `taskset -a`
 * (util-linux) sets every thread the process has; threads started later inherit their starter's
 * mask. Node has no affinity API of its own.
 */
import { execFileSync } from "node:child_process";

function taskset(args: string[]): string {
  return execFileSync("taskset", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The CPUs `pid` may run on, from `taskset -c -p` ("…'s current affinity list: 0,2-3"). */
export function affinity(pid: number): number[] {
  const list =
    taskset(["-c", "-p", String(pid)])
      .split(":")
      .pop()
      ?.trim() ?? "";
  return parseCpuList(list);
}

/** "0,2-3" → [0, 2, 3]. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const range = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    const first = Number(range?.[1]);
    const last = range?.[2] === undefined ? first : Number(range[2]);
    if (!range || last < first) throw new Error(`not a CPU list: "${list}"`);
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

function pin(pid: number, cpus: number[]): void {
  taskset(["-a", "-p", "-c", cpus.join(","), String(pid)]);
}

export interface Partition {
  /** The CPUs this process runs on, and those the other process runs on. */
  own: number[];
  other: number[];
  /** Gives both processes the CPUs they had before. */
  undo(): void;
}

/**
 * This process on the first CPU it may use, `otherPid` on the rest. Returns why not (one CPU, no
 * taskset, a refusal) instead of a partition.
 */
export function partitionCpus(otherPid: number): Partition | { refused: string } {
  let before: { own: number[]; other: number[] };
  try {
    before = { own: affinity(process.pid), other: affinity(otherPid) };
  } catch (err) {
    return { refused: `taskset: ${message(err)}` };
  }
  const [first, ...rest] = before.own;
  if (first === undefined || rest.length === 0)
    return { refused: `this process may use ${before.own.length} CPU: nothing to partition` };
  const undo = () => {
    for (const [pid, cpus] of [
      [process.pid, before.own],
      [otherPid, before.other],
    ] as const) {
      try {
        pin(pid, cpus);
      } catch {
        // The other process may have ended; this one always can be set back.
      }
    }
  };
  try {
    pin(process.pid, [first]);
    pin(otherPid, rest);
  } catch (err) {
    undo();
    return { refused: `taskset: ${message(err)}` };
  }
  return { own: [first], other: rest, undo };
}

function message(err: unknown): string {
  const stderr = (err as { stderr?: string }).stderr?.trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}
