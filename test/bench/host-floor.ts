/**
 * The steadiness scenarios' floor: their 16 sampling loops (Poller, 100 Hz, phases spread over the
 * period, the real clock, the same priority) with nothing to do. What this host's timers and
 * scheduler give a process that does no work at all is measured beside each scenario, so that the
 * scenario's lateness can be read against it (a shared or virtual machine alone can exceed 1 ms).
 */
import { SystemClock } from "../../drivers/clock.js";
import { Poller } from "../../src/sampling/poller.js";
import { dropRealtimePriority, requestRealtimePriority } from "../../src/sampling/realtime-priority.js";
import { distribution, sleep } from "./stats.js";

export interface HostFloor {
  seconds: number;
  wakeups: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  late_over_1ms: number;
}

export async function measureHostFloor(options: {
  seconds: number;
  loops: number;
  hz: number;
  /** SCHED_FIFO priority during the window, as the scenario's (0: none). */
  realtimePriority: number;
}): Promise<HostFloor> {
  const clock = new SystemClock();
  const periodMs = 1000 / options.hz;
  const lateness: number[] = [];
  const pollers = Array.from(
    { length: options.loops },
    (_, i) =>
      new Poller({
        name: `floor${i}`,
        periodMs,
        phaseMs: (i * periodMs) / options.loops,
        clock,
        tick: async () => {},
        onError: () => {},
        onLateness: (ms) => lateness.push(ms),
      }),
  );
  const realtime =
    options.realtimePriority > 0 ? requestRealtimePriority(options.realtimePriority) : undefined;
  try {
    for (const p of pollers) p.start();
    await sleep(options.seconds * 1000);
  } finally {
    await Promise.all(pollers.map((p) => p.stop()));
    if (realtime?.applied) dropRealtimePriority();
  }
  const d = distribution(lateness);
  return {
    seconds: options.seconds,
    wakeups: lateness.length,
    p50_ms: d.p50,
    p99_ms: d.p99,
    max_ms: d.max,
    late_over_1ms: lateness.filter((ms) => ms > 1).length,
  };
}
