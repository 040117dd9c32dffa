/**
 * Parameter sets of the simulated chemistries, each on a published cell, scaled to the simulated
 * cell's capacity (resistances ∝ 1/capacity, diffusion time independent of capacity, mass ∝
 * capacity). What is taken from the source and what is fitted is said for each number.
 *
 * The model they feed (cell-model.ts) is an equivalent circuit with one solid-diffusion state:
 *   - the contacts/tabs/current collectors: a series resistance with no temperature dependence;
 *   - R0, the ionic (electrolyte / solid-electrolyte) resistance, Arrhenius;
 *   - R1‖C1, charge transfer, Arrhenius, rising toward an empty particle surface;
 *   - R2‖C2, concentration polarisation of the electrolyte (minutes), Arrhenius as R0;
 *   - solid diffusion in the limiting electrode as a spherical particle with a diffusion time
 *     τ = Rp²/Ds (Arrhenius): in the parabolic-profile approximation (Subramanian et al., J.
 *     Electrochem. Soc. 152 (2005) A2002) the surface SOC lags the bulk SOC by τ/15 · dSOC/dt at
 *     a steady current, and the lag relaxes with the slowest spherical mode, τ/μ₁² = τ/20.19.
 *     The OCV is taken at the surface SOC, so a cell reaches its cut-off because its particle
 *     surfaces empty (faster at high rate and in the cold), and relaxes toward the OCV of its bulk
 *     SOC afterwards.
 */
import type { Chemistry } from "../capabilities.js";
import type { AgeingConstants } from "./cell-ageing.js";

const GAS_CONSTANT = 8.314;
const T_REF_K = 298.15;
const KELVIN = 273.15;
/** Convective film coefficient in a fan-stirred chamber, W/(m²·K). */
const FILM_COEFFICIENT = 15;
/** Surface area per mass^(2/3) fitted to an 18650 (0.0042 m² at 46 g), m²/kg^(2/3). */
const AREA_PER_MASS_2_3 = 0.0327;
/** Slowest relaxation mode of diffusion in a sphere: μ₁ = 4.4934 (tan μ = μ), μ₁² = 20.19. */
const SPHERE_SLOWEST_MODE = 20.19;
/** Surface-to-bulk lag of the parabolic profile at a steady flux: τ/15 · dSOC/dt. */
const SPHERE_STEADY_LAG = 15;

/** Per-chemistry constants; resistances are for a 1 Ah cell at 25 °C (Ω·Ah) and scale with 1/capacity. */
export interface ChemistryConstants {
  /** Contacts, tabs and current collectors: no temperature dependence, Ω·Ah. */
  floorOhmAh: number;
  /** Ionic resistance (electrolyte or solid electrolyte), Ω·Ah. */
  r0OhmAh: number;
  /** Charge-transfer resistance, Ω·Ah, and its RC time constant, s. */
  r1OhmAh: number;
  tau1S: number;
  /** Electrolyte concentration polarisation, Ω·Ah, and its time constant, s. */
  r2OhmAh: number;
  tau2S: number;
  /** Solid diffusion time Rp²/Ds of the limiting electrode at 25 °C, s. */
  diffusionTimeS: number;
  /** Activation energies of R0 (and R2), R1 and of the diffusion time, J/mol. */
  activationJPerMol: readonly [number, number, number];
  nominalV: number;
  specificEnergyWhPerKg: number;
  heatCapacityJPerKgK: number;
  ageing: AgeingConstants;
}

/*
 * li-ion-nmc: Chen et al., "Development of Experimental Techniques for Parameterization of
 * Multi-scale Lithium-ion Battery Models", J. Electrochem. Soc. 167 (2020) 080534 (LG M50,
 * NMC811/graphite-SiOx, 5 Ah; PyBaMM's "Chen2020").
 *   From the source: the OCV shape (ocv-curves.ts); the limiting electrode, the positive one
 *   (Rp = 5.22 µm, Ds = 4e-15 m²/s: Rp²/Ds = 6.8e3 s, against 1.0e3 s for the graphite's 5.86 µm
 *   and 3.3e-14 m²/s). Chen2020 has no temperature dependence.
 *   Fitted here: the diffusion time 5.0e3 s (0.73 × Chen's, whose GITT diffusivity is known to
 *   under-predict rate capability) with Ea 40 kJ/mol, and charge transfer 10 mΩ at 3 Ah with Ea
 *   50 kJ/mol (published values for both: 20–60 kJ/mol), so that at 25 °C the 3C capacity is
 *   92.8 % of C/10 (target 88–95 %), a 1C discharge at −20 °C gives 75.5 % of the 1C capacity at
 *   25 °C (target 55–80 %; the cell warms itself by ~30 K on the way), and a 1C discharge to 2.5 V
 *   leaves 6 % of bulk charge behind the emptied surface, so the cell relaxes to 3.47 V.
 *   The floor (4 mΩ at 3 Ah) is the tab/weld/can resistance of an 18650; with R0 (9 mΩ, Ea
 *   17 kJ/mol as for LiPF6 in EC:EMC in the Faraday Institution's BPX NMC example) the cell has
 *   the ~13 mΩ 1 kHz impedance and ~20 mΩ 10 s DC resistance of a 3 Ah 18650 datasheet.
 *   Ageing: calendar Ea from Schmalstieg 2014 (58 kJ/mol) with 1.5 %/√year at 25 °C and 50 % SOC;
 *   the cycle rate (0.009 % per equivalent full cycle at 25 °C) and Ea (45 kJ/mol: ×6.7 at 60 °C)
 *   fitted so that 1C/1C cycling at 60 °C falls below 80 % at cycle 242 (target 200–280) and at
 *   25 °C keeps 86.9 % after 1000 cycles (target > 80 %).
 *
 * li-ion-lfp: Prada et al., "A Simplified Electrochemical and Thermal Aging Model of LiFePO4-
 * Graphite Li-ion Batteries: Power and Capacity Fade Simulations", J. Electrochem. Soc. 160 (2013)
 * A616 (A123 ANR26650M1, 2.3 Ah; PyBaMM's "Prada2013").
 *   From the source: the OCV shape; the LFP particles are fast (Rp = 10 nm, Ds = 5.9e-18 m²/s:
 *   17 s), so the limiting diffusion is the graphite's (PyBaMM's Prada2013 takes Chen2020's:
 *   1.0e3 s). Fitted: an effective diffusion time of 2.4e3 s (Ea 36 kJ/mol), which also stands for
 *   the two-phase boundary's slow transport in LFP, a small charge-transfer resistance (a power
 *   cell) with Ea 45 kJ/mol, so that 3C gives ~92 % of C/10 and a 1C discharge at −20 °C gives
 *   76.5 % of 1C at 25 °C (target 55–80 %). Ageing from Wang 2011 (cycle Ea 31.5 kJ/mol); LFP cells
 *   keep 80 % for several thousand cycles at 25 °C.
 *
 * asslb-sulfide: an NMC cathode in an argyrodite (Li6PS5Cl) composite, as in Randau et al.,
 * "Benchmarking the performance of all-solid-state lithium batteries", Nature Energy 5 (2020) 259,
 * modelled in Neumann et al., "Analysis of Interfacial Effects in All-Solid-State Batteries with
 * Thiophosphate Solid Electrolytes", ACS Appl. Mater. Interfaces 12 (2020) 9277.
 *   From the sources: the solid-electrolyte conductivity's activation energy (0.3–0.4 eV for the
 *   argyrodites, Kraft et al., J. Am. Chem. Soc. 139 (2017) 10909) steepened by the cathode/
 *   electrolyte interface to 50 kJ/mol; slow cathode kinetics and diffusion at room temperature
 *   (the cells are run at 60 °C and above). Neumann's P2D parameters are not transcribed here (they
 *   describe a lab cell with an In-Li anode, not a pouch); fitted instead: the resistances and the
 *   diffusion time (3.6e3 s), so a C/3 discharge at −20 °C gives 0.59 Ah against 0.99 Ah at 60 °C.
 *   The floor is 5 mΩ for a 1 Ah pouch: aluminium/copper tabs and collectors and the pressed
 *   contacts of a stack under pressure; without it the solid electrolyte's Arrhenius would put the
 *   whole cell near 1 mΩ at 105 °C, which no pouch cell reaches. With it the cell shows 5.6 mΩ at a
 *   current step and 8 mΩ after 10 s at 105 °C (45 and 66 mΩ at 25 °C). Ageing: sulfide cells are
 *   made to run hot, so a gentler calendar law (1 %/√year at 25 °C and 50 % SOC, Ea 30 kJ/mol) than
 *   NMC's (fitted, not from the sources).
 */
export const CHEMISTRY: Record<Chemistry, ChemistryConstants> = {
  "li-ion-nmc": {
    floorOhmAh: 0.012,
    r0OhmAh: 0.027,
    r1OhmAh: 0.03,
    tau1S: 10,
    r2OhmAh: 0.01,
    tau2S: 300,
    diffusionTimeS: 5000,
    activationJPerMol: [17_000, 50_000, 40_000],
    nominalV: 3.65,
    specificEnergyWhPerKg: 240,
    heatCapacityJPerKgK: 1000,
    ageing: {
      cycleFadePerEfc: 9e-5,
      cycleActivationJPerMol: 45_000,
      calendarFadePerYear: 0.015,
      calendarActivationJPerMol: 58_000,
      resistanceGrowthPerFade: 2,
    },
  },
  "li-ion-lfp": {
    floorOhmAh: 0.008,
    r0OhmAh: 0.023,
    r1OhmAh: 0.02,
    tau1S: 10,
    r2OhmAh: 0.01,
    tau2S: 300,
    diffusionTimeS: 2400,
    activationJPerMol: [17_000, 45_000, 36_000],
    nominalV: 3.2,
    specificEnergyWhPerKg: 110,
    heatCapacityJPerKgK: 1100,
    ageing: {
      cycleFadePerEfc: 3e-5,
      cycleActivationJPerMol: 31_500,
      calendarFadePerYear: 0.02,
      calendarActivationJPerMol: 50_000,
      resistanceGrowthPerFade: 2,
    },
  },
  "asslb-sulfide": {
    floorOhmAh: 0.005,
    r0OhmAh: 0.04,
    r1OhmAh: 0.03,
    tau1S: 15,
    r2OhmAh: 0.02,
    tau2S: 300,
    diffusionTimeS: 3600,
    activationJPerMol: [50_000, 50_000, 50_000],
    nominalV: 3.7,
    specificEnergyWhPerKg: 150,
    heatCapacityJPerKgK: 900,
    ageing: {
      cycleFadePerEfc: 1e-4,
      cycleActivationJPerMol: 30_000,
      calendarFadePerYear: 0.01,
      calendarActivationJPerMol: 30_000,
      resistanceGrowthPerFade: 2,
    },
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
  /** Contacts and collectors: the resistance floor, Ω (no temperature dependence, no ageing). */
  floorOhm: number;
  /** R0, R1 and R2 at 25 °C, Ω. */
  r0Ohm: number;
  r1Ohm: number;
  r2Ohm: number;
  tau1S: number;
  tau2S: number;
  /** Diffusion time Rp²/Ds at 25 °C, s. */
  diffusionTimeS: number;
  /** Activation energies of R0 (and R2), R1 and the diffusion time, J/mol. */
  activationJPerMol: readonly [number, number, number];
  ageing: AgeingConstants;
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
    floorOhm: c.floorOhmAh / q,
    r0Ohm: c.r0OhmAh / q,
    r1Ohm: c.r1OhmAh / q,
    r2Ohm: c.r2OhmAh / q,
    tau1S: c.tau1S,
    tau2S: c.tau2S,
    diffusionTimeS: c.diffusionTimeS,
    activationJPerMol: c.activationJPerMol,
    ageing: c.ageing,
    massKg,
    heatCapacityJPerK,
    conductanceWPerK,
    thermalTauS: heatCapacityJPerK / conductanceWPerK,
  };
}

/**
 * Returns the Arrhenius multiplier of a resistance (or a time) at `celsius` relative to 25 °C,
 * exp(Ea/R·(1/T − 1/298.15)); with −Ea, the multiplier of a rate.
 */
export function arrheniusFactor(activationJPerMol: number, celsius: number): number {
  const kelvin = Math.max(celsius, -150) + KELVIN;
  return Math.exp((activationJPerMol / GAS_CONSTANT) * (1 / kelvin - 1 / T_REF_K));
}

/** Surface-SOC lag per unit of dSOC/dt at a steady current, s, for a diffusion time τ. */
export function steadyLagS(diffusionTimeS: number): number {
  return diffusionTimeS / SPHERE_STEADY_LAG;
}

/** Relaxation time of the surface-SOC lag, s, for a diffusion time τ. */
export function lagRelaxationS(diffusionTimeS: number): number {
  return diffusionTimeS / SPHERE_SLOWEST_MODE;
}
