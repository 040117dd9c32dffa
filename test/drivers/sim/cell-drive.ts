/**
 * Drives a bare CellModel the way a cycler and a chamber would, in 1 s steps: CC-CV charges, CC
 * discharges to a cut-off, rests, all in air at a given temperature. For tests of the cell physics
 * that need hours to months of simulated time without a bench.
 */
import type { Chemistry } from "../../../drivers/capabilities.js";
import { CellModel } from "../../../drivers/sim/cell-model.js";

/** Voltage windows of the example cells (examples/cells/*.yaml). */
export const WINDOW: Record<Chemistry, readonly [number, number]> = {
  "li-ion-nmc": [2.5, 4.2],
  "li-ion-lfp": [2.0, 3.65],
  "asslb-sulfide": [2.5, 4.25],
};

/** Capacities of the example cells, Ah. */
export const EXAMPLE_AH: Record<Chemistry, number> = {
  "li-ion-nmc": 3,
  "li-ion-lfp": 2.5,
  "asslb-sulfide": 1,
};

export function exampleCell(chemistry: Chemistry, soc = 0.5, temperatureC = 25): CellModel {
  return new CellModel({ chemistry, capacityAh: EXAMPLE_AH[chemistry] }, { soc, temperatureC });
}

export interface Leg {
  seconds: number;
  /** Charge moved, Ah (positive = charged). */
  ah: number;
}

/** Steps the cell until `done` or `maxS`; returns the time taken and the charge moved. */
export function runUntil(cell: CellModel, airC: number, done: (c: CellModel) => boolean, maxS: number): Leg {
  let seconds = 0;
  let ah = 0;
  while (seconds < maxS) {
    cell.step(1, airC);
    seconds++;
    ah += cell.currentA / 3600;
    if (done(cell)) break;
  }
  return { seconds, ah };
}

/** CC-CV charge at `rateC` to the window's top, until the current falls to C/20. */
export function chargeCccv(cell: CellModel, rateC: number, airC: number): Leg {
  const q = cell.params.capacityAh;
  cell.setDrive({ mode: "cccv", currentA: rateC * q, voltageV: WINDOW[cell.params.chemistry][1] });
  return runUntil(cell, airC, (c) => c.voltageLimited && c.currentA <= q / 20, 30 * 3600);
}

/** CC discharge at `rateC` until the terminal voltage reaches the window's bottom; returns Ah delivered. */
export function dischargeToCutoff(
  cell: CellModel,
  rateC: number,
  airC: number,
): Leg & { deliveredAh: number } {
  const q = cell.params.capacityAh;
  const [minV, maxV] = WINDOW[cell.params.chemistry];
  // No clamp: the cut-off is the test's, as a cycler's stop condition would be.
  cell.setDrive({ mode: "cc", currentA: -rateC * q, minV: 0, maxV: maxV + 1 });
  const leg = runUntil(cell, airC, (c) => c.voltageV <= minV, 30 * 3600);
  return { ...leg, deliveredAh: -leg.ah };
}

export function rest(cell: CellModel, airC: number, seconds: number): void {
  cell.setDrive({ mode: "rest" });
  runUntil(cell, airC, () => false, seconds);
}

/**
 * The capacity of a fresh example cell at `rateC` and `airC`: charged at C/2 to C/20 at 25 °C,
 * rested (soaked) 3 h in the test air, discharged to the cut-off.
 */
export function capacityAt(chemistry: Chemistry, rateC: number, airC: number): number {
  const cell = exampleCell(chemistry);
  chargeCccv(cell, 0.5, 25);
  rest(cell, airC, 3 * 3600);
  return dischargeToCutoff(cell, rateC, airC).deliveredAh;
}
