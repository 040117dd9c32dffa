/**
 * Equivalent-circuit cell with solid diffusion: OCV at the particle surface in series with the
 * contact resistance, R0 and two RC pairs; coulombic bulk SOC; a lumped thermal mass coupled to
 * the air around the cell; a state of health that fades with throughput and time (cell-ageing.ts).
 * Parameters and their sources: cell-parameters.ts.
 *
 *   V = OCV(SOCs) + V1 + V2 + I·(Rfloor + R0)   (positive I = charge, so charging raises V)
 *   SOCs = SOC + X                            (surface SOC: bulk plus the diffusion lag)
 *   dSOC/dt = I / (3600·Q)
 *   dX/dt   = (g·I − X) / τx                  (g = (τ/15)/(3600·Q), τx = τ/20.19; τ = Rp²/Ds)
 *   dVk/dt  = (I·Rk − Vk) / τk                (k = 1 charge transfer, rising as the surface empties;
 *                                             k = 2 electrolyte concentration polarisation)
 *   C·dT/dt = I²(Rfloor+R0) + V1²/R1 + V2²/R2 + I·(OCV(SOCs) − OCV(SOC)) (+ runaway) − hA·(T − T_air)
 *
 * R0, R1, R2 and τ follow Arrhenius in the cell temperature, x(T) = x25·exp(Ea/R·(1/T − 1/298.15));
 * Rfloor (tabs, collectors, contacts) does not. Q shrinks and R0, R1, R2 grow as the cell ages.
 * A discharge ends because the surface SOC reaches the OCV's knee while bulk charge is left in the
 * particles; at rest X decays and the voltage relaxes toward OCV(SOC).
 *
 * Integration is exact for a current held constant over a sub-step (exponential RC, lag and thermal
 * updates), so any sub-step is stable. Voltage-limited modes (CV, clamps, CC-CV) solve the current
 * that puts the terminal voltage on its target at the END of the sub-step,
 *   I = (Vset − OCV(SOC + X·ex) − V1·e1 − V2·e2) / (Rs + R1(1−e1) + R2(1−e2) + dOCV/dSOC·(dt/(3600Q) + g(1−ex))),
 * with Rs = Rfloor + R0, which reduces to (Vset − OCV(SOCs) − V1 − V2)/Rs as dt → 0 and, unlike the explicit form, never rings.
 * A second pass replaces dOCV/dSOC by the OCV secant over the step just chosen, so constant power
 * and clamps stay exact across the table's breakpoints. One sub-step costs a handful of exp() and
 * table lookups.
 */
import type { CyclerSetpoint } from "../capabilities.js";
import { CellAgeing, type CellHealth } from "./cell-ageing.js";
import {
  arrheniusFactor,
  type CellModelSpec,
  type CellParameters,
  cellParameters,
  lagRelaxationS,
  steadyLagS,
} from "./cell-parameters.js";
import { type OcvCurve, ocvAt, ocvCurve, ocvSlopeAt, SOC_CEILING, SOC_FLOOR } from "./ocv-curves.js";

export {
  arrheniusFactor,
  type CellModelSpec,
  type CellParameters,
  cellParameters,
} from "./cell-parameters.js";

/** A burning cell saturates here; the model stays finite whatever the runaway knob says. */
const MAX_CELL_C = 800;
/** Temperature-dependent values are recomputed when the cell moves by more than this, °C. */
const TEMPERATURE_TOLERANCE_C = 0.02;
/** ... and when ageing has moved the resistance multiplier by more than this. */
const AGEING_TOLERANCE = 1e-4;

/** Extra heat of a cell in thermal runaway: powerW at triggerC, doubling every doublingC above it. */
export interface RunawayHeat {
  triggerC: number;
  powerW: number;
  doublingC: number;
}

export interface CellInitialState {
  soc: number;
  temperatureC: number;
  /** What the cell has been through; default fresh. */
  health?: CellHealth;
}

const REST: CyclerSetpoint = { mode: "rest" };

/** One simulated cell on one channel, with whatever the channel currently applies to it. */
export class CellModel {
  readonly params: CellParameters;
  /**
   * Bulk state of charge in units of the NOMINAL capacity, counted coulombically (1 = full). An aged
   * cell is still full at 1 and empty at 1 − capacity factor: capacity fade takes the bottom of the
   * window (lost cyclable lithium). `stateOfCharge` is the fraction of the present capacity.
   */
  soc: number;
  /** Surface-minus-bulk SOC of the particles (negative while discharging). */
  lag = 0;
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
  /** State of health: capacity fade and resistance growth. */
  readonly ageing: CellAgeing;

  private readonly curve: OcvCurve;
  private readonly chargePerSocC: number;
  /** 1 / capacity factor, and the nominal-SOC bounds of the physical window, for the present fade. */
  private invCapacity = 1;
  private socMin = SOC_FLOOR;
  private socMax = SOC_CEILING;
  private drive: CyclerSetpoint = REST;
  private driveElapsedS = 0;
  private profileIndex = 0;
  // Temperature- and ageing-dependent values at the cached temperature and resistance multiplier.
  private cachedAtC = Number.NaN;
  private cachedAgeing = Number.NaN;
  private rs = 0;
  private r1 = 0;
  private r2 = 0;
  private lagS = 0;
  private lagTauS = 1;
  // R1 with the low-SOC rise applied, and the lag gain (SOC per A), as used by the latest solve().
  private r1s = 0;
  private lagGain = 0;
  // Decay factors at the cached sub-step (and lag time constant).
  private decayForS = Number.NaN;
  private decayForLagTauS = Number.NaN;
  private e1 = 1;
  private e2 = 1;
  private eLag = 1;
  private eThermal = 1;
  // Set by solve(): the target voltage when voltage-limited.
  private targetV = 0;

  constructor(spec: CellModelSpec, initial: CellInitialState) {
    this.params = cellParameters(spec);
    this.curve = ocvCurve(spec.chemistry);
    this.ageing = new CellAgeing(this.params.ageing, this.params.capacityAh, initial.health);
    this.chargePerSocC = 3600 * this.params.capacityAh;
    this.updateCapacity();
    this.soc = clamp(initial.soc, this.socMin, this.socMax);
    this.temperatureC = initial.temperatureC;
    this.voltageV = ocvAt(this.curve, this.stateOfCharge);
  }

  /** Smallest time constant the world's sub-step must resolve, s (the lag is integrated exactly). */
  get fastestTauS(): number {
    return Math.min(this.params.tau1S, this.params.thermalTauS);
  }

  get setpoint(): CyclerSetpoint {
    return this.drive;
  }

  /** Returns the open-circuit voltage of the particle surface (ocvV + v1 + v2 is the source behind Rfloor + R0), V. */
  get ocvV(): number {
    return ocvAt(this.curve, this.stateOfCharge + this.lag);
  }

  /** Bulk state of charge as a fraction of the present (aged) capacity; SOC_FLOOR..SOC_CEILING physically. */
  get stateOfCharge(): number {
    return 1 - (1 - this.soc) * this.invCapacity;
  }

  /** Returns the open-circuit voltage of the bulk SOC, where the cell relaxes to at rest, V. */
  get restOcvV(): number {
    return ocvAt(this.curve, this.stateOfCharge);
  }

  /** Surface SOC of the particles (what the OCV at the terminals follows). */
  get surfaceSoc(): number {
    return this.stateOfCharge + this.lag;
  }

  /** Present capacity, Ah (nominal less fade). */
  get capacityAh(): number {
    return this.params.capacityAh * this.ageing.capacityFactor;
  }

  get health(): CellHealth {
    return this.ageing.health;
  }

  /** Returns the series resistance (floor + R0 + R1 + R2, aged) at `celsius` above half charge, Ω. */
  dcResistanceAt(celsius: number): number {
    const p = this.params;
    const [a0, a1] = p.activationJPerMol;
    const aged = this.ageing.resistanceFactor;
    const electrolyte = (p.r0Ohm + p.r2Ohm) * arrheniusFactor(a0, celsius);
    return p.floorOhm + aged * (electrolyte + p.r1Ohm * arrheniusFactor(a1, celsius));
  }

  /**
   * The pulse resistance of the cell as it is now (at rest): ΔV/ΔI that a small current step would
   * show `tS` seconds after it, from the same terms the model integrates — the series resistance,
   * both RC pairs charging, and the OCV moved by the charge passed and the surface lag. Ω.
   */
  pulseResistanceOhm(tS: number): number {
    this.refreshTemperatureTerms();
    const p = this.params;
    const surface = this.stateOfCharge + this.lag;
    const presentChargeC = this.chargePerSocC / this.invCapacity;
    const socPerA = tS / presentChargeC + (this.lagS / presentChargeC) * (1 - Math.exp(-tS / this.lagTauS));
    return (
      this.rs +
      this.r1 * depletionFactor(surface) * (1 - Math.exp(-tS / p.tau1S)) +
      this.r2 * (1 - Math.exp(-tS / p.tau2S)) +
      ocvSlopeAt(this.curve, surface) * socPerA
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

  private refreshTemperatureTerms(): void {
    const aged = this.ageing.resistanceFactor;
    if (
      Math.abs(this.temperatureC - this.cachedAtC) < TEMPERATURE_TOLERANCE_C &&
      Math.abs(aged - this.cachedAgeing) < AGEING_TOLERANCE
    )
      return;
    const p = this.params;
    const [a0, a1, ad] = p.activationJPerMol;
    const electrolyte = aged * arrheniusFactor(a0, this.temperatureC);
    this.rs = p.floorOhm + p.r0Ohm * electrolyte;
    this.r2 = p.r2Ohm * electrolyte;
    this.r1 = aged * p.r1Ohm * arrheniusFactor(a1, this.temperatureC);
    const diffusionS = p.diffusionTimeS * arrheniusFactor(ad, this.temperatureC);
    this.lagS = steadyLagS(diffusionS);
    this.lagTauS = lagRelaxationS(diffusionS);
    this.cachedAtC = this.temperatureC;
    this.cachedAgeing = aged;
  }

  private refreshDecay(dtS: number): void {
    if (dtS === this.decayForS && this.lagTauS === this.decayForLagTauS) return;
    this.e1 = Math.exp(-dtS / this.params.tau1S);
    this.e2 = Math.exp(-dtS / this.params.tau2S);
    this.eLag = Math.exp(-dtS / this.lagTauS);
    this.eThermal = Math.exp(-dtS / this.params.thermalTauS);
    this.decayForS = dtS;
    this.decayForLagTauS = this.lagTauS;
  }

  /** Chooses the current for the next `dtS` seconds from the set point (dtS = 0: instantaneous). */
  private solve(dtS: number): void {
    this.refreshTemperatureTerms();
    this.refreshDecay(dtS);
    const fill = this.stateOfCharge;
    this.r1s = this.r1 * depletionFactor(fill + this.lag);
    // The lag is in units of the present capacity, as is the OCV's SOC axis.
    const presentChargeC = this.chargePerSocC / this.invCapacity;
    this.lagGain = this.lagS / presentChargeC;
    // Surface SOC at the end of the step if no current flowed; the current moves it by socPerA·I.
    const surface = fill + this.lag * this.eLag;
    const ocv = ocvAt(this.curve, surface);
    // End-of-step terminal voltage is e + I·reff for a current I held over the step.
    const e = ocv + this.v1 * this.e1 + this.v2 * this.e2;
    const rc = this.rs + this.r1s * (1 - this.e1) + this.r2 * (1 - this.e2);
    if (dtS === 0) {
      this.currentA = this.choose(e, this.rs);
      return;
    }
    const socPerA = dtS / presentChargeC + this.lagGain * (1 - this.eLag);
    const i = this.choose(e, rc + ocvSlopeAt(this.curve, surface) * socPerA);
    if (i === 0) {
      this.currentA = 0;
      return;
    }
    // Second pass with the OCV secant over the step just chosen (exact across table breakpoints).
    const dSoc = i * socPerA;
    const secant = (ocvAt(this.curve, surface + dSoc) - ocv) / dSoc;
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

  private updateCapacity(): void {
    const factor = this.ageing.capacityFactor;
    this.invCapacity = 1 / factor;
    this.socMin = 1 - (1 - SOC_FLOOR) * factor;
    this.socMax = 1 + (SOC_CEILING - 1) * factor;
  }

  private terminalVoltage(): number {
    return ocvAt(this.curve, this.stateOfCharge + this.lag) + this.v1 + this.v2 + this.currentA * this.rs;
  }

  /** Integrates SOC, the lag, the RC pairs, temperature and ageing over `dtS` with the current solve() chose. */
  private commit(dtS: number, airC: number): void {
    const i = this.currentA;
    const p = this.params;
    this.soc = clamp(this.soc + (i * dtS) / this.chargePerSocC, this.socMin, this.socMax);
    const fill = this.stateOfCharge;
    // The surface stays within the OCV table's physical range (a cell driven far past its limits).
    this.lag = clamp(
      this.lag * this.eLag + i * this.lagGain * (1 - this.eLag),
      SOC_FLOOR - fill,
      SOC_CEILING - fill,
    );
    this.v1 = this.v1 * this.e1 + i * this.r1s * (1 - this.e1);
    this.v2 = this.v2 * this.e2 + i * this.r2 * (1 - this.e2);
    this.driveElapsedS += dtS;
    const ocvSurface = ocvAt(this.curve, fill + this.lag);
    const diffusionHeatW = i * (ocvSurface - ocvAt(this.curve, fill));
    let heatW =
      i * i * this.rs +
      (this.v1 * this.v1) / this.r1s +
      (this.v2 * this.v2) / this.r2 +
      Math.max(0, diffusionHeatW);
    const rw = this.runaway;
    if (rw && this.temperatureC >= rw.triggerC) {
      heatW += rw.powerW * 2 ** Math.min((this.temperatureC - rw.triggerC) / rw.doublingC, 40);
    }
    this.ageing.advance(dtS, i, this.temperatureC, fill);
    this.updateCapacity();
    const settleC = airC + heatW / p.conductanceWPerK;
    this.temperatureC = Math.min(settleC + (this.temperatureC - settleC) * this.eThermal, MAX_CELL_C);
    this.voltageV = this.voltageLimited ? this.targetV : ocvSurface + this.v1 + this.v2 + i * this.rs;
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
 * Returns the rise of the charge-transfer resistance as the particle surface empties (the exchange
 * current falls with the surface concentration): ×4 at 0 % surface SOC, ×2.5 at 10 %, ×1.6 at
 * 25 %, ×1.1 at 50 %, ≈ 1 when full.
 */
export function depletionFactor(soc: number): number {
  return 1 + 3 * Math.exp(-Math.max(soc, 0) / 0.15);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}
