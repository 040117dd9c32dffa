/**
 * Engine benchmark: how fast the sampling path (poller → sim driver → run engine → log gate) runs
 * on the virtual clock, next to the simulated driver read alone, measured side by side.
 * Run alone: npx tsx test/bench/engine.ts
 */
import { pathToFileURL } from "node:url";
import { VirtualClock } from "../../drivers/clock.js";
import "../../drivers/all.js";
import { createDevice } from "../../drivers/registry.js";
import { loadCellFile } from "../../src/cell/load-cell.js";
import { dryRun } from "../../src/engine/dry-run.js";
import { parseProfile } from "../../src/profile/document.js";
import { loadProfileFile } from "../../src/profile/load-profile.js";
import type { Out } from "./stats.js";

const root = new URL("../../", import.meta.url);

/** The dry run's sampling path and the driver read alone, per sample (not an issue-16 target). */
export interface EngineFigures {
  us_per_sample: number;
  samples_per_s: number;
  driver_read_us: number;
}

export interface EngineOptions {
  /** Run the two estimate passes (60 cycles at 1 s and 30 s samples; default true). */
  estimatePasses?: boolean;
  /** Bare driver reads (default 150,000). */
  reads?: number;
  out?: Out;
}

/** Runs the engine benchmark, printing its table through `out`, and returns its figures. */
export async function runEngineBench(options: EngineOptions = {}): Promise<EngineFigures> {
  const print: Out = options.out ?? ((line = "") => print(line));
  const cell = loadCellFile(new URL("examples/cells/nmc-18650.yaml", root).pathname);
  const profile = loadProfileFile(new URL("examples/profiles/formation.yaml", root).pathname);

  // Bare driver: advance the virtual clock 1 s and read, as many times as the dry run samples.
  const clock = new VirtualClock();
  const device = createDevice(
    { id: "c", driver: "sim/cycler", channels: ["ch1"], options: { cell } },
    { clock, chamberOfChannel: () => undefined },
  );
  await device.connect();
  const channel = device.channels[0]!;
  await channel.apply({ mode: "cc", currentA: -0.3, minV: 2.5, maxV: 4.2 });
  const reads = options.reads ?? 150_000;
  let t0 = performance.now();
  for (let i = 1; i <= reads; i++) {
    await clock.advanceTo(i * 1000);
    await channel.read();
  }
  const bareUsPerSample = ((performance.now() - t0) * 1000) / reads;

  t0 = performance.now();
  const estimate = await dryRun(profile, cell, { initialSoc: 0.5 });
  const ms = performance.now() - t0;
  const samples = estimate.durationS / estimate.samplePeriodS;
  const engineUsPerSample = (ms * 1000) / samples;
  print("engine (formation.yaml dry run, sim NMC 18650, 1 s samples)");
  print(
    `  simulated            ${(estimate.durationS / 3600).toFixed(1)} h, ${Math.round(samples)} samples in ${(ms / 1000).toFixed(2)} s`,
  );
  print(
    `  full sampling path   ${engineUsPerSample.toFixed(1)} µs/sample (${Math.round(1e6 / engineUsPerSample)} samples/s)`,
  );
  print(`  driver read alone    ${bareUsPerSample.toFixed(1)} µs/sample (same clock, same cell)`);
  print(`  speed-up over real time ${Math.round((estimate.durationS * 1000) / ms)}×`);

  const figures: EngineFigures = {
    us_per_sample: engineUsPerSample,
    samples_per_s: Math.round(1e6 / engineUsPerSample),
    driver_read_us: bareUsPerSample,
  };
  if (options.estimatePasses === false) return figures;
  // Estimate passes: the same cycle-life profile simulated at 1 s (exact) and 30 s (sizing) samples.
  const life = parseProfile(
    `name: life
steps:
  - repeat: 60
    steps:
      - Charge at 1 C until 4.2 V then hold at 4.2 V until C/20
      - Rest for 30 minutes
      - Discharge at 1 C until 2.75 V
      - Rest for 30 minutes
`,
    { sourceName: "life" },
  );
  print("estimate passes (60 cycles at 1 C, sim NMC 18650)");
  let exactS = 0;
  for (const periodS of [1, 30]) {
    t0 = performance.now();
    const e = await dryRun(life, cell, { initialSoc: 0.5, periodS, maxDurationS: 60 * 86_400 });
    const s = (performance.now() - t0) / 1000;
    if (periodS === 1) exactS = e.durationS;
    const error = periodS === 1 ? "" : `, ${(((e.durationS - exactS) / exactS) * 100).toFixed(2)} % longer`;
    print(
      `  ${String(periodS).padStart(2)} s samples        ${(e.durationS / 3600).toFixed(2)} h in ${s.toFixed(2)} s${error}`,
    );
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await runEngineBench();
