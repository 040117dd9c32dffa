import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LatenessHistogram } from "../../../src/http/lateness-histogram.js";

const NAME = "cellbench_sampling_lateness_seconds";
const HELP = "How late each poller woke up after its sampling deadline";
const BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

describe("LatenessHistogram", () => {
  it("renders what prom-client's Histogram renders for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom("cycler1", "tc1", 'odd "name"\\'),
            fc.oneof(fc.constantFrom(...BUCKETS, 0), fc.double({ min: 0, max: 10, noNaN: true })),
          ),
          { maxLength: 60 },
        ),
        async (observations) => {
          const ours = new Registry();
          const theirs = new Registry();
          const own = new LatenessHistogram({ name: NAME, help: HELP, buckets: BUCKETS, registers: [ours] });
          const reference = new Histogram({
            name: NAME,
            help: HELP,
            labelNames: ["poller"],
            buckets: BUCKETS,
            registers: [theirs],
          });
          for (const [poller, seconds] of observations) {
            own.observe(poller, seconds);
            reference.observe({ poller }, seconds);
          }
          expect(await ours.metrics()).toBe(await theirs.metrics());
        },
      ),
    );
  });

  it("counts each poller's observations in its own buckets; reset empties them", async () => {
    const registry = new Registry();
    const h = new LatenessHistogram({ name: NAME, help: HELP, buckets: BUCKETS, registers: [registry] });
    h.observe("cycler1", 0.003);
    h.observe("cycler1", 0.001);
    h.observe("tc1", 7);
    const text = await registry.metrics();
    expect(text).toContain(`${NAME}_bucket{le="0.001",poller="cycler1"} 1\n`);
    expect(text).toContain(`${NAME}_bucket{le="0.005",poller="cycler1"} 2\n`);
    expect(text).toContain(`${NAME}_bucket{le="5",poller="tc1"} 0\n`);
    expect(text).toContain(`${NAME}_bucket{le="+Inf",poller="tc1"} 1\n`);
    expect(text).toContain(`${NAME}_count{poller="cycler1"} 2\n`);
    h.reset();
    expect(await registry.metrics()).not.toContain("poller=");
  });
});
