/**
 * State of health of a simulated cell: capacity fade and resistance growth from cycling (charge
 * throughput) and from calendar time, both Arrhenius in the cell temperature.
 *
 *   cycle fade:     dL_cyc = k_cyc · A(Ea_cyc, T) · |I|·dt / (2·3600·Q₀)    (per equivalent full cycle)
 *   calendar fade:  L_cal = k_cal · √(∫ (A(Ea_cal, T) · SOC/0.5)² dt)        (√t at constant T, SOC)
 *   capacity        Q = Q₀ · (1 − L_cyc − L_cal)
 *   resistance      R = R₀ · (1 + g · (L_cyc + L_cal))                       (film growth with fade)
 *
 * The forms follow the semi-empirical ageing models fitted to cell test matrices: capacity loss
 * linear-to-sublinear in Ah throughput with an Arrhenius rate (Wang et al., "Cycle-life model for
 * graphite-LiFePO4 cells", J. Power Sources 196 (2011) 3942: Ea ≈ 31.5 kJ/mol), and calendar loss
 * growing with √t and Arrhenius in temperature (Schmalstieg et al., "A holistic aging model for
 * Li(NiMnCo)O2 based 18650 lithium-ion batteries", J. Power Sources 257 (2014) 325: Ea =
 * 6976 K · R ≈ 58 kJ/mol; its rate rises linearly with the cell voltage from zero at 3.15 V, near
 * empty, which is taken here as linear in SOC, 1 at 50 %; resistance grows roughly in step with
 * capacity fade). The √t law under a varying temperature and SOC is integrated exactly as the
 * square: d(L_cal²) = (k_cal·A·SOC/0.5)² dt. An empty cell does not calendar-age, so a cell left at
 * its cut-off (even in a hot chamber) does not creep below it.
 *
 * Both losses only grow, and each grows faster when hotter (Ea > 0), so more throughput or more heat
 * never gives more capacity; nor does a lower SOC at rest.
 */
import { arrheniusFactor } from "./cell-parameters.js";

/** Per-chemistry ageing rates, at 25 °C. */
export interface AgeingConstants {
  /** Capacity lost per equivalent full cycle (2·Q₀ of throughput), fraction. */
  cycleFadePerEfc: number;
  cycleActivationJPerMol: number;
  /** Capacity lost after one year at rest at 25 °C and 50 % SOC, fraction. */
  calendarFadePerYear: number;
  calendarActivationJPerMol: number;
  /** Relative resistance growth per unit of capacity fade (2: +40 % at 20 % fade). */
  resistanceGrowthPerFade: number;
}

const SECONDS_PER_YEAR = 365.25 * 86_400;
/** A dead cell keeps this much of its capacity, so the model stays finite whatever it went through. */
const MIN_CAPACITY_FACTOR = 0.05;
/**
 * Ageing stops accelerating above this temperature: a cell in thermal runaway is destroyed anyway,
 * and an unbounded Arrhenius factor at hundreds of °C would only produce numbers, not physics.
 */
const MAX_AGEING_C = 130;
/** SOC at which calendarFadePerYear applies. */
const CALENDAR_REFERENCE_SOC = 0.5;
/** Ageing rates are recomputed when the cell temperature moves by more than this, °C. */
const RATE_TOLERANCE_C = 0.05;

/** What a cell has been through so far; plain data so a test or a fixture can start an aged cell. */
export interface CellHealth {
  /** Capacity lost to cycling, fraction of the nominal capacity. */
  cycleFade: number;
  /** Capacity lost to time, fraction of the nominal capacity. */
  calendarFade: number;
}

export const FRESH: CellHealth = { cycleFade: 0, calendarFade: 0 };

export class CellAgeing {
  cycleFade: number;
  private calendarSquared: number;
  private ratesAtC = Number.NaN;
  /** Cycle fade per ampere-second, and calendar fade² per second, at ratesAtC. */
  private cyclePerAs = 0;
  private calendarSquaredPerS = 0;

  constructor(
    private readonly constants: AgeingConstants,
    private readonly nominalAh: number,
    start: CellHealth = FRESH,
  ) {
    this.cycleFade = Math.max(0, start.cycleFade);
    this.calendarSquared = Math.max(0, start.calendarFade) ** 2;
  }

  get calendarFade(): number {
    return Math.sqrt(this.calendarSquared);
  }

  get health(): CellHealth {
    return { cycleFade: this.cycleFade, calendarFade: this.calendarFade };
  }

  /** Remaining capacity as a fraction of the nominal capacity. */
  get capacityFactor(): number {
    return Math.max(MIN_CAPACITY_FACTOR, 1 - this.cycleFade - this.calendarFade);
  }

  /** Multiplier of the electrochemical resistances (not of the contacts and collectors). */
  get resistanceFactor(): number {
    return 1 + this.constants.resistanceGrowthPerFade * (1 - this.capacityFactor);
  }

  /** Ages the cell by `dtS` seconds at `currentA` (either sign), `celsius` and state of charge `soc` (0..1). */
  advance(dtS: number, currentA: number, celsius: number, soc: number): void {
    if (!(dtS > 0)) return;
    if (!(Math.abs(celsius - this.ratesAtC) <= RATE_TOLERANCE_C)) this.refreshRates(celsius);
    this.cycleFade += this.cyclePerAs * Math.abs(currentA) * dtS;
    const stress = soc <= 0 ? 0 : Math.min(soc, 1) / CALENDAR_REFERENCE_SOC;
    this.calendarSquared += this.calendarSquaredPerS * stress * stress * dtS;
  }

  private refreshRates(celsius: number): void {
    const c = this.constants;
    const t = Math.min(celsius, MAX_AGEING_C);
    this.cyclePerAs =
      (c.cycleFadePerEfc * arrheniusFactor(-c.cycleActivationJPerMol, t)) / (2 * 3600 * this.nominalAh);
    const calendarPerSqrtS =
      (c.calendarFadePerYear * arrheniusFactor(-c.calendarActivationJPerMol, t)) /
      Math.sqrt(SECONDS_PER_YEAR);
    this.calendarSquaredPerS = calendarPerSqrtS * calendarPerSqrtS;
    this.ratesAtC = celsius;
  }
}
