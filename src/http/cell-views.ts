/** Turns registered cells (src/cell/cell-registry.ts) into the API's snake_case views (cell-schemas.ts). */
import type { CellOverride } from "../cell/cell.js";
import type { CellInfo } from "../cell/cell-registry.js";
import type { CellSummaryViewT, CellViewT } from "./cell-schemas.js";
import { iso } from "./views.js";

export function cellView(info: CellInfo): CellViewT {
  const { cell, history } = info.stored;
  const meta = cell.metadata ?? {};
  const s = info.summary;
  return {
    id: cell.id,
    chemistry: cell.chemistry,
    capacity_ah: cell.capacityAh,
    voltage_v: [...cell.voltageV],
    current_a: [...cell.currentA],
    temperature_c: [...cell.temperatureC],
    charge_temperature_c: [...cell.chargeTemperatureC],
    discharge_temperature_c: [...cell.dischargeTemperatureC],
    derating: cell.derating
      ? cell.derating.map((p) => ({
          temperature_c: p.temperatureC,
          charge_a: p.chargeA,
          discharge_a: p.dischargeA,
        }))
      : null,
    override: cell.override ? overrideView(cell.override) : null,
    description: cell.description ?? null,
    maker: meta.maker ?? null,
    lot: meta.lot ?? null,
    format: meta.format ?? null,
    mass_g: meta.massG ?? null,
    operator: meta.operator ?? null,
    project: meta.project ?? null,
    notes: meta.notes ?? null,
    registered_at: iso(info.stored.createdMs),
    updated_at: iso(info.stored.updatedMs),
    mounted: info.mount ? { channel: info.mount.channel, since: iso(info.mount.mountedMs) } : null,
    inside: info.inside ?? null,
    history: {
      runs: history.runs.map((r) => ({
        id: r.run,
        channel: r.channel,
        state: r.state,
        started_at: iso(r.startedMs),
        cycles: r.cycles,
        charge_ah: r.chargeAh,
        discharge_ah: r.dischargeAh,
      })),
      cycle_count: s.cycleCount,
      charge_ah: s.chargeAh,
      discharge_ah: s.dischargeAh,
      first_discharge_ah: s.firstDischargeAh,
      last_discharge_ah: s.lastDischargeAh,
      capacity_retention: s.capacityRetention,
      last_cycle_at: s.lastCycleMs === null ? null : iso(s.lastCycleMs),
      last_channel: s.lastChannel,
    },
  };
}

export function cellSummaryView(info: CellInfo): CellSummaryViewT {
  const { cell } = info.stored;
  return {
    id: cell.id,
    chemistry: cell.chemistry,
    capacity_ah: cell.capacityAh,
    maker: cell.metadata?.maker ?? null,
    lot: cell.metadata?.lot ?? null,
    project: cell.metadata?.project ?? null,
    operator: cell.metadata?.operator ?? null,
    mounted_on: info.mount?.channel ?? null,
    runs: info.summary.runCount,
    cycle_count: info.summary.cycleCount,
    last_discharge_ah: info.summary.lastDischargeAh,
    capacity_retention: info.summary.capacityRetention,
  };
}

function overrideView(o: CellOverride): Record<string, unknown> {
  return {
    reason: o.reason,
    ...(o.voltageV ? { voltage_v: o.voltageV } : {}),
    ...(o.temperatureC ? { temperature_c: o.temperatureC } : {}),
    ...(o.chargeTemperatureC ? { charge_temperature_c: o.chargeTemperatureC } : {}),
    ...(o.dischargeTemperatureC ? { discharge_temperature_c: o.dischargeTemperatureC } : {}),
  };
}
