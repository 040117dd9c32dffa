/** Turns the daemon's objects into the API's snake_case views (schemas.ts). */
import { type Clock, SystemClock } from "../../drivers/clock.js";
import { PacedClock } from "../../drivers/paced-clock.js";
import type { Bench, ChamberSlot, ChannelSlot } from "../bench/bench.js";
import type { DeviceLinkStatus } from "../bench/device-links.js";
import { sensorName } from "../config/load-config.js";
import type { DryRunEstimate } from "../engine/dry-run.js";
import type { StepChange } from "../engine/run-engine.js";
import type { CellRecord, CycleRecord, RunEventRecord, RunState } from "../run/records.js";
import type { RunInfo } from "../run/run-manager.js";
import type { ChannelSample } from "../sampling/sample.js";
import { runDashboardPath, runTimeRange } from "./run-time-range.js";
import type { BenchViewT, ClockViewT, RecordViewT, RunViewT } from "./schemas.js";

const TERMINAL: ReadonlySet<RunState> = new Set(["completed", "stopped", "aborted", "faulted"]);

/** Returns true for states a run never leaves. */
export function isTerminalState(state: RunState): boolean {
  return TERMINAL.has(state);
}

export const iso = (ms: number): string => new Date(Number.isFinite(ms) ? ms : 0).toISOString();

/** The finite values of a record (JSON has no NaN). */
function finiteValues(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
}

/** Replaces NaN and ±Infinity by null (JSON has neither). */
export const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function recordView(r: CellRecord): RecordViewT {
  return {
    time: iso(r.tWallMs),
    test_time_s: r.testTimeS,
    step_time_s: r.stepTimeS,
    voltage_v: num(r.voltageV),
    current_a: num(r.currentA),
    temperature_c: num(r.temperatureC),
    ...(r.sensorsC ? { sensors_c: finiteValues(r.sensorsC) } : {}),
    power_w: num(r.powerW),
    charge_ah: r.chargeAh,
    discharge_ah: r.dischargeAh,
    charge_wh: r.chargeWh,
    discharge_wh: r.dischargeWh,
    step_index: r.stepIndex,
    cycle_index: r.cycleIndex,
  };
}

/** Builds the run view; `wallNowMs` (bench clock) places the ETA. */
export function runView(info: RunInfo, wallNowMs: number): RunViewT {
  const s = info.status;
  const range = runTimeRange(info);
  return {
    id: info.id,
    channel: info.channel,
    cell: info.cell,
    profile: info.profile,
    profile_id: info.profileId,
    state: info.state,
    reason: info.reason,
    cleared: info.cleared,
    created_at: iso(info.createdMs),
    step: s ? { index: s.stepIndex, path: s.stepPath, text: s.stepText, elapsed_s: s.stepElapsedS } : null,
    cycle_index: s ? s.cycleIndex : null,
    test_time_s: s ? s.testTimeS : null,
    charge_ah: s ? s.total.chargeAh : null,
    discharge_ah: s ? s.total.dischargeAh : null,
    charge_wh: s ? s.total.chargeWh : null,
    discharge_wh: s ? s.total.dischargeWh : null,
    last_sample: s?.lastRecord ? recordView(s.lastRecord) : null,
    progress: info.progress
      ? {
          fraction: info.progress.fraction,
          remaining_s: info.progress.remainingS,
          estimated_total_s: info.progress.estimatedTotalS,
          eta: iso(wallNowMs + info.progress.remainingS * 1000),
        }
      : null,
    history: info.history.map((h) => ({ state: h.state, at: iso(h.tWallMs), reason: h.reason })),
    time_range: { from: iso(range.fromMs), to: range.toMs === undefined ? null : iso(range.toMs) },
    dashboard: runDashboardPath(info, range, wallNowMs),
  };
}

export function stepView(c: StepChange) {
  return {
    run: c.run,
    channel: c.channel,
    time: iso(c.tWallMs),
    step_index: c.stepIndex,
    cycle_index: c.cycleIndex,
    path: c.path,
    text: c.text,
    ended_because: c.endedBecause,
  };
}

export function stateView(e: RunEventRecord) {
  return {
    run: e.run,
    channel: e.channel,
    time: iso(e.tWallMs),
    state: e.state,
    reason: e.reason,
    step_index: e.stepIndex,
    terminal: isTerminalState(e.state),
  };
}

export function cycleView(c: CycleRecord) {
  return {
    run: c.run,
    channel: c.channel,
    time: iso(c.tWallMs),
    cycle_index: c.cycleIndex,
    charge_ah: c.chargeAh,
    discharge_ah: c.dischargeAh,
    charge_wh: c.chargeWh,
    discharge_wh: c.dischargeWh,
    coulombic_efficiency: num(c.coulombicEfficiency),
    energy_efficiency: num(c.energyEfficiency),
    capacity_retention: num(c.capacityRetention),
    min_temperature_c: num(c.minTemperatureC),
    max_temperature_c: num(c.maxTemperatureC),
  };
}

export function clockView(clock: Clock): ClockViewT {
  if (!(clock instanceof PacedClock)) {
    const speed = Number.isFinite(clock.speed) ? clock.speed : null;
    const kind = clock instanceof SystemClock ? "real" : "simulated";
    return { kind, speed, achieved_speed: speed, slowdowns: 0, lost_real_s: 0 };
  }
  const pace = clock.stats();
  return {
    kind: "simulated",
    speed: pace.targetSpeed,
    achieved_speed: pace.achievedSpeed,
    slowdowns: pace.slowdowns,
    lost_real_s: pace.lostRealMs / 1000,
  };
}

/** `mountedCell` names the cell mounted on a channel (the cell registry's). */
export function benchView(
  bench: Bench,
  mountedCell: (channel: string) => string | undefined = () => undefined,
): BenchViewT {
  const nowMono = bench.clock.now();
  return {
    ...benchHeadView(bench),
    channels: [...bench.channels.values()].map((slot) => {
      const latest = slot.latest;
      return {
        ...channelHeadView(bench, slot, mountedCell),
        last_sample: latest
          ? { ...sampleHeadView(latest), age_s: sampleAgeS(latest, nowMono), ...sampleTailView(latest) }
          : null,
      };
    }),
    chambers: [...bench.chambers.values()].map(chamberView),
    devices: bench.devices.map((d) => deviceView(bench, d)),
  };
}

// The parts of the bench view, in the order of its schema (BenchView), also for bench-json.ts.

/** The bench view's fields before `channels`. */
export function benchHeadView(bench: Bench) {
  const speed = bench.clock.speed;
  return {
    bench: bench.config.bench,
    time: iso(bench.clock.wallNow()),
    speed: Number.isFinite(speed) ? speed : null,
    clock: clockView(bench.clock),
    sampling_period_ms: bench.config.samplingPeriodMs,
  };
}

/** A channel's fields before `last_sample`. */
export function channelHeadView(
  bench: Bench,
  slot: ChannelSlot,
  mountedCell: (channel: string) => string | undefined,
) {
  return {
    id: slot.id,
    device: slot.device.id,
    chamber: slot.chamberId ?? null,
    cell: mountedCell(slot.id) ?? null,
    cell_inside: bench.supervisor.cellOn(slot.id)?.cell.id ?? null,
    run: slot.run ? { id: slot.run.id, state: slot.run.currentState } : null,
    read_errors: slot.readErrors,
    temperature_sensors: slot.sensors.map(sensorName),
    ranges: {
      voltage_v: [...slot.channel.ranges.voltageV],
      current_a: [...slot.channel.ranges.currentA],
      power_w: slot.channel.ranges.powerW,
    },
  };
}

/** A sample's fields before `age_s`. */
export function sampleHeadView(latest: ChannelSample) {
  return {
    time: iso(latest.tWallMs),
    voltage_v: num(latest.voltageV),
    current_a: num(latest.currentA),
    temperature_c: num(latest.temperatureC),
  };
}

/** Seconds since the sample was taken, at bench-clock time `nowMono`. */
export const sampleAgeS = (latest: ChannelSample, nowMono: number): number =>
  Math.max(0, (nowMono - latest.tMonoMs) / 1000);

/** A sample's fields after `age_s`. */
export function sampleTailView(latest: ChannelSample) {
  return {
    temperature_age_s: latest.temperatureAgeMs === undefined ? null : latest.temperatureAgeMs / 1000,
    temperature_fault: latest.temperatureFault ?? null,
    sensors_c: latest.temperaturesC ? finiteValues(latest.temperaturesC) : null,
  };
}

export function chamberView(slot: ChamberSlot) {
  return {
    id: slot.id,
    device: slot.device.id,
    channels: [...slot.channels],
    owner: slot.owner ?? null,
    read_errors: slot.readErrors,
    last_reading: slot.latest
      ? {
          time: iso(slot.latest.tWallMs),
          temperature_c: num(slot.latest.temperatureC),
          setpoint_c: num(slot.latest.setpointC),
          output_pct: num(slot.latest.outputPct),
          sensors_c: slot.sensors?.ok ? finiteValues(slot.sensors.bySensor) : null,
          sensor_fault: slot.sensors && !slot.sensors.ok ? slot.sensors.fault : null,
        }
      : null,
  };
}

export function deviceView(bench: Bench, d: Bench["devices"][number]) {
  return {
    id: d.id,
    driver: d.driver,
    channels: d.channels.map((c) => c.id),
    temperature_inputs: [...(d.temperatureInputs?.inputs ?? [])],
    link: linkView(bench.links.of(d.id)),
  };
}

export function linkView(status: DeviceLinkStatus) {
  return {
    state: status.state,
    since: status.sinceWallMs === undefined ? null : iso(status.sinceWallMs),
    reason: status.reason ?? null,
    losses: status.losses,
    reconnects: status.reconnects,
  };
}

/** A compact live view of every channel, for the bench-wide stream. */
export function channelsSnapshot(bench: Bench) {
  return {
    time: iso(bench.clock.wallNow()),
    channels: [...bench.channels.values()].map((slot) => ({
      channel: slot.id,
      run: slot.run && !slot.run.isTerminal ? slot.run.id : null,
      state: slot.run ? slot.run.currentState : null,
      voltage_v: slot.latest ? num(slot.latest.voltageV) : null,
      current_a: slot.latest ? num(slot.latest.currentA) : null,
      temperature_c: slot.latest ? num(slot.latest.temperatureC) : null,
    })),
    chambers: [...bench.chambers.values()].map((slot) => ({
      chamber: slot.id,
      temperature_c: slot.latest ? num(slot.latest.temperatureC) : null,
      setpoint_c: slot.latest ? num(slot.latest.setpointC) : null,
    })),
  };
}

export function estimateView(e: DryRunEstimate, complete: boolean) {
  return {
    state: e.state,
    reason: e.reason,
    complete,
    sample_period_s: e.samplePeriodS,
    duration_s: e.durationS,
    steps_executed: e.stepsExecuted,
    cycles: e.cycleCount,
    charge_ah: e.chargeAh,
    discharge_ah: e.dischargeAh,
    charge_wh: e.chargeWh,
    discharge_wh: e.dischargeWh,
    steps: e.steps.map((s) => ({
      index: s.stepIndex,
      path: s.path,
      text: s.text,
      start_s: s.startS,
      duration_s: s.durationS,
    })),
  };
}
