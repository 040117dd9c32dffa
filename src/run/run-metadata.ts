import type { Cell } from "../cell/cell.js";
import type { CellMetadata } from "../cell/cell-metadata.js";
import type { StoredRun } from "./run-store.js";

/** Version of the metadata document's layout; raised when a key changes meaning. */
export const RUN_METADATA_VERSION = 1;

/**
 * The companion of a run's BDF CSV: what the CSV cannot say about the cell and the test. Keys are
 * snake_case with units in their names, like the CSV's; absent facts are left out, never guessed.
 */
export function runMetadata(run: StoredRun, bench: string) {
  const cell = run.cell as Partial<Cell> & StoredRun["cell"];
  return {
    cellbench_run_metadata: RUN_METADATA_VERSION,
    run: {
      id: run.id,
      bench,
      channel: run.channel,
      created: new Date(run.createdMs).toISOString(),
      state: run.state,
      reason: run.reason,
      profile: run.profile.name,
      ...(run.profile.description ? { profile_description: run.profile.description } : {}),
      ...(run.profileId ? { profile_id: run.profileId } : {}),
      ...(run.temperatureOverride ? { temperature_override: run.temperatureOverride } : {}),
      history: run.history.map((h) => ({
        state: h.state,
        time: new Date(h.tWallMs).toISOString(),
        reason: h.reason,
      })),
    },
    cell: {
      id: cell.id,
      chemistry: cell.chemistry,
      nominal_capacity_ah: cell.capacityAh,
      voltage_v: cell.voltageV,
      current_a: cell.currentA,
      temperature_c: cell.temperatureC,
      ...(cell.chargeTemperatureC ? { charge_temperature_c: cell.chargeTemperatureC } : {}),
      ...(cell.dischargeTemperatureC ? { discharge_temperature_c: cell.dischargeTemperatureC } : {}),
      ...(cell.description ? { description: cell.description } : {}),
      ...(cell.override ? { envelope_override: cell.override } : {}),
      ...metadataOf(cell.metadata),
    },
  };
}

/** A registered cell's identity as the run used it (maker, lot, ...), under the keys of a cell file. */
function metadataOf(m: CellMetadata | undefined): Record<string, string | number> {
  if (!m) return {};
  const { massG, ...text } = m;
  return { ...text, ...(massG === undefined ? {} : { mass_g: massG }) };
}

export type RunMetadata = ReturnType<typeof runMetadata>;
