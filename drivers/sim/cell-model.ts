/**
 * Equivalent-circuit cell: OCV(SOC) in series with R0 and two RC pairs, coulombic SOC, and a lumped
 * thermal mass coupled to the air around the cell.
 *
 *   V = OCV(SOC) + V1 + V2 + I·R0      (positive I = charge, so charging raises V)
 *   dSOC/dt = I / (3600·Q)
 *   dVk/dt  = (I·Rk − Vk) / τk           (k = 1 fast charge transfer, 2 slow diffusion;
 *                                         R1, R2 rise toward empty, see depletionFactor)
 *   C·dT/dt = I²R0 + V1²/R1 + V2²/R2 (+ runaway heat) − hA·(T − T_air)
 *
 * Every resistance follows Arrhenius in the cell temperature, R(T) = R25·exp(Ea/R·(1/T − 1/298.15)).
 * The RC time constants are held fixed (the capacitances scale inversely), which keeps the sub-step
 * bound independent of temperature.
 *
 * Integration is exact for a current held constant over a sub-step (exponential RC and thermal
 * updates), so any sub-step is stable. Voltage-limited modes (CV, clamps, CC-CV) solve the current
 * that puts the terminal voltage on its target at the END of the sub-step,
 *   I = (Vset − OCV − V1·e1 − V2·e2) / (R0 + R1(1−e1) + R2(1−e2) + dOCV/dSOC·dt/(3600Q)),
 * which reduces to (Vset − OCV − V1 − V2)/R0 as dt → 0 and, unlike the explicit form, never rings.
 * A second pass replaces dOCV/dSOC by the OCV secant over the step just chosen, so constant power
 * and clamps stay exact across the table's breakpoints. One sub-step costs a handful of exp() and
 * table lookups: about 0.1 µs.
 */
import type { Chemistry, CyclerSetpoint } from "../capabilities.js";
import { type OcvCurve, ocvAt, ocvCurve, ocvSlopeAt, SOC_CEILING, SOC_FLOOR } from "./ocv-curves.js";

const GAS_CONSTANT = 8.314;
const T_REF_K = 298.15;
const KELVIN = 273.15;
/** A burning cell saturates here; the model stays finite whatever the runaway knob says. */
const MAX_CELL_C = 800;
/** Convective film coefficient in a fan-stirred chamber, W/(m²·K). */
const FILM_COEFFICIENT = 15;
/** Surface area per mass^(2/3) fitted to an 18650 (0.0042 m² at 46 g), m²/kg^(2/3). */
const AREA_PER_MASS_2_3 = 0.0327;

/** Per-chemistry constants; resistances are for a 1 Ah cell at 25 °C and scale with 1/capacity. */
interface ChemistryConstants {
  r0OhmAh: number;
  r1OhmAh: number;
  r2OhmAh: number;
  tau1S: number;
  tau2S: number;
  /** Activation energies of R0, R1, R2, J/mol. */
  activationJPerMol: [number, number, number];
  nominalV: number;
  specificEnergyWhPerKg: number;
  heatCapacityJPerKgK: number;
}

/*
 * Activation energies. Between 25 °C and −20 °C, 1/253.15 K − 1/298.15 K = 5.962e-4 1/K.
 *
 * Liquid electrolytes: 25 kJ/mol for R0 (electrolyte conduction), 30 kJ/mol for charge transfer
 * and diffusion: e^(25000/8.314 · 5.962e-4) = e^1.79 ≈ 6× and e^2.15 ≈ 8.6× at −20 °C.
 *
 * Sulfide solid electrolyte: conductivity falls up to two orders of magnitude from 25 to −20 °C.
 *   a factor of 100 would need Ea = 8.314 · ln(100) / 5.962e-4 = 8.314 · 4.605 / 5.962e-4 ≈ 64 kJ/mol
 *   chosen: Ea = 50 kJ/mol → e^(50000/8.314 · 5.962e-4) = e^3.586 ≈ 36× (1.56 decades) at −20 °C,
 *   and e^(−50000/8.314 · (1/298.15 − 1/333.15)) = e^−2.12 ≈ 0.12× at 60 °C.
 * 50 kJ/mol lies between the ~0.3–0.4 eV (29–39 kJ/mol) of bulk argyrodite conductivity and the
 * steeper kinetics of the cathode/electrolyte interfaces in a composite cathode. The sulfide cell
 * also carries a large slow (diffusion) resistance, so cold cells lose capacity gradually as the
 * cathode depletes instead of all at once: a 1 Ah cell at C/3 gives ≈ 0.64 Ah at −20 °C against
 * ≈ 0.99 Ah at 60 °C (self-heating included).
 */
const CHEMISTRY: Record<Chemistry, ChemistryConstants> = {
  "li-ion-nmc": {
    r0OhmAh: 0.075,
    r1OhmAh: 0.045,
    r2OhmAh: 0.06,
    tau1S: 8,
    tau2S: 900,
    activationJPerMol: [25_000, 30_000, 30_000],
    nominalV: 3.65,
    specificEnergyWhPerKg: 240,
    heatCapacityJPerKgK: 1000,
  },
  "li-ion-lfp": {
    r0OhmAh: 0.06,
    r1OhmAh: 0.03,
    r2OhmAh: 0.05,
    tau1S: 10,
    tau2S: 300,
    activationJPerMol: [25_000, 30_000, 30_000],
    nominalV: 3.2,
    specificEnergyWhPerKg: 140,
    heatCapacityJPerKgK: 1100,
  },
  "asslb-sulfide": {
    r0OhmAh: 0.04,
    r1OhmAh: 0.03,
    r2OhmAh: 0.12,
    tau1S: 15,
    tau2S: 500,
    activationJPerMol: [50_000, 50_000, 50_000],
    nominalV: 3.7,
    specificEnergyWhPerKg: 150,
    heatCapacityJPerKgK: 900,
  },
};

/** What the model needs to know about a cell; a CellSpec satisfies it. */
export interface CellModelSpec {
  chemistry: Chemistry;
  capacityAh: number;
}

/** Parameters of one cell, derived from its chemistry and capacity. */
export interface CellParameters {
  chemistry: Chemistry;
  capacityAh: number;
  /** R0, R1, R2 at 25 °C, Ω. */
  r0Ohm: number;
  r1Ohm: number;
  r2Ohm: number;
  tau1S: number;
  tau2S: number;
  activationJPerMol: readonly [number, number, number];
  massKg: number;
  /** Heat capacity, J/K. */
  heatCapacityJPerK: number;
  /** Convective conductance to the air, W/K. */
  conductanceWPerK: number;
  /** Thermal time constant, s (heat capacity / conductance). */
  thermalTauS: number;
}

/** Derives the cell's parameters from its chemistry and capacity (R ∝ 1/capacity, mass ∝ capacity). */
export function cellParameters(spec: CellModelSpec): CellParameters {
  const c = CHEMISTRY[spec.chemistry];
  if (!c) throw new RangeError(`unknown chemistry "${spec.chemistry}"`);
  const q = spec.capacityAh;
  if (!(q > 0) || !Number.isFinite(q)) throw new RangeError(`capacityAh must be > 0, got ${q}`);
  const massKg = (q * c.nominalV) / c.specificEnergyWhPerKg;
  const heatCapacityJPerK = massKg * c.heatCapacityJPerKgK;
  const conductanceWPerK = FILM_COEFFICIENT * AREA_PER_MASS_2_3 * massKg ** (2 / 3);
  return {
    chemistry: spec.chemistry,
    capacityAh: q,
    r0Ohm: c.r0OhmAh / q,
    r1Ohm: c.r1OhmAh / q,
    r2Ohm: c.r2OhmAh / q,
    tau1S: c.tau1S,
    tau2S: c.tau2S,
    activationJPerMol: c.activationJPerMol,
    massKg,
    heatCapacityJPerK,
    conductanceWPerK,
    thermalTauS: heatCapacityJPerK / conductanceWPerK,
  };
}

/** Returns the Arrhenius multiplier of a resistance at `celsius` relative to 25 °C. */
export function arrheniusFactor(activationJPerMol: number, celsius: number): number {
  const kelvin = Math.max(celsius, -150) + KELVIN;
  return Math.exp((activationJPerMol / GAS_CONSTANT) * (1 / kelvin - 1 / T_REF_K));
}

/** Extra heat of a cell in thermal runaway: powerW at triggerC, doubling every doublingC above it. */
export interface RunawayHeat {
  triggerC: number;
  powerW: number;
  doublingC: number;
}

export interface CellInitialState {
  soc: number;
  temperatureC: number;
}

const REST: CyclerSetpoint = { mode: "rest" };

/** One simulated cell on one channel, with whatever the channel currently applies to it. */
export class CellModel {
  readonly params: CellParameters;
  /** State of charge, 0..1 nominal; SOC_FLOOR..SOC_CEILING physically. */
  soc: number;
  temperatureC: number;
  /** Polarisation voltages of the two RC pairs, V. */
  v1 = 0;
  v2 = 0;
  /** Current and terminal voltage of the latest operating point. */
  currentA = 0;
  voltageV: number;
  /** True while a voltage limit (CV, clamp, CC-CV hold) sets the current. */
  voltageLimited = false;
  runaway: RunawayHeat | undefined;

  private readonly curve: OcvCurve;
  private readonly chargePerSocC: number;
  private drive: CyclerSetpoint = REST;
  private driveElapsedS = 0;
  private profileIndex = 0;
  // Resistances at the cached temperature and decay factors at the cached sub-step.
  private resistanceAtC = Number.NaN;
  private r0 = 0;
  private r1 = 0;
  private r2 = 0;
  // R1 and R2 with the low-SOC rise applied, as used by the latest solve().
  private r1s = 0;
  private r2s = 0;
  private decayForS = Number.NaN;
  private e1 = 1;
  private e2 = 1;
  private eThermal = 1;
  // Set by solve(): the target voltage when voltage-limited.
  private targetV = 0;

  constructor(spec: CellModelSpec, initial: CellInitialState) {
    this.params = cellParameters(spec);
    this.curve = ocvCurve(spec.chemistry);
    this.chargePerSocC = 3600 * this.params.capacityAh;
    this.soc = clamp(initial.soc, SOC_FLOOR, SOC_CEILING);
    this.temperatureC = initial.temperatureC;
    this.voltageV = ocvAt(this.curve, this.soc);
  }

  /** Smallest time constant of the cell's dynamics, s (bounds the world's sub-step). */
  get fastestTauS(): number {
    return Math.min(this.params.tau1S, this.params.tau2S, this.params.thermalTauS);
  }

  get setpoint(): CyclerSetpoint {
    return this.drive;
  }

  /** Returns the open-circuit voltage at the present SOC, V. */
  get ocvV(): number {
    return ocvAt(this.curve, this.soc);
  }

  /** Returns the DC resistance (R0 + R1 + R2) at `celsius` above half charge, Ω. */
  dcResistanceAt(celsius: number): number {
    const p = this.params;
    const [a0, a1, a2] = p.activationJPerMol;
    return (
      p.r0Ohm * arrheniusFactor(a0, celsius) +
      p.r1Ohm * arrheniusFactor(a1, celsius) +
      p.r2Ohm * arrheniusFactor(a2, celsius)
    );
  }

  /** Switches to a new set point; profile time restarts at zero. Updates the operating point. */
  setDrive(setpoint: CyclerSetpoint): void {
    this.drive = setpoint;
    this.driveElapsedS = 0;
    this.profileIndex = 0;
    this.solve(0);
    this.voltageV = this.voltageLimited ? this.targetV : this.terminalVoltage();
  }

  /** Advances the cell by `dtS` seconds with the air around it at `airC`. */
  step(dtS: number, airC: number): void {
    if (!(dtS > 0)) return;
    if (this.drive.mode !== "profile") {
      this.solve(dtS);
      this.commit(dtS, airC);
      return;
    }
    let remaining = dtS;
    // Split the sub-step at profile breakpoints so each piece has one current.
    while (remaining > 1e-12) {
      const boundary = this.nextProfileBoundaryS();
      const piece = Math.min(remaining, boundary - this.driveElapsedS);
      this.solve(piece);
      this.commit(piece, airC);
      remaining -= piece;
    }
  }

  private nextProfileBoundaryS(): number {
    const points = (this.drive as Extract<CyclerSetpoint, { mode: "profile" }>).points;
    while (
      this.profileIndex + 1 < points.length &&
      (points[this.profileIndex + 1] as { tS: number }).tS <= this.driveElapsedS + 1e-9
    ) {
      this.profileIndex++;
    }
    const next = points[this.profileIndex + 1];
    return next ? next.tS : Number.POSITIVE_INFINITY;
  }

  private profileCurrent(): number {
    const points = (this.drive as Extract<CyclerSetpoint, { mode: "profile" }>).points;
    this.nextProfileBoundaryS();
    return points[this.profileIndex]?.currentA ?? 0;
  }

  private refreshResistances(): void {
    if (Math.abs(this.temperatureC - this.resistanceAtC) < 0.02) return;
    const p = this.params;
    const [a0, a1, a2] = p.activationJPerMol;
    this.r0 = p.r0Ohm * arrheniusFactor(a0, this.temperatureC);
    this.r1 = p.r1Ohm * arrheniusFactor(a1, this.temperatureC);
    this.r2 = p.r2Ohm * arrheniusFactor(a2, this.temperatureC);
    this.resistanceAtC = this.temperatureC;
  }

  private refreshDecay(dtS: number): void {
    if (dtS === this.decayForS) return;
    this.e1 = Math.exp(-dtS / this.params.tau1S);
    this.e2 = Math.exp(-dtS / this.params.tau2S);
    this.eThermal = Math.exp(-dtS / this.params.thermalTauS);
    this.decayForS = dtS;
  }

  /** Chooses the current for the next `dtS` seconds from the set point (dtS = 0: instantaneous). */
  private solve(dtS: number): void {
    this.refreshResistances();
    this.refreshDecay(dtS);
    const depletion = depletionFactor(this.soc);
    this.r1s = this.r1 * depletion;
    this.r2s = this.r2 * depletion;
    const ocv = ocvAt(this.curve, this.soc);
    // End-of-step terminal voltage is e + I·reff for a current I held over the step.
    const e = ocv + this.v1 * this.e1 + this.v2 * this.e2;
    const rc = this.r0 + this.r1s * (1 - this.e1) + this.r2s * (1 - this.e2);
    if (dtS === 0) {
      this.currentA = this.choose(e, this.r0);
      return;
    }
    const socPerA = dtS / this.chargePerSocC;
    const i = this.choose(e, rc + ocvSlopeAt(this.curve, this.soc) * socPerA);
    if (i === 0) {
      this.currentA = 0;
      return;
    }
    // Second pass with the OCV secant over the step just chosen (exact across table breakpoints).
    const dSoc = i * socPerA;
    const secant = (ocvAt(this.curve, this.soc + dSoc) - ocv) / dSoc;
    this.currentA = this.choose(e, rc + secant * socPerA);
  }

  /** Returns the current the set point asks for, given the step's source voltage e and resistance reff. */
  private choose(e: number, reff: number): number {
    this.voltageLimited = false;
    const d = this.drive;
    switch (d.mode) {
      case "rest":
        return 0;
      case "cc":
        return this.clamped(d.currentA, d.minV, d.maxV, e, reff);
      case "cv": {
        const wanted = (d.voltageV - e) / reff;
        const i = clamp(wanted, -d.dischargeLimitA, d.chargeLimitA);
        this.voltageLimited = i === wanted;
        this.targetV = d.voltageV;
        return i;
      }
      case "cccv": {
        const i = d.currentA;
        const past = i >= 0 ? e + i * reff > d.voltageV : e + i * reff < d.voltageV;
        return past ? this.hold(d.voltageV, i, e, reff) : i;
      }
      case "cp":
        return this.clamped(powerCurrent(d.powerW, e, reff), d.minV, d.maxV, e, reff);
      case "profile":
        return this.clamped(this.profileCurrent(), d.minV, d.maxV, e, reff);
    }
  }

  /** Applies a requested current unless it would carry the terminal past a clamp; then holds the clamp. */
  private clamped(i: number, minV: number, maxV: number, e: number, reff: number): number {
    const v = e + i * reff;
    if (v > maxV) return this.hold(maxV, i, e, reff);
    if (v < minV) return this.hold(minV, i, e, reff);
    return i;
  }

  /** Holds `volts` with a current of the same sign as `i` and no larger (an instrument's CV limit). */
  private hold(volts: number, i: number, e: number, reff: number): number {
    const wanted = (volts - e) / reff;
    const held = clamp(wanted, Math.min(0, i), Math.max(0, i));
    this.voltageLimited = held === wanted;
    this.targetV = volts;
    return held;
  }

  private terminalVoltage(): number {
    return ocvAt(this.curve, this.soc) + this.v1 + this.v2 + this.currentA * this.r0;
  }

  /** Integrates SOC, the RC pairs and temperature over `dtS` with the current solve() chose. */
  private commit(dtS: number, airC: number): void {
    const i = this.currentA;
    const p = this.params;
    this.soc = clamp(this.soc + (i * dtS) / this.chargePerSocC, SOC_FLOOR, SOC_CEILING);
    this.v1 = this.v1 * this.e1 + i * this.r1s * (1 - this.e1);
    this.v2 = this.v2 * this.e2 + i * this.r2s * (1 - this.e2);
    this.driveElapsedS += dtS;
    let heatW = i * i * this.r0 + (this.v1 * this.v1) / this.r1s + (this.v2 * this.v2) / this.r2s;
    const rw = this.runaway;
    if (rw && this.temperatureC >= rw.triggerC) {
      heatW += rw.powerW * 2 ** Math.min((this.temperatureC - rw.triggerC) / rw.doublingC, 40);
    }
    const settleC = airC + heatW / p.conductanceWPerK;
    this.temperatureC = Math.min(settleC + (this.temperatureC - settleC) * this.eThermal, MAX_CELL_C);
    this.voltageV = this.voltageLimited ? this.targetV : this.terminalVoltage();
  }
}

/**
 * Returns the current that draws `powerW` (signed) from a source `e` behind `reff`: the root of
 * reff·I² + e·I − P = 0 nearest zero. Beyond the maximum power the cell can give, returns the
 * current of that maximum (I = −e/2reff); the voltage clamp then takes over.
 */
export function powerCurrent(powerW: number, e: number, reff: number): number {
  if (powerW === 0 || !(e > 0)) return 0;
  const disc = e * e + 4 * reff * powerW;
  if (disc <= 0) return -e / (2 * reff);
  return (2 * powerW) / (e + Math.sqrt(disc));
}

/**
 * Returns the rise of the charge-transfer and diffusion resistances toward empty (depleted
 * particles): ×4 at 0 % SOC, ×2.5 at 10 %, ×1.6 at 25 %, ×1.1 at 50 %, ≈ 1 when full.
 */
export function depletionFactor(soc: number): number {
  return 1 + 3 * Math.exp(-Math.max(soc, 0) / 0.15);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}
