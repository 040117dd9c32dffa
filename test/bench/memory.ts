/**
 * Memory over a long run (issue 16 target 6): the rig's 64 channels (formation.yaml batches, their
 * own logging criteria, outbox spooling) for 24 simulated hours at 1 s sampling on a virtual clock
 * at full speed; resident memory after a warm-up (the first simulated hour) against the end, each
 * measured after a full garbage collection.
 * Run alone: npx tsx test/bench/memory.ts [--hours N]
 */
import { pathToFileURL } from "node:url";
import { VirtualClock } from "../../drivers/clock.js";
import { closedPort, openRig } from "./rig.js";
import { forceGc, type Out, sleep } from "./stats.js";

export const MEMORY_TARGET = { max_growth_ratio: 1.1 } as const;

export interface MemoryFigures {
  channels: number;
  period_ms: number;
  virtual_hours: number;
  warmup_virtual_hours: number;
  rss_start_mb: number;
  rss_end_mb: number;
  growth_ratio: number;
  heap_start_mb: number;
  heap_end_mb: number;
  samples: number;
  outbox_lines: number;
  real_seconds: number;
  errors: number;
  target: typeof MEMORY_TARGET;
  met: boolean;
}

export interface MemoryOptions {
  /** Simulated hours in all (default 24); the warm-up is the first 1/24 of them. */
  hours?: number;
  out?: Out;
}

const MB = 1024 * 1024;

function settledMemory(): { rss: number; heap: number } {
  forceGc();
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heap: m.heapUsed / MB };
}

export async function measureMemory(options: MemoryOptions = {}): Promise<MemoryFigures> {
  const hours = options.hours ?? 24;
  const warmupHours = hours / 24;
  const periodMs = 1000;
  const clock = new VirtualClock({ auto: true });
  const started = performance.now();
  const rig = await openRig({
    clock,
    periodMs,
    influxUrl: `http://127.0.0.1:${await closedPort()}`,
    logging: "profile",
  });
  try {
    const untilVirtual = async (h: number) => {
      let reported = performance.now();
      while (clock.now() < h * 3_600_000) {
        await sleep(50);
        if (performance.now() - reported > 30_000) {
          reported = performance.now();
          options.out?.(`  … ${(clock.now() / 3_600_000).toFixed(1)} of ${hours} simulated hours`);
        }
      }
    };
    await untilVirtual(warmupHours);
    const start = settledMemory();
    await untilVirtual(hours);
    const end = settledMemory();
    const growth = end.rss / start.rss;
    return {
      channels: rig.channels,
      period_ms: periodMs,
      virtual_hours: hours,
      warmup_virtual_hours: warmupHours,
      rss_start_mb: start.rss,
      rss_end_mb: end.rss,
      growth_ratio: growth,
      heap_start_mb: start.heap,
      heap_end_mb: end.heap,
      samples: rig.samples(),
      outbox_lines: rig.storage.outbox.stats().appendedLines,
      real_seconds: (performance.now() - started) / 1000,
      errors: rig.errors.length,
      target: MEMORY_TARGET,
      met: growth <= MEMORY_TARGET.max_growth_ratio,
    };
  } finally {
    await rig.close();
  }
}

export function printMemory(f: MemoryFigures, out: Out): void {
  out(
    `memory: ${f.channels} sim channels (formation.yaml batches, their own logging criteria, outbox spooling), ` +
      `${f.period_ms} ms sampling, ${f.virtual_hours} simulated hours in ${f.real_seconds.toFixed(0)} s`,
  );
  out(
    `  resident after ${f.warmup_virtual_hours.toFixed(2)} h / at the end   ${f.rss_start_mb.toFixed(1)} MB / ${f.rss_end_mb.toFixed(1)} MB` +
      `  = ×${f.growth_ratio.toFixed(3)}  (target ≤ ×${MEMORY_TARGET.max_growth_ratio}: ${f.met ? "met" : "MISSED"})`,
  );
  out(
    `  JS heap used, same moments            ${f.heap_start_mb.toFixed(1)} MB / ${f.heap_end_mb.toFixed(1)} MB`,
  );
  out(
    `  ${f.samples.toLocaleString("en")} channel samples, ${f.outbox_lines.toLocaleString("en")} outbox lines, acquisition errors ${f.errors}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf("--hours");
  const out: Out = (line = "") => console.log(line);
  printMemory(await measureMemory({ hours: i > 0 ? Number(process.argv[i + 1]) : 24, out }), out);
}
