/**
 * Prometheus metrics (prom-client, own Registry; no run ids as labels). Channel and chamber
 * gauges are read from the bench at scrape time; lateness, device errors and reconnects are pushed
 * by whoever sees them (the daemon hooks BenchEvents.lateness/error and the transports' reconnects
 * to the functions here). The storage layer's own metrics text is appended.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Bench, ChamberSlot, ChannelSlot } from "../bench/bench.js";
import type { RunState } from "../run/records.js";
import type { RunManager } from "../run/run-manager.js";
import type { Storage } from "../storage/storage.js";
import { LatenessHistogram } from "./lateness-histogram.js";
import type { ClockViewT } from "./schemas.js";
import { clockView } from "./views.js";

const RUN_STATES: readonly RunState[] = [
  "queued",
  "running",
  "paused",
  "completed",
  "stopped",
  "aborted",
  "faulted",
  "interrupted",
];

export interface MetricsSources {
  bench: Bench;
  runs?: Pick<RunManager, "list">;
  storage?: Pick<Storage, "metrics">;
}

export class BenchMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | undefined;
  private readonly lateness: LatenessHistogram;
  private readonly deviceErrors: Counter<"device" | "kind">;
  private readonly reconnects: Counter<"device">;
  private readonly httpRequests: Counter<"method" | "route" | "status">;

  constructor() {
    const registers = [this.registry];
    const source = () => this.sources;
    this.lateness = new LatenessHistogram({
      name: "cellbench_sampling_lateness_seconds",
      help: "How late each poller woke up after its sampling deadline",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.deviceErrors = new Counter({
      name: "cellbench_device_errors_total",
      help: "Serial/Modbus/SCPI errors per device (timeouts, bad replies, CRC errors, read failures)",
      labelNames: ["device", "kind"],
      registers,
    });
    this.reconnects = new Counter({
      name: "cellbench_device_reconnects_total",
      help: "Transport reconnections per device",
      labelNames: ["device"],
      registers,
    });
    this.httpRequests = new Counter({
      name: "cellbench_http_requests_total",
      help: "HTTP requests by route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    const channelGauge = (name: string, help: string, value: (s: ChannelSlot) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["channel"],
        registers,
        collect() {
          this.reset();
          const bench = source()?.bench;
          if (!bench) return;
          for (const slot of bench.channels.values()) {
            const v = value(slot);
            if (v !== undefined && Number.isFinite(v)) this.set({ channel: slot.id }, v);
          }
        },
      });
    channelGauge("cellbench_channel_voltage_volts", "Latest channel voltage", (s) => s.latest?.voltageV);
    channelGauge(
      "cellbench_channel_current_amperes",
      "Latest channel current (positive = charge)",
      (s) => s.latest?.currentA,
    );
    channelGauge(
      "cellbench_channel_temperature_celsius",
      "Latest cell temperature",
      (s) => s.latest?.temperatureC,
    );
    channelGauge(
      "cellbench_channel_temperature_age_seconds",
      "Age of the sensor scan behind the cell temperature (channels with configured sensors)",
      (s) => (s.latest?.temperatureAgeMs === undefined ? undefined : s.latest.temperatureAgeMs / 1000),
    );
    channelGauge(
      "cellbench_channel_temperature_fault",
      "1 while a configured sensor of the channel is faulted, stale or missing (a safety fault), else 0",
      (s) => (s.latest && s.sensors.length > 0 ? Number(s.latest.temperatureFault !== undefined) : undefined),
    );
    new Gauge({
      name: "cellbench_sensor_temperature_celsius",
      help: "Latest value of each configured temperature sensor on a cell",
      labelNames: ["channel", "sensor"],
      registers,
      collect() {
        this.reset();
        for (const slot of source()?.bench.channels.values() ?? [])
          for (const [sensor, v] of Object.entries(slot.latest?.temperaturesC ?? {}))
            if (Number.isFinite(v)) this.set({ channel: slot.id, sensor }, v);
      },
    });
    channelGauge(
      "cellbench_channel_read_errors",
      "Failed reads of the channel since start-up",
      (s) => s.readErrors,
    );
    channelGauge(
      "cellbench_channel_sample_age_seconds",
      "Age of the channel's latest sample (bench clock)",
      (s) =>
        s.latest ? ((source()?.bench.clock.now() ?? s.latest.tMonoMs) - s.latest.tMonoMs) / 1000 : undefined,
    );
    new Gauge({
      name: "cellbench_channel_run_state",
      help: "1 for the state of the run on the channel (latest run; idle when none)",
      labelNames: ["channel", "state"],
      registers,
      collect() {
        this.reset();
        const bench = source()?.bench;
        if (!bench) return;
        for (const slot of bench.channels.values()) {
          const current = slot.run?.currentState ?? "idle";
          for (const state of [...RUN_STATES, "idle"])
            this.set({ channel: slot.id, state }, state === current ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "cellbench_device_link_up",
      help: "1 while the device's link is up and the instrument usable, 0 while down or unusable",
      labelNames: ["device"],
      registers,
      collect() {
        this.reset();
        const bench = source()?.bench;
        for (const device of bench?.devices ?? [])
          this.set({ device: device.id }, bench?.links.of(device.id).state === "up" ? 1 : 0);
      },
    });
    const chamberGauge = (name: string, help: string, value: (s: ChamberSlot) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["chamber"],
        registers,
        collect() {
          this.reset();
          for (const slot of source()?.bench.chambers.values() ?? []) {
            const v = value(slot);
            if (v !== undefined && Number.isFinite(v)) this.set({ chamber: slot.id }, v);
          }
        },
      });
    chamberGauge(
      "cellbench_chamber_temperature_celsius",
      "Latest chamber air temperature",
      (s) => s.latest?.temperatureC,
    );
    chamberGauge(
      "cellbench_chamber_setpoint_celsius",
      "Latest chamber set point",
      (s) => s.latest?.setpointC,
    );
    const clockGauge = (name: string, help: string, value: (c: ClockViewT) => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.reset();
          const bench = source()?.bench;
          const v = bench ? value(clockView(bench.clock)) : null;
          if (v !== null) this.set(v);
        },
      });
    clockGauge(
      "cellbench_clock_speed",
      "Target speed of the bench clock (--speed; 1 = real time)",
      (c) => c.speed,
    );
    clockGauge(
      "cellbench_clock_achieved_speed",
      "Simulated seconds per real second over the last few seconds (below the target when the host cannot keep up)",
      (c) => c.achieved_speed,
    );
    clockGauge(
      "cellbench_clock_slowdowns",
      "Times the simulation fell behind its speed and slowed down instead of skipping ticks",
      (c) => c.slowdowns,
    );
    new Gauge({
      name: "cellbench_runs",
      help: "Runs known to the daemon by state",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const runs = source()?.runs?.list() ?? [];
        for (const state of RUN_STATES) this.set({ state }, runs.filter((r) => r.state === state).length);
      },
    });
  }

  /** Connects the scrape-time gauges to the bench, the runs and the storage. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Records a poller's wake-up lateness (hook BenchEvents.lateness here). */
  observeLateness(poller: string, ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.lateness.observe(poller, ms / 1000);
  }

  /** Counts one device error (`kind`: timeout, crc, bad-reply, read, ...). */
  countDeviceError(device: string, kind = "read"): void {
    this.deviceErrors.inc({ device, kind });
  }

  /** Counts one transport reconnection. */
  countReconnect(device: string): void {
    this.reconnects.inc({ device });
  }

  /** Counts one HTTP request by route pattern (never by run id). */
  countRequest(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }

  /**
   * Renders every metric, the storage layer's included, as Prometheus text (as Registry.metrics()
   * does), one metric family per event-loop turn: the sampling timers due meanwhile run between two
   * families, so a scrape (some 1300 series at 64 channels, milliseconds in all) never holds the loop
   * for more than its largest family.
   */
  async render(): Promise<string> {
    const families: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      families.push(await this.registry.getSingleMetricAsString(metric.name));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const own = `${families.join("\n\n")}\n`;
    const storage = this.sources?.storage?.metrics() ?? "";
    return storage ? `${own.trimEnd()}\n${storage.endsWith("\n") ? storage : `${storage}\n`}` : own;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
