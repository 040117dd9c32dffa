/**
 * Loop capacity (issue 16 target 1): channel-samples per second through the whole sampling path
 * (pollers, sim drivers, safety supervisor, run engines, logging gate, record encoder, outbox with
 * its group commits) with 64 simulated channels on a virtual clock that jumps as soon as every
 * task sleeps: the one JavaScript thread runs flat out, and the rate is what it sustains.
 * The storage points at a closed port (spooling): nothing is forwarded.
 * Run alone: npx tsx test/bench/loop.ts
 */
import { pathToFileURL } from "node:url";
import { VirtualClock } from "../../drivers/clock.js";
import { heapAllocationMeter } from "../support/heap-allocation.js";
import { closedPort, openRig } from "./rig.js";
import { forceGc, type Out, sleep } from "./stats.js";

export const LOOP_TARGET = { min_samples_per_s: 100_000 } as const;

export interface LoopFigures {
  channels: number;
  samples_per_s: number;
  /** Channel samples per second of this process's CPU time (user + system, all threads). */
  samples_per_cpu_s: number;
  period_ms: number;
  logging: string;
  /** Lines appended to the outbox per channel sample (1 and a little: chambers, step records). */
  lines_per_sample: number;
  /** Bytes allocated on the sampling thread's heap per channel sample (its garbage, see heapAllocationMeter). */
  heap_bytes_per_sample: number;
  samples: number;
  seconds: number;
  virtual_s: number;
  errors: number;
  target: typeof LOOP_TARGET;
  met: boolean;
}

export interface LoopOptions {
  /** Measured window, real seconds (default 10), after `warmupS` (default 3). */
  seconds?: number;
  warmupS?: number;
  /** Default "every sample" (the target's case); "profile": formation.yaml's own criteria, for comparison. */
  logging?: "every sample" | "profile";
}

export async function measureLoop(options: LoopOptions = {}): Promise<LoopFigures> {
  const seconds = options.seconds ?? 10;
  const logging = options.logging ?? "every sample";
  const periodMs = 10;
  const clock = new VirtualClock({ auto: true });
  const rig = await openRig({
    clock,
    periodMs,
    influxUrl: `http://127.0.0.1:${await closedPort()}`,
    logging,
  });
  try {
    await sleep((options.warmupS ?? 3) * 1000);
    forceGc();
    const samples0 = rig.samples();
    const lines0 = rig.storage.outbox.stats().appendedLines;
    const virtual0 = clock.now();
    const cpu0 = process.cpuUsage();
    const allocation = heapAllocationMeter();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const elapsedS = (performance.now() - t0) / 1000;
    const allocated = allocation.stop();
    const cpu = process.cpuUsage(cpu0);
    const samples = rig.samples() - samples0;
    const lines = rig.storage.outbox.stats().appendedLines - lines0;
    const samplesPerS = samples / elapsedS;
    return {
      channels: rig.channels,
      samples_per_s: Math.round(samplesPerS),
      samples_per_cpu_s: Math.round(samples / ((cpu.user + cpu.system) / 1e6)),
      period_ms: periodMs,
      logging,
      lines_per_sample: lines / samples,
      heap_bytes_per_sample: Math.round(allocated / samples),
      samples,
      seconds: elapsedS,
      virtual_s: (clock.now() - virtual0) / 1000,
      errors: rig.errors.length,
      target: LOOP_TARGET,
      met: samplesPerS >= LOOP_TARGET.min_samples_per_s,
    };
  } finally {
    await rig.close();
  }
}

export function printLoop(f: LoopFigures, out: Out): void {
  out(
    `loop capacity: ${f.channels} sim channels (8 × 8-channel sim/cycler, formation.yaml batches, ${f.logging} logged), ` +
      `virtual clock at full speed, ${f.period_ms} ms period, outbox spooling`,
  );
  out(
    `  ${f.samples.toLocaleString("en")} channel samples in ${f.seconds.toFixed(1)} s real (${f.virtual_s.toFixed(1)} s simulated)`,
  );
  out(
    `  channel-samples/s        ${f.samples_per_s.toLocaleString("en")}  (target ≥ ${LOOP_TARGET.min_samples_per_s.toLocaleString("en")}: ${f.met ? "met" : "MISSED"})`,
  );
  out(`  per CPU second           ${f.samples_per_cpu_s.toLocaleString("en")}  (process CPU, all threads)`);
  out(`  outbox lines per sample  ${f.lines_per_sample.toFixed(3)}    acquisition errors ${f.errors}`);
  out(
    `  heap bytes per sample    ${f.heap_bytes_per_sample.toLocaleString("en")}  (allocated on the sampling thread: its garbage)`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  printLoop(await measureLoop(), (line = "") => console.log(line));
