/**
 * Chamber supervision (DESIGN §6). A chamber whose set point a run owns must reach set point ± band
 * within `settleTimeoutMs` of a set-point change and, once there, may leave the band for at most
 * `graceMs`; any chamber above the maximum temperature of a cell inside it faults at once (with the
 * same 1 °C sensor margin as the cells' own limit).
 */
export interface ChamberSupervision {
  bandC: number;
  graceMs: number;
  settleTimeoutMs: number;
}

export const DEFAULT_CHAMBER_SUPERVISION: ChamberSupervision = {
  bandC: 5,
  graceMs: 5 * 60_000,
  // A full swing from +105 to -20 °C at a typical 1.5 °C/min cooling rate takes about 85 minutes.
  settleTimeoutMs: 4 * 3_600_000,
};

const CELL_MAX_MARGIN_C = 1;

/** True when chamber air at `temperatureC` is above the lowest maximum of the cells inside. */
export function hotterThanCells(temperatureC: number, cellMaxC: number | undefined): boolean {
  return cellMaxC !== undefined && temperatureC > cellMaxC + CELL_MAX_MARGIN_C;
}

interface Watch {
  setpointC: number;
  sinceMs: number;
  settled: boolean;
  outsideSinceMs: number | null;
}

export class ChamberSupervisor {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly supervision: ChamberSupervision = DEFAULT_CHAMBER_SUPERVISION) {}

  /**
   * Returns why the runs in this chamber must fault, or undefined. `owned`: a run drives the set
   * point (only then is the band enforced). `cellMaxC`: the lowest maximum of the cells inside.
   */
  check(
    chamberId: string,
    reading: { temperatureC: number; setpointC: number },
    nowMs: number,
    context: { owned: boolean; cellMaxC: number | undefined },
  ): string | undefined {
    const t = reading.temperatureC;
    if (hotterThanCells(t, context.cellMaxC)) {
      return `chamber ${chamberId} at ${fmt(t)} °C is above the ${context.cellMaxC} °C maximum of a cell inside it`;
    }
    if (!context.owned) {
      this.watches.delete(chamberId);
      return undefined;
    }
    let watch = this.watches.get(chamberId);
    if (!watch || watch.setpointC !== reading.setpointC) {
      watch = { setpointC: reading.setpointC, sinceMs: nowMs, settled: false, outsideSinceMs: null };
      this.watches.set(chamberId, watch);
    }
    const { bandC, graceMs, settleTimeoutMs } = this.supervision;
    const inside = Math.abs(t - watch.setpointC) <= bandC;
    if (!watch.settled) {
      if (inside) watch.settled = true;
      else if (nowMs - watch.sinceMs > settleTimeoutMs) {
        return `chamber ${chamberId} did not reach ${watch.setpointC} ± ${bandC} °C within ${minutes(settleTimeoutMs)} (at ${fmt(t)} °C)`;
      }
      return undefined;
    }
    if (inside) {
      watch.outsideSinceMs = null;
      return undefined;
    }
    watch.outsideSinceMs ??= nowMs;
    if (nowMs - watch.outsideSinceMs > graceMs) {
      return `chamber ${chamberId} at ${fmt(t)} °C has been outside ${watch.setpointC} ± ${bandC} °C for more than ${minutes(graceMs)}`;
    }
    return undefined;
  }
}

function fmt(x: number): string {
  return (Math.round(x * 10) / 10).toFixed(1);
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}
