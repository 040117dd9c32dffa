/**
 * The attack harness: a simulated bench on the real clock, its API listening on loopback, and a run
 * charging on ch1, so a test can measure what a hostile request costs the sampling loop: each
 * wake-up's lateness, the ticks it missed, and whether any run faulted. Moments the whole host stalled
 * (seen by a sentinel process above the daemon's priority, host-stalls.ts) are taken out: no request
 * caused them, and a test that failed on them would fail on the CI machine, not on the daemon.
 */

import { getPriority } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { expect } from "vitest";
import { SystemClock } from "../../drivers/clock.js";
import { raiseSamplingPriority } from "../../src/sampling/process-priority.js";
import { WORKER_NICE } from "../../src/work/worker-pool.js";
import { attributeStalls, HostStallWatch, monotonicMs, type WakeUp } from "./host-stalls.js";
import {
  auth,
  type HttpBench,
  type HttpBenchOptions,
  NMC_CELL_BODY,
  openHttpBenchOn,
  sharedProfileWork,
} from "./http-bench.js";

/** The attack may add at most this much to the sampling loop's 99th-percentile lateness. */
export const ATTACK_LATENESS_P99_MS = 5;
/** Sampling period of the attacked bench: short, so a stall of a few periods is plain to see. */
export const ATTACK_PERIOD_MS = 20;

export interface AttackBench extends HttpBench<SystemClock> {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The run charging on ch1 throughout. */
  runId: string;
  /** The sampling loops' wake-ups since the last measured window began. */
  wakeUps: WakeUp[];
  /** The sentinel that tells the host's stalls from the daemon's (host-stalls.ts). */
  host: HostStallWatch;
  /** The sampling thread's nice value: the host's stalls count only if the sentinel outranks it. */
  loopNice: number;
}

/** A window's lateness and skipped deadlines, the host's own stalls (host-stalls.ts) taken out. */
export interface LatenessFigures {
  ticks: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Deadlines the sampling loops skipped because a tick or the event loop overran. */
  missed: number;
  /** The longest garbage-collection pause in the window, ms (a stall's likely cause when it matches maxMs). */
  gcMaxMs: number;
  /** What the host's stalls accounted for: taken out of the figures above. */
  host: {
    /** Stalls of the sentinel (a process above the daemon's priority) in the window, and the longest. */
    stalls: number;
    longestMs: number;
    /** Skipped deadlines and the largest lateness, as measured, before the host's stalls are taken out. */
    missedAsMeasured: number;
    maxMsAsMeasured: number;
    /** False when the sentinel could not outrank the sampling thread: then nothing is the host's. */
    counted: boolean;
  };
}

export interface AttackReport {
  baseline: LatenessFigures;
  attack: LatenessFigures;
  /** Runs faulted or aborted during this baseline and attack (id and reason). */
  harmedRuns: string[];
}

/** Opens the bench, listens on 127.0.0.1:0 and starts a gentle 1 h charge on ch1. */
export async function openAttackBench(options: HttpBenchOptions = {}): Promise<AttackBench> {
  const wakeUps: WakeUp[] = [];
  let missed: () => Record<string, number> = () => ({});
  const h = await openHttpBenchOn(new SystemClock(), {
    periodMs: ATTACK_PERIOD_MS,
    ...options,
    onLateness: (_poller, ms) =>
      wakeUps.push({ atMs: monotonicMs(), latenessMs: ms, missedByLoop: missed() }),
  });
  missed = () => missedByLoop(h);
  // As the daemon does at start-up: sampling at raised priority (where allowed), workers started.
  raiseSamplingPriority();
  const host = await HostStallWatch.start();
  const close = h.close.bind(h);
  sharedProfileWork(WORKER_NICE);
  await sharedProfileWork().ready();
  await h.app.listen({ host: "127.0.0.1", port: 0 });
  const address = h.app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const url = `http://127.0.0.1:${address.port}`;
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { ...auth("operator"), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const start = async (name: string) => {
    const res = await post("/api/v1/runs", {
      channel: "ch1",
      cell: NMC_CELL_BODY,
      profile: { name, steps: ["Charge at 0.1C for 1 h"] },
    });
    if (res.status !== 201) throw new Error(`run ${name} did not start: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  // A daemon that has been up for a while has run every path once: the first call of a code path
  // pays V8's compilation, which no client can make it pay again. Warm them before measuring.
  const warm = await start("warm-up");
  for (const action of ["pause", "resume", "stop"])
    await (await post(`/api/v1/runs/${warm}/${action}`, {})).text();
  await (
    await post("/api/v1/profiles/check", {
      profile: { name: "w", steps: ["Rest for 1 s"] },
      cell: NMC_CELL_BODY,
    })
  ).text();
  const runId = await start("victim");
  return Object.assign(h, {
    url,
    runId,
    wakeUps,
    host,
    loopNice: getPriority(0),
    close: async () => {
      await host.close();
      await close();
    },
  });
}

/** Each sampling loop's (and the watchdog's) missed deadlines so far, by loop name. */
const missedByLoop = (h: HttpBench<SystemClock>): Record<string, number> =>
  Object.fromEntries(h.bench.pollerStats().map((p) => [p.name, p.stats.missed]));

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Lets the bench sample for `ms` of real time and returns what its loops saw. */
async function window(h: AttackBench, body: () => Promise<unknown>, minMs: number): Promise<LatenessFigures> {
  h.wakeUps.length = 0;
  const missedBefore = missedByLoop(h);
  const fromMs = monotonicMs();
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
  });
  gc.observe({ entryTypes: ["gc"] });
  const started = Date.now();
  try {
    await body();
    const left = minMs - (Date.now() - started);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  } finally {
    gc.disconnect();
  }
  const end = {
    atMs: monotonicMs(),
    missedByLoop: missedByLoop(h),
  };
  const wakeUps = [...h.wakeUps];
  await h.host.flush();
  const counted = h.host.outranks(h.loopNice);
  // A stall that began before the window may still have delayed its first wake-ups.
  const stalls = h.host.stalls.filter((s) => s.fromMs + s.ms >= fromMs - 2 * ATTACK_PERIOD_MS);
  const split = attributeStalls(wakeUps, end, counted ? stalls : [], ATTACK_PERIOD_MS, missedBefore);
  const sorted = [...split.latenessMs].sort((a, b) => a - b);
  const measured = wakeUps.reduce((max, w) => Math.max(max, w.latenessMs), 0);
  return {
    ticks: sorted.length,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: quantile(sorted, 1),
    missed: split.missed,
    gcMaxMs,
    host: {
      stalls: stalls.length,
      longestMs: stalls.reduce((max, s) => Math.max(max, s.ms), 0),
      missedAsMeasured: split.missed + split.hostMissed,
      maxMsAsMeasured: measured,
      counted,
    },
  };
}

/**
 * Measures a quiet window, runs `attack` (with at least `minMs` of sampling alongside it), measures
 * another quiet window, and reports the attack against the busier of the two quiet ones: measured on
 * the same machine moments before and after, a host busy with other work (CI beside CPU burners)
 * raises both alike.
 */
export async function underAttack(
  h: AttackBench,
  attack: () => Promise<unknown>,
  minMs = 2000,
): Promise<AttackReport> {
  const harmed = () =>
    h.runs
      .list()
      .filter((r) => r.state === "faulted" || r.state === "aborted")
      .map((r) => `${r.id} ${r.state}: ${r.reason}`);
  const harmedBefore = new Set(harmed());
  // The set-up's garbage (fixtures, earlier attacks) is collected now, not inside a measured window.
  (globalThis as { gc?: () => void }).gc?.();
  // The wake-ups that collection delayed fire now; they belong to neither window.
  await new Promise((resolve) => setTimeout(resolve, 3 * ATTACK_PERIOD_MS));
  const before = await window(h, async () => undefined, minMs);
  const during = await window(h, attack, minMs);
  const after = await window(h, async () => undefined, minMs);
  // The quieter of the two would flatter the host; the busier one is what the host gave anyway.
  const baseline = after.p99Ms > before.p99Ms ? after : before;
  // Only runs this attack harmed (an earlier attack's victims are that attack's failure).
  const harmedRuns = harmed().filter((r) => !harmedBefore.has(r));
  return { baseline, attack: during, harmedRuns };
}

/**
 * No run faulted, no tick missed but where the host stalled, and the attack added under
 * ATTACK_LATENESS_P99_MS to the p99.
 */
export function expectUnharmed(report: AttackReport): void {
  expect(report.harmedRuns, "runs harmed by the attack").toEqual([]);
  expect(report.attack.missed, `missed ticks (${JSON.stringify(report)})`).toBe(0);
  expect(report.attack.ticks, "the loop kept sampling").toBeGreaterThan(10);
  expect(
    report.attack.p99Ms,
    `lateness p99 under attack vs. baseline (${JSON.stringify(report)})`,
  ).toBeLessThan(report.baseline.p99Ms + ATTACK_LATENESS_P99_MS);
}
