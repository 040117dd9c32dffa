/**
 * The sampling lateness histogram (cellbench_sampling_lateness_seconds): observed on every poller
 * wake-up (1600 times a second at 16 pollers × 100 Hz), on the sampling loop. prom-client's
 * Histogram hashes a labels object into a string key on every observation; here each poller's
 * counts live in one array found by name, so an observation allocates nothing. It is registered in
 * the prom-client registry as a collector and rendered there like any histogram.
 */
import type { Metric, Registry } from "prom-client";

interface Counts {
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A metric's values as prom-client's registry renders them. */
export interface HistogramValues {
  name: string;
  help: string;
  type: "histogram";
  aggregator: "sum";
  values: { labels: Record<string, string | number>; value: number; metricName: string }[];
}

export class LatenessHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  private readonly bounds: readonly number[];
  private readonly pollers = new Map<string, Counts>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    // The registry only calls name, help, type and get() (a prom-client collector in all but its class).
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** One observation of `poller`, in seconds (finite, ≥ 0: the caller checks). */
  observe(poller: string, seconds: number): void {
    let counts = this.pollers.get(poller);
    if (counts === undefined) {
      counts = { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.pollers.set(poller, counts);
    }
    let i = 0;
    while (i < this.bounds.length && seconds > (this.bounds[i] as number)) i++;
    counts.buckets[i] = (counts.buckets[i] ?? 0) + 1;
    counts.sum += seconds;
    counts.count++;
  }

  /** The values as prom-client's Histogram gives them to its registry (same names, labels and order). */
  async get(): Promise<HistogramValues> {
    const values: HistogramValues["values"] = [];
    const bucket = `${this.name}_bucket`;
    for (const [poller, counts] of this.pollers) {
      let cumulative = 0;
      for (const [i, le] of this.bounds.entries()) {
        cumulative += counts.buckets[i] ?? 0;
        values.push({ labels: { le, poller }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: "+Inf", poller }, value: counts.count, metricName: bucket });
      values.push({ labels: { poller }, value: counts.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { poller }, value: counts.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }

  reset(): void {
    this.pollers.clear();
  }
}
