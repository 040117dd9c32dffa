/**
 * A measuring window over the rig's sampling loops, shared by the steadiness scenarios and the
 * backlog drain: every wake-up's lateness, garbage-collection pauses that overlap the late ones, and
 * the host's own stalls, seen by a sentinel process above the sampling thread (test/support/host-stalls.ts).
 */
import { getPriority } from "node:os";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import type { PollerStats } from "../../src/sampling/poller.js";
import type { RealtimeOutcome } from "../../src/sampling/realtime-priority.js";
import {
  attributeStalls,
  type HostStall,
  HostStallWatch,
  monotonicMs,
  type WakeUp,
} from "../support/host-stalls.js";
import type { Rig } from "./rig.js";
import { type Distribution, distribution } from "./stats.js";

export interface HostStallFigures {
  /** False when the sentinel could not be put above the sampling thread: then nothing is the host's. */
  counted: boolean;
  /** Stalls of 2 ms or more, their longest and their sum, ms. */
  count: number;
  longest_ms: number;
  stalled_ms: number;
  /** The sampling loops' missed periods in which the host stalled for at least half the missed time. */
  missed_in_host_stalls: number;
  /** p99 and max lateness with the host's stalls taken out of each wake-up. */
  p99_ms_outside: number;
  max_ms_outside: number;
}

/** What a window measured. */
export interface WindowFigures {
  lateness: Distribution;
  wakeups: number;
  /** Periods the rig's sampling loops missed inside the window. */
  missed: number;
  /** V8 heap in use when the window opened, MB (what a major collection has to mark). */
  heap_used_mb_at_start: number;
  /** Longest garbage-collection pause in the window, ms, and its kind (V8's: minor, major, incremental, weakcb). */
  gc_max_ms: number;
  gc_max_kind: string | null;
  /** Wake-ups more than 1 ms late, and how many of them a garbage-collection pause overlapped. */
  late_over_1ms: number;
  late_over_1ms_in_gc: number;
  host_stalls: HostStallFigures;
}

export class LatenessWindow {
  private readonly pauses: [number, number][] = [];
  private gcMaxMs = 0;
  private gcMaxKind: string | null = null;
  private measuring = false;
  private fromMs = 0;
  private rig: Rig | undefined;
  private missedBefore = 0;
  private heapUsedAtStart = 0;
  private gc: PerformanceObserver | undefined;

  private constructor(
    private readonly host: HostStallWatch,
    private readonly counted: boolean,
    private readonly wakes: WakeRecord,
    private readonly periodMs: number,
  ) {}

  /**
   * Starts the sentinel, above the sampling thread however it was raised (`realtime`: the outcome of
   * asking for SCHED_FIFO, undefined when not asked); `capacity` bounds the wake-ups kept.
   */
  static async open(
    realtime: RealtimeOutcome | undefined,
    periodMs: number,
    capacity: number,
  ): Promise<LatenessWindow> {
    const host = await HostStallWatch.start();
    // Otherwise its stalls prove nothing.
    const counted = realtime?.applied
      ? host.raiseRealtime(Math.min(99, realtime.priority + 1))
      : host.outranks(getPriority(0));
    return new LatenessWindow(host, counted, new WakeRecord(capacity), periodMs);
  }

  /** For the rig's onLateness: records a wake-up while the window is open. */
  readonly add = (poller: string, ms: number): void => {
    if (this.measuring) this.wakes.add(poller, ms);
  };

  /** Opens the window: from here on wake-ups, pauses and stalls count. */
  start(rig: Rig): void {
    this.rig = rig;
    this.missedBefore = rig.missed();
    this.heapUsedAtStart = process.memoryUsage().heapUsed / 1e6;
    this.wakes.watch(rig);
    this.fromMs = monotonicMs();
    this.gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.duration > this.gcMaxMs) {
          this.gcMaxMs = entry.duration;
          this.gcMaxKind = gcKind(entry);
        }
        this.pauses.push([entry.startTime, entry.startTime + entry.duration]);
      }
    });
    this.gc.observe({ entryTypes: ["gc"] });
    this.measuring = true;
  }

  /**
   * Closes the window and splits its wake-ups into the host's stalls and the rest. The missed
   * periods are counted at the close: the split afterwards keeps the sampling thread busy.
   */
  async finish(): Promise<WindowFigures> {
    this.measuring = false;
    const missed = (this.rig?.missed() ?? 0) - this.missedBefore;
    if (this.wakes.dropped > 0)
      throw new Error(
        `bench: ${this.wakes.dropped} wake-ups beyond the record's capacity of ${this.wakes.capacity}; make it larger`,
      );
    const end = this.wakes.snapshot(monotonicMs());
    this.gc?.disconnect();
    await this.host.flush();
    const stalls = this.host.stalls.filter((st) => st.fromMs + st.ms >= this.fromMs - 2 * this.periodMs);
    const split = this.wakes.attribute(this.counted ? stalls : [], this.periodMs, end);
    const outside = distribution(split.latenessMs);
    const late = this.wakes.lateSpans(1);
    return {
      lateness: distribution(this.wakes.latenessMs()),
      wakeups: this.wakes.count,
      missed,
      heap_used_mb_at_start: this.heapUsedAtStart,
      gc_max_ms: this.gcMaxMs,
      gc_max_kind: this.gcMaxKind,
      late_over_1ms: late.length,
      late_over_1ms_in_gc: late.filter(([from, to]) => this.pauses.some(([s, e]) => s < to && e > from))
        .length,
      host_stalls: {
        counted: this.counted,
        count: stalls.length,
        longest_ms: stalls.reduce((max, st) => Math.max(max, st.ms), 0),
        stalled_ms: stalls.reduce((sum, st) => sum + st.ms, 0),
        missed_in_host_stalls: split.hostMissed,
        p99_ms_outside: outside.p99,
        max_ms_outside: outside.max,
      },
    };
  }

  async close(): Promise<void> {
    this.measuring = false;
    this.gc?.disconnect();
    await this.host.close();
  }
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

function gcKind(entry: PerformanceEntry): string | null {
  const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
  return kind === undefined ? null : (GC_KINDS[kind] ?? String(kind));
}

/** One line on the host's stalls, for the benches' tables. */
export function describeHostStalls(f: HostStallFigures): string {
  return (
    `host stalls ${f.counted ? "" : "(not counted: the sentinel could not outrank sampling) "}${f.count} (longest ${f.longest_ms.toFixed(1)} ms), ` +
    `missed in them ${f.missed_in_host_stalls}, outside them p99 ${f.p99_ms_outside.toFixed(3)} max ${f.max_ms_outside.toFixed(1)} ms`
  );
}

/**
 * The window's wake-ups (when, how late, which loop, that loop's missed periods then), recorded into
 * arrays allocated beforehand, so recording them allocates nothing on the sampling thread, and split
 * afterwards into the host's stalls and the rest.
 */
class WakeRecord {
  private readonly at: Float64Array;
  private readonly late: Float64Array;
  private readonly loop: Uint8Array;
  private readonly missed: Float64Array;
  private n = 0;
  /** Wake-ups that did not fit (the window then fails rather than report part of it). */
  private droppedCount = 0;
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private stats: Map<string, Readonly<PollerStats>> = new Map();
  private before: Record<string, number> = {};
  /** performance.now() + offset = the monotonic clock the sentinel reports on. */
  private readonly offsetMs = monotonicMs() - performance.now();

  constructor(capacity: number) {
    this.at = new Float64Array(capacity);
    this.late = new Float64Array(capacity);
    this.loop = new Uint8Array(capacity);
    this.missed = new Float64Array(capacity);
  }

  /** Reads the sampling loops' own counters from here on (the bench's pollerStats() copies them). */
  watch(rig: Rig): void {
    const pollers = (rig.bench as unknown as { pollers?: { name: string; stats: PollerStats }[] }).pollers;
    if (!Array.isArray(pollers)) throw new Error("bench: the rig's sampling loops are not reachable");
    this.stats = new Map(pollers.map((p) => [p.name, p.stats]));
    this.before = Object.fromEntries(pollers.map((p) => [p.name, p.stats.missed]));
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get count(): number {
    return this.n;
  }

  get capacity(): number {
    return this.at.length;
  }

  add(loop: string, latenessMs: number): void {
    if (this.n >= this.at.length) {
      this.droppedCount++;
      return;
    }
    let i = this.index.get(loop);
    if (i === undefined) {
      i = this.names.push(loop) - 1;
      this.index.set(loop, i);
    }
    this.at[this.n] = performance.now();
    this.late[this.n] = latenessMs;
    this.loop[this.n] = i;
    this.missed[this.n] = this.stats.get(loop)?.missed ?? 0;
    this.n++;
  }

  latenessMs(): number[] {
    return Array.from(this.late.subarray(0, this.n));
  }

  /** [deadline, wake-up] of the wake-ups more than `overMs` late, performance.now() ms. */
  lateSpans(overMs: number): [number, number][] {
    const spans: [number, number][] = [];
    for (let k = 0; k < this.n; k++) {
      const late = this.late[k] as number;
      if (late > overMs) spans.push([(this.at[k] as number) - late, this.at[k] as number]);
    }
    return spans;
  }

  snapshot(atMs: number): { atMs: number; missedByLoop: Record<string, number> } {
    return { atMs, missedByLoop: Object.fromEntries([...this.stats].map(([name, st]) => [name, st.missed])) };
  }

  /** Each sampling loop's wake-ups against the host's stalls (attributeStalls), summed over the loops. */
  attribute(
    stalls: readonly HostStall[],
    periodMs: number,
    end: { atMs: number; missedByLoop: Record<string, number> },
  ): { latenessMs: number[]; hostMissed: number } {
    const latenessMs: number[] = [];
    let hostMissed = 0;
    for (const [i, name] of this.names.entries()) {
      const wakeUps: WakeUp[] = [];
      for (let k = 0; k < this.n; k++)
        if (this.loop[k] === i)
          wakeUps.push({
            atMs: (this.at[k] as number) + this.offsetMs,
            latenessMs: this.late[k] as number,
            missedByLoop: { [name]: this.missed[k] as number },
          });
      const split = attributeStalls(
        wakeUps,
        { atMs: end.atMs, missedByLoop: { [name]: end.missedByLoop[name] ?? 0 } },
        stalls,
        periodMs,
        this.before,
      );
      latenessMs.push(...split.latenessMs);
      hostMissed += split.hostMissed;
    }
    return { latenessMs, hostMissed };
  }
}
