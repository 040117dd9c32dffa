/**
 * Default envelopes per chemistry (DESIGN §5). A cell file may narrow them; widening needs an
 * explicit `override` with a reason. Values are deliberately the conservative common ground of
 * the sources cited beside each entry: a specific cell's datasheet may allow more (then write the
 * override) or less (then narrow it in the cell file).
 */
import type { Chemistry } from "../../drivers/capabilities.js";

export interface ChemistryEnvelope {
  chemistry: Chemistry;
  description: string;
  /** [min, max] terminal voltage, V: discharge cut-off and charge voltage. */
  voltageV: [number, number];
  /** Cell temperature at which it may be charged, °C. */
  chargeTemperatureC: [number, number];
  /** Cell temperature at which it may be discharged, °C. */
  dischargeTemperatureC: [number, number];
  /** Cell temperature it may be kept at at all (storage, rest): the union of the two above, °C. */
  temperatureC: [number, number];
}

function envelope(
  chemistry: Chemistry,
  description: string,
  voltageV: [number, number],
  chargeTemperatureC: [number, number],
  dischargeTemperatureC: [number, number],
): ChemistryEnvelope {
  return {
    chemistry,
    description,
    voltageV,
    chargeTemperatureC,
    dischargeTemperatureC,
    temperatureC: [
      Math.min(chargeTemperatureC[0], dischargeTemperatureC[0]),
      Math.max(chargeTemperatureC[1], dischargeTemperatureC[1]),
    ],
  };
}

export const CHEMISTRY_ENVELOPES: Readonly<Record<Chemistry, ChemistryEnvelope>> = {
  // Liquid-electrolyte NMC/graphite. 4.2 V charge and 2.5 V cut-off, charge 0..45 °C and
  // discharge -20..60 °C are the ranges of typical 18650 specifications, e.g. the generic 18650
  // sheet at https://battsysbattery.com/News/Introduction-to-18650-Battery.html ("Discharge -20 to
  // 60 ℃; Standard charging 0 to 45 ℃", charge 4.20 V), http://www.yokenergy.com/li-ion-std-technical-info
  // (charge 0..45 °C, 4.2 V max) and the Panasonic NCR18650B (NCA) datasheet (same temperatures,
  // 2.5 V cut-off). Several NMC power cells (e.g. LG HG2, Samsung 25R) allow
  // charge to 50 °C and discharge to 75 °C: those need an override citing their datasheet.
  // Charging below 0 °C plates lithium on graphite, which is why the charge window starts at 0 °C.
  "li-ion-nmc": envelope(
    "li-ion-nmc",
    "Li-ion NMC/graphite, liquid electrolyte",
    [2.5, 4.2],
    [0, 45],
    [-20, 60],
  ),

  // Liquid-electrolyte LiFePO4/graphite. 3.65 V charge and 2.0 V cut-off as in typical LFP 26650
  // specifications (https://www.machineu.com/thbattery/pz71db9fd-limn2o4-48v-electric-bicycle-battery-800-to-1000-times-oem-odm.html,
  // a 26650 LFP cell table: "Charging Voltage 3.65±0.05 V", "Cut-off Voltage 2.0±0.05V"; A123
  // ANR26650M1B: 3.6 V / 2.0 V). Temperatures: LFP specifications such as
  // https://www.machineu.com/thbattery/pz71db9e1-12-8v-3-6ah-4ah-solar-light-lithium-battery-26650-lifepo4-cylindrical.html
  // give "Charge 0℃~+45℃, Discharge -20℃~+60℃"; the graphite anode limits low-temperature
  // charging exactly as for NMC.
  "li-ion-lfp": envelope(
    "li-ion-lfp",
    "Li-ion LiFePO4/graphite, liquid electrolyte",
    [2.0, 3.65],
    [0, 45],
    [-20, 60],
  ),

  // All-solid-state, sulfide electrolyte (argyrodite / LGPS family) with an NMC cathode. No
  // volatile, flammable liquid: Kato et al., "High-power all-solid-state batteries using sulfide
  // superionic conductors", Nature Energy 1, 16030 (2016), doi:10.1038/nenergy.2016.30, operated
  // such cells from -30 °C up to 100 °C (lowest internal resistance at 100 °C). 2.5..4.25 V is
  // DESIGN §5's window for NMC-cathode sulfide full cells; Lee et al., Nature Energy 5, 299 (2020)
  // (Ag-C anode, argyrodite, NMC, cycled at 60 °C) is the usual reference for it, but its exact
  // cut-offs were not re-checked when this was written. The 105 °C upper bound is DESIGN §5's and sits just
  // above the published operation, so a lab running there should keep a cell-specific override
  // record if it goes further. The same range applies to charge and discharge: there is no
  // graphite/liquid plating or electrolyte-boiling limit, only conductivity (Arrhenius) at the cold end.
  "asslb-sulfide": envelope(
    "asslb-sulfide",
    "All-solid-state Li battery, sulfide solid electrolyte, NMC cathode",
    [2.5, 4.25],
    [-20, 105],
    [-20, 105],
  ),
};

/** Returns the default envelope of a chemistry. */
export function chemistryEnvelope(chemistry: Chemistry): ChemistryEnvelope {
  return CHEMISTRY_ENVELOPES[chemistry];
}
