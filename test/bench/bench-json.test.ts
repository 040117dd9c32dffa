/**
 * `npm run bench -- --json` prints one JSON object with the sections, fields, targets and verdicts
 * issue 16 asks for. Run at --quick sizes: this checks the harness, never a figure's size.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SEMI_SPACE_MIB } from "../../src/sampling/young-generation.js";
import { DEFAULT_CATCH_UP_POINTS_PER_SECOND } from "../../src/storage/forwarder.js";

const ROOT = new URL("../../", import.meta.url).pathname;
/** `npm run bench`'s node arguments, as package.json gives them (its young-generation cap included). */
const BENCH_ARGS = (
  JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8")) as {
    scripts: { bench: string };
  }
).scripts.bench
  .split(/\s+/)
  .slice(1);

function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...BENCH_ARGS, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bench did not finish within 150 s; stderr:\n${stderr}`));
    }, 150_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every number in the object, with its path. */
function numbers(value: unknown, path = ""): [string, number][] {
  if (typeof value === "number") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => numbers(v, path ? `${path}.${k}` : k));
  return [];
}

/** The section has the given numeric fields, a target object and a boolean verdict. */
function expectJudged(section: unknown, fields: string[], where: string): void {
  expect(section, where).toBeTypeOf("object");
  const s = section as Record<string, unknown>;
  for (const field of fields) expect(s[field], `${where}.${field}`).toBeTypeOf("number");
  expect(s.target, `${where}.target`).toBeTypeOf("object");
  expect(Object.keys(s.target as object).length, `${where}.target`).toBeGreaterThan(0);
  expect(s.met, `${where}.met`).toBeTypeOf("boolean");
}

describe("npm run bench -- --json", () => {
  it("prints one JSON object with every section of issue 16, its targets and finite figures", async () => {
    const run = await bench([
      "--json",
      "--quick",
      "--only",
      "loop,steadiness,ingest,bus,safety,memory",
      "--seconds",
      "0.5",
    ]);
    expect(run.code, run.stderr).toBe(0);
    // The whole of stdout is the object (the tables went to stderr).
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(run.stderr).toContain("steadiness: 64 sim channels");

    expectJudged(report.loop, ["channels", "samples_per_s"], "loop");
    expect((report.loop as { channels: number }).channels).toBe(64);
    // Every sample allocates something (a record, a line): a meter that counted nothing would be broken.
    expect((report.loop as { heap_bytes_per_sample: number }).heap_bytes_per_sample).toBeGreaterThan(100);

    const steadiness = report.steadiness as Record<string, unknown>[];
    expect(steadiness.map((s) => s.scenario)).toEqual(["idle", "http-load", "influx-down"]);
    for (const s of steadiness) {
      expectJudged(s, ["channels", "hz", "seconds", "p50_ms", "p99_ms", "max_ms", "missed"], `${s.scenario}`);
      expect([s.channels, s.hz, s.seconds]).toEqual([64, 100, 0.5]);
      expect(s.wakeups as number, `${s.scenario}: the loops were measured`).toBeGreaterThan(0);
      const floor = s.host_floor as { seconds: number; wakeups: number; p99_ms: number };
      expect(floor.seconds, `${s.scenario}: the host floor ran as long as the window`).toBe(0.5);
      expect(floor.wakeups, `${s.scenario}: the host floor's 16 loops ran`).toBeGreaterThan(16);
      expect(floor.p99_ms).toEqual(expect.any(Number));
      expect(s.young_generation_mib, `${s.scenario}: measured as the daemon runs`).toBe(SEMI_SPACE_MIB);
      expect(s.memory_reducer_off, `${s.scenario}: measured as the daemon runs`).toBe(true);
      expectHostStalls(s, `steadiness ${s.scenario}`);
    }
    const load = (steadiness[1] as { load?: { requests: number; sse_bytes: number } }).load;
    expect(load?.requests, "the load client made requests").toBeGreaterThan(0);
    expect(load?.sse_bytes, "the load client read the event stream").toBeGreaterThan(0);
    expect(
      (steadiness[2] as { forwarded_points: number }).forwarded_points,
      "influx down: nothing forwarded",
    ).toBe(0);

    expectJudged(report.ingest, ["ratio", "cpu_ratio"], "ingest");
    const cpu = (report.ingest as { cpu_us_per_point: Record<string, Record<string, unknown>> })
      .cpu_us_per_point;
    for (const side of ["ceiling", "end_to_end"])
      for (const process of ["node", "influxd"])
        expect(cpu[side]?.[process], `ingest.cpu_us_per_point.${side}.${process}`).toBeGreaterThanOrEqual(0);
    // Rounds with this process and influxd on CPUs of their own, or why they could not be run.
    const partitioned = (report.ingest as { partitioned: { ratio?: unknown; refused?: unknown } })
      .partitioned;
    if (partitioned.refused === undefined)
      expect(partitioned.ratio, "ingest.partitioned.ratio").toBeGreaterThan(0);
    else expect(partitioned.refused, "ingest.partitioned.refused").toBeTypeOf("string");
    expectJudged(
      (report.ingest as { drain: unknown }).drain,
      ["drain_seconds", "p99_ms", "missed"],
      "ingest.drain",
    );
    const drain = (report.ingest as { drain: Record<string, unknown> }).drain;
    // Judged at the daemon's catch-up rate, beside the same backlog drained unpaced.
    expect(drain.catch_up_points_per_s).toBe(DEFAULT_CATCH_UP_POINTS_PER_SECOND);
    expect(drain.reconnect_seconds as number).toBeLessThanOrEqual(drain.drain_seconds as number);
    expectHostStalls(drain, "ingest.drain");
    for (const field of ["gc_max_ms", "late_over_1ms", "late_over_1ms_in_gc"])
      expect(drain[field], `ingest.drain.${field}`).toBeTypeOf("number");
    expect(drain.heap_used_mb_at_start, "ingest.drain: the heap it started with").toBeGreaterThan(0);
    const unpaced = drain.unpaced as Record<string, unknown>;
    for (const field of ["drain_seconds", "p99_ms", "missed"])
      expect(unpaced[field], `ingest.drain.unpaced.${field}`).toBeTypeOf("number");
    // Judged at the priority the steadiness scenarios ran at (or null where the host refused it).
    expect((report.ingest as { drain: { realtime_priority: unknown } }).drain.realtime_priority).toEqual(
      (report.steadiness as { realtime_priority: unknown }[])[0]?.realtime_priority,
    );
    expectJudged(report.bus, ["host_pause_worst_ratio", "line_pause_worst_ratio"], "bus");
    expectJudged(report.safety, ["reaction_p50_ms", "reaction_p99_ms", "reaction_max_ms"], "safety");
    expectJudged(report.memory, ["rss_start_mb", "rss_end_mb", "growth_ratio", "virtual_hours"], "memory");
    expect(report.met).toBeTypeOf("boolean");

    const all = numbers(report);
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter(([, n]) => !Number.isFinite(n)).map(([path]) => path)).toEqual([]);
  }, 180_000);

  it("refuses an unknown section with a message naming the sections", async () => {
    const run = await bench(["--json", "--only", "loop,speed"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('unknown section "speed"');
    expect(run.stderr).toContain("engine, loop, steadiness, ingest, bus, safety, memory");
  });
});

/** A window's host stalls, as the steadiness scenarios and the drain report them. */
function expectHostStalls(window: Record<string, unknown>, what: string): void {
  const host = window.host_stalls as Record<string, unknown>;
  expect(host.counted, `${what}: whether the host's stalls count`).toBeTypeOf("boolean");
  for (const field of ["count", "longest_ms", "stalled_ms", "missed_in_host_stalls", "p99_ms_outside"])
    expect(Number.isFinite(host[field]), `${what}: host_stalls.${field}`).toBe(true);
  expect(host.missed_in_host_stalls as number).toBeLessThanOrEqual(window.missed as number);
}
