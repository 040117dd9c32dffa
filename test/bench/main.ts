/**
 * `npm run bench`: every benchmark, one after the other, each printing its figures next to the
 * baseline or target it is judged against (measured in the same run: the machines are shared and
 * noisy). `npm run bench -- --json` prints one JSON object (issue 16) on stdout and the tables on
 * stderr; every section carries its `target` and whether it was `met`.
 *
 * Flags (after `--`):
 *   --json               one JSON object on stdout, tables and progress on stderr
 *   --only a,b           sections to run: engine, loop, steadiness, ingest, bus, safety, memory
 *   --seconds N          steadiness window per scenario (default 60)
 *   --scenario a,b       steadiness scenarios to run: idle, http-load, influx-down (default all)
 *   --realtime P         steadiness and the backlog drain with the sampling thread under SCHED_FIFO at P (sampling.realtime_priority;
 *                        default 50, 0: nice only); where the host refuses it, the figures say so
 *   --hours N            simulated hours of the memory bench (default 24)
 *   --drain-minutes N    backlog of the drain measurement, minutes of 64 × 10 Hz (default 60; 0 skips it)
 *   --quick              tiny sizes everywhere (a smoke test of the harness: the figures mean nothing)
 */
import { parseArgs } from "node:util";
import { type Influxd, startInfluxd } from "../support/influxd.js";
import { type BusFigures, runBusBench } from "./bus.js";
import { type EngineFigures, runEngineBench } from "./engine.js";
import { type IngestFigures, runIngestBench } from "./ingest.js";
import { type LoopFigures, measureLoop, printLoop } from "./loop.js";
import { type MemoryFigures, measureMemory, printMemory } from "./memory.js";
import { runSafetyBench, type SafetyFigures } from "./safety.js";
import type { Out } from "./stats.js";
import {
  measureSteadiness,
  SCENARIOS,
  type Scenario,
  type SteadinessFigures,
  steadinessHeader,
} from "./steadiness.js";

const SECTIONS = ["engine", "loop", "steadiness", "ingest", "bus", "safety", "memory"] as const;
type Section = (typeof SECTIONS)[number];

export interface BenchReport {
  quick: boolean;
  engine?: EngineFigures;
  loop?: LoopFigures;
  steadiness?: SteadinessFigures[];
  ingest?: IngestFigures;
  bus?: BusFigures;
  safety?: SafetyFigures;
  memory?: MemoryFigures;
  /** Every section run met its target. */
  met: boolean;
}

function usage(message: string): never {
  process.stderr.write(`npm run bench: ${message}\n`);
  process.exit(2);
}

function positive(value: string | undefined, flag: string, fallback: number, zeroOk = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk))
    usage(`${flag} takes a ${zeroOk ? "non-negative" : "positive"} number, got "${value}"`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        json: { type: "boolean", default: false },
        only: { type: "string" },
        seconds: { type: "string" },
        scenario: { type: "string" },
        realtime: { type: "string" },
        hours: { type: "string" },
        "drain-minutes": { type: "string" },
        quick: { type: "boolean", default: false },
      },
      strict: true,
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
})();

const quick = values.quick === true;
const only = new Set<Section>(
  values.only === undefined
    ? SECTIONS
    : values.only.split(",").map((s) => {
        const name = s.trim();
        if (!(SECTIONS as readonly string[]).includes(name))
          usage(`--only: unknown section "${name}"; the sections are ${SECTIONS.join(", ")}`);
        return name as Section;
      }),
);
const scenarios =
  values.scenario === undefined
    ? SCENARIOS
    : values.scenario.split(",").map((s) => {
        const name = s.trim();
        if (!(SCENARIOS as readonly string[]).includes(name))
          usage(`--scenario: unknown scenario "${name}"; the scenarios are ${SCENARIOS.join(", ")}`);
        return name as Scenario;
      });
const seconds = positive(values.seconds, "--seconds", quick ? 1 : 60);
const hours = positive(values.hours, "--hours", quick ? 0.05 : 24);
const drainMinutes = positive(values["drain-minutes"], "--drain-minutes", quick ? 0.05 : 60, true);
const realtimePriority = positive(values.realtime, "--realtime", 50, true);

// In JSON mode stdout carries the object alone: tables, progress and anything else printed go to stderr.
const stdout = process.stdout.write.bind(process.stdout);
if (values.json) console.log = (...args: unknown[]) => console.error(...args);
const out: Out = (line = "") => (values.json ? process.stderr.write(`${line}\n`) : console.log(line));

const report: BenchReport = { quick, met: true };
let section = performance.now();
const took = () => out(`(${((performance.now() - section) / 1000).toFixed(1)} s)\n`);
let influxd: Influxd | undefined;
const sharedInfluxd = async () => {
  influxd ??= await startInfluxd();
  return influxd;
};
try {
  if (only.has("engine")) {
    section = performance.now();
    report.engine = await runEngineBench({
      out,
      ...(quick ? { reads: 2_000, estimatePasses: false } : {}),
    });
    took();
  }
  if (only.has("loop")) {
    section = performance.now();
    report.loop = await measureLoop(quick ? { seconds: 0.5, warmupS: 0.3 } : {});
    printLoop(report.loop, out);
    took();
  }
  if (only.has("steadiness")) {
    section = performance.now();
    steadinessHeader(seconds, out);
    report.steadiness = await measureSteadiness({
      seconds,
      scenarios,
      realtimePriority,
      ...(scenarios.some((s) => s !== "influx-down") ? { influxUrl: (await sharedInfluxd()).url } : {}),
      out,
      ...(quick ? { warmupS: 0.2 } : {}),
    });
    took();
  }
  if (only.has("ingest")) {
    section = performance.now();
    report.ingest = await runIngestBench({
      influxd: await sharedInfluxd(),
      drainMinutes,
      realtimePriority,
      out,
      ...(quick
        ? { points: 5_000, rounds: 1, stallSeconds: 0.5, latencyProbes: 3, drainSampleS: 30, drainWarmupS: 1 }
        : {}),
    });
    took();
  }
  // No later section uses InfluxDB, and after the drains it compacts millions of points for minutes:
  // left running, it took half a core from the sections below.
  await influxd?.stop();
  influxd = undefined;
  if (only.has("bus")) {
    section = performance.now();
    report.bus = await runBusBench({ out, ...(quick ? { rounds: 1, roundMs: 100 } : {}) });
    took();
  }
  if (only.has("safety")) {
    section = performance.now();
    report.safety = await runSafetyBench({
      out,
      ...(quick ? { trials: 10, maxSeconds: 3, baselineTrials: 50 } : {}),
    });
    took();
  }
  if (only.has("memory")) {
    section = performance.now();
    report.memory = await measureMemory({ hours, out });
    printMemory(report.memory, out);
    took();
  }
} finally {
  await influxd?.stop();
}

const sections = [
  report.loop,
  ...(report.steadiness ?? []),
  report.ingest,
  report.bus,
  report.safety,
  report.memory,
];
report.met = sections.every((s) => s === undefined || s.met);
const missed = [
  report.loop?.met === false ? "loop" : undefined,
  ...(report.steadiness ?? []).filter((s) => !s.met).map((s) => `steadiness/${s.scenario}`),
  report.ingest?.met === false ? "ingest" : undefined,
  report.ingest?.drain?.met === false ? "ingest/drain" : undefined,
  report.bus?.met === false ? "bus" : undefined,
  report.safety?.met === false ? "safety" : undefined,
  report.memory?.met === false ? "memory" : undefined,
].filter((s) => s !== undefined);
out(missed.length === 0 ? "\nevery target met" : `\ntargets missed: ${missed.join(", ")}`);
if (values.json) stdout(`${JSON.stringify(report, null, 2)}\n`);
// Worker threads and sockets of the benches must not keep the process (and `npm run bench`) alive.
process.exit(0);
