import { afterEach, describe, expect, it } from "vitest";
import { BenchMetrics } from "../../../src/http/metrics.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

describe("BenchMetrics", () => {
  it("records lateness, device errors and reconnects pushed by the daemon, and appends the storage's metrics", async () => {
    const metrics = new BenchMetrics();
    h = await openHttpBench({
      auto: false,
      metrics,
      storage: {
        metrics: () =>
          "# HELP cellbench_storage_backlog_rows Outbox rows waiting for InfluxDB\n# TYPE cellbench_storage_backlog_rows gauge\ncellbench_storage_backlog_rows 42\n",
      },
    });
    metrics.observeLateness("cycler1", 3);
    metrics.observeLateness("cycler1", 40);
    metrics.countDeviceError("psb1", "timeout");
    metrics.countDeviceError("psb1", "timeout");
    metrics.countReconnect("psb1");
    // The chamber's loop runs half a period after the cycler's: its first reading.
    await h.clock.advanceTo(h.bench.config.samplingPeriodMs / 2);
    const text = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(/cellbench_sampling_lateness_seconds_count\{poller="cycler1"\} 2/);
    expect(text).toMatch(/cellbench_sampling_lateness_seconds_bucket\{le="0.005",poller="cycler1"\} 1/);
    expect(text).toMatch(/cellbench_device_errors_total\{device="psb1",kind="timeout"\} 2/);
    expect(text).toMatch(/cellbench_device_reconnects_total\{device="psb1"\} 1/);
    expect(text).toMatch(/\ncellbench_storage_backlog_rows 42\n/);
    expect(text).toMatch(/cellbench_chamber_temperature_celsius\{chamber="tc1"\}/);
    expect(text).toMatch(/cellbench_chamber_setpoint_celsius\{chamber="tc1"\} -?\d/);
    // Each metric family appears once.
    const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(new Set(types).size).toBe(types.length);
  });

  it("renders what the registry renders, one metric family per event-loop turn", async () => {
    const metrics = new BenchMetrics();
    h = await openHttpBench({ auto: false, metrics });
    await h.clock.advanceBy(2000);
    metrics.observeLateness("cycler1", 3);
    let turns = 0;
    let counting = true;
    const turn = () => {
      if (!counting) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const text = await metrics.render();
    counting = false;
    expect(text).toBe(await metrics.registry.metrics());
    const families = text.match(/^# TYPE /gm)?.length ?? 0;
    expect(families).toBeGreaterThan(10);
    // Rendered at once, the text would be ready before the first turn.
    expect(turns).toBeGreaterThanOrEqual(families - 1);
  });

  it("counts requests by route pattern, never by run id", async () => {
    h = await openHttpBench();
    const id = (
      await h.app.inject({
        method: "POST",
        url: "/api/v1/runs",
        headers: auth("operator"),
        payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "p", steps: ["Rest for 1 s"] } },
      })
    ).json().id;
    await h.app.inject({ method: "GET", url: `/api/v1/runs/${id}`, headers: auth("viewer") });
    await h.app.inject({ method: "GET", url: "/nowhere" });
    const text = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(
      /cellbench_http_requests_total\{method="GET",route="\/api\/v1\/runs\/:id",status="200"\} 1/,
    );
    expect(text).toMatch(/cellbench_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).not.toContain(id);
  });
});
