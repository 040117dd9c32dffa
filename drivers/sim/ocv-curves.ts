/**
 * Open-circuit voltage versus state of charge for the simulated chemistries.
 *
 * The tables are hand-drawn piecewise-linear approximations of published full-cell curve shapes
 * (not digitised data; good enough for a believable simulator, not for state estimation):
 * - `li-ion-nmc`: NMC/graphite, shape of the LG M50 (NMC811/graphite-SiOx) full-cell OCV of
 *   Chen et al., "Development of Experimental Techniques for Parameterization of Multi-scale
 *   Lithium-ion Battery Models", J. Electrochem. Soc. 167 (2020) 080534 (PyBaMM's `Chen2020`):
 *   a steep knee below ~10 % SOC, a gently rising middle, 4.2 V at full. SOC 0 is put at 3.0 V
 *   OCV, so a discharge to the usual 2.5 V cut-off ends in the knee just below it.
 * - `li-ion-lfp`: LFP/graphite, the flat two-phase plateau (3.2–3.35 V) with steep ends, as in the
 *   About:Energy 2 Ah LFP 18650 BPX example (Faraday Institution BPX repository,
 *   `examples/lfp_18650_cell_BPX.json`, window 2.0–3.65 V) and Prada et al., J. Electrochem. Soc.
 *   160 (2013) A616 (PyBaMM's `Prada2013`).
 * - `asslb-sulfide`: an NMC-type cathode in a sulfide (argyrodite Li6PS5Cl-type) solid electrolyte,
 *   window 2.5–4.25 V. Its OCV is the cathode's, so the shape follows the NMC curve, slightly lower
 *   at the empty end and reaching 4.25 V when full (cf. Randau et al., "Benchmarking the
 *   performance of all-solid-state lithium batteries", Nature Energy 5 (2020) 259).
 *
 * Beyond 0 % and 100 % the curves continue with steep slopes so that a cell driven past empty or
 * full sees its voltage collapse or rise (cut-offs always trigger) while staying finite.
 */
import type { Chemistry } from "../capabilities.js";

/** SOC range a cell may physically reach: a few % beyond the nominal 0..1 (over-discharge/charge). */
export const SOC_FLOOR = -0.03;
export const SOC_CEILING = 1.03;

/** OCV reached at SOC_FLOOR / above the 100 % value at SOC_CEILING: the collapse and the rise. */
const COLLAPSE_TO_V = 0.5;
const OVERCHARGE_RISE_V = 1.5;

/** [SOC, OCV V] breakpoints on 0..1, strictly increasing in both. */
type Breakpoints = readonly (readonly [number, number])[];

const NMC: Breakpoints = [
  [0, 3.0],
  [0.02, 3.3],
  [0.05, 3.45],
  [0.1, 3.55],
  [0.15, 3.6],
  [0.2, 3.63],
  [0.3, 3.68],
  [0.4, 3.73],
  [0.5, 3.79],
  [0.6, 3.86],
  [0.7, 3.94],
  [0.8, 4.02],
  [0.9, 4.1],
  [0.95, 4.15],
  [1, 4.2],
];

const LFP: Breakpoints = [
  [0, 2.5],
  [0.02, 2.9],
  [0.05, 3.15],
  [0.1, 3.22],
  [0.2, 3.26],
  [0.3, 3.28],
  [0.4, 3.29],
  [0.5, 3.295],
  [0.6, 3.3],
  [0.7, 3.32],
  [0.8, 3.33],
  [0.9, 3.335],
  [0.95, 3.35],
  [0.98, 3.4],
  [1, 3.6],
];

const ASSLB_SULFIDE: Breakpoints = [
  [0, 2.9],
  [0.02, 3.2],
  [0.05, 3.4],
  [0.1, 3.52],
  [0.2, 3.6],
  [0.3, 3.66],
  [0.4, 3.71],
  [0.5, 3.77],
  [0.6, 3.84],
  [0.7, 3.92],
  [0.8, 4.01],
  [0.9, 4.1],
  [0.95, 4.17],
  [1, 4.25],
];

/** Resolution of the uniform lookup grid; every breakpoint above lies on it, so lookup is exact. */
const GRID_STEP = 0.001;
const GRID_INV_STEP = 1 / GRID_STEP;
const GRID_POINTS = Math.round((SOC_CEILING - SOC_FLOOR) / GRID_STEP) + 1;

/** A curve resampled on a uniform SOC grid, so a lookup is one multiply and one interpolation. */
export interface OcvCurve {
  readonly chemistry: Chemistry;
  /** OCV at SOC 0 and SOC 1, V. */
  readonly emptyV: number;
  readonly fullV: number;
  readonly grid: Float64Array;
}

function buildCurve(chemistry: Chemistry, points: Breakpoints): OcvCurve {
  for (let i = 1; i < points.length; i++) {
    const [s0, v0] = points[i - 1] as readonly [number, number];
    const [s1, v1] = points[i] as readonly [number, number];
    if (!(s1 > s0 && v1 > v0)) throw new Error(`OCV table of ${chemistry} is not monotonic at SOC ${s1}`);
  }
  const emptyV = (points[0] as readonly [number, number])[1];
  const fullV = (points[points.length - 1] as readonly [number, number])[1];
  const grid = new Float64Array(GRID_POINTS);
  let seg = 0;
  for (let k = 0; k < GRID_POINTS; k++) {
    const soc = SOC_FLOOR + k * GRID_STEP;
    if (soc < 0) {
      grid[k] = emptyV + (soc / -SOC_FLOOR) * (emptyV - COLLAPSE_TO_V);
    } else if (soc > 1) {
      grid[k] = fullV + ((soc - 1) / (SOC_CEILING - 1)) * OVERCHARGE_RISE_V;
    } else {
      while (seg < points.length - 2 && soc > (points[seg + 1] as readonly [number, number])[0]) seg++;
      const [s0, v0] = points[seg] as readonly [number, number];
      const [s1, v1] = points[seg + 1] as readonly [number, number];
      grid[k] = v0 + ((soc - s0) / (s1 - s0)) * (v1 - v0);
    }
  }
  return { chemistry, emptyV, fullV, grid };
}

const CURVES: Record<Chemistry, OcvCurve> = {
  "li-ion-nmc": buildCurve("li-ion-nmc", NMC),
  "li-ion-lfp": buildCurve("li-ion-lfp", LFP),
  "asslb-sulfide": buildCurve("asslb-sulfide", ASSLB_SULFIDE),
};

/** Returns the OCV curve of a chemistry. */
export function ocvCurve(chemistry: Chemistry): OcvCurve {
  return CURVES[chemistry];
}

function gridPosition(soc: number): number {
  const x = (soc - SOC_FLOOR) * GRID_INV_STEP;
  if (x <= 0) return 0;
  if (x >= GRID_POINTS - 1) return GRID_POINTS - 1 - 1e-9;
  return x;
}

/** Returns the open-circuit voltage at `soc` (clamped to SOC_FLOOR..SOC_CEILING), V. */
export function ocvAt(curve: OcvCurve, soc: number): number {
  const x = gridPosition(soc);
  const i = x | 0;
  const g = curve.grid;
  const v0 = g[i] as number;
  return v0 + ((g[i + 1] as number) - v0) * (x - i);
}

/** Returns dOCV/dSOC at `soc`, V per unit SOC (the local slope of the table). */
export function ocvSlopeAt(curve: OcvCurve, soc: number): number {
  const i = gridPosition(soc) | 0;
  const g = curve.grid;
  return ((g[i + 1] as number) - (g[i] as number)) * GRID_INV_STEP;
}

/** Returns the SOC whose OCV is `volts` (inverse lookup by bisection; for set-up, not the hot path). */
export function socAtOcv(curve: OcvCurve, volts: number): number {
  let lo = SOC_FLOOR;
  let hi = SOC_CEILING;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (ocvAt(curve, mid) < volts) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
