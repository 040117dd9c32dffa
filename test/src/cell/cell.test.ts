import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { type Cell, CellError, parseCell, temperatureWindows } from "../../../src/cell/cell.js";
import { CHEMISTRY_ENVELOPES } from "../../../src/cell/chemistry.js";
import { loadCellFile, parseCellText } from "../../../src/cell/load-cell.js";

const nmc = { id: "NMC-1", chemistry: "li-ion-nmc", capacity_ah: 3, current: [-6, 3] };

function problems(obj: unknown): string[] {
  try {
    parseCell(obj, "cell.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(CellError);
    expect(hasErrorCode(e, "CELL_INVALID")).toBe(true);
    return (e as CellError).issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  }
  throw new Error("cell parsed but should not");
}

describe("chemistry envelopes", () => {
  it("hold DESIGN §5's table", () => {
    expect(CHEMISTRY_ENVELOPES["li-ion-nmc"]).toMatchObject({
      voltageV: [2.5, 4.2],
      chargeTemperatureC: [0, 45],
      dischargeTemperatureC: [-20, 60],
      temperatureC: [-20, 60],
    });
    expect(CHEMISTRY_ENVELOPES["li-ion-lfp"]).toMatchObject({
      voltageV: [2.0, 3.65],
      chargeTemperatureC: [0, 45],
      dischargeTemperatureC: [-20, 60],
    });
    expect(CHEMISTRY_ENVELOPES["asslb-sulfide"]).toMatchObject({
      voltageV: [2.5, 4.25],
      chargeTemperatureC: [-20, 105],
      dischargeTemperatureC: [-20, 105],
      temperatureC: [-20, 105],
    });
  });
});

describe("parseCell", () => {
  it("fills unstated ranges from the chemistry", () => {
    const cell = parseCell(nmc, "cell.yaml");
    expect(cell).toEqual<Cell>({
      id: "NMC-1",
      chemistry: "li-ion-nmc",
      capacityAh: 3,
      voltageV: [2.5, 4.2],
      currentA: [-6, 3],
      temperatureC: [-20, 60],
      chargeTemperatureC: [0, 45],
      dischargeTemperatureC: [-20, 60],
    });
  });

  it("narrows the charge and discharge windows to the cell's temperature range", () => {
    const cell = parseCell({ ...nmc, voltage: ["2.8 V", "4100 mV"], temperature: [5, 40] }, "cell.yaml");
    expect(cell.voltageV).toEqual([2.8, 4.1]);
    expect(cell.chargeTemperatureC).toEqual([5, 40]);
    expect(cell.dischargeTemperatureC).toEqual([5, 40]);
  });

  it("accepts explicit narrower charge/discharge windows", () => {
    const cell = parseCell({ ...nmc, charge_temperature: [10, 40], discharge_temperature: [-10, 55] }, "c");
    expect(cell.chargeTemperatureC).toEqual([10, 40]);
    expect(cell.dischargeTemperatureC).toEqual([-10, 55]);
  });

  it("refuses to widen the chemistry envelope without an override", () => {
    expect(problems({ ...nmc, voltage: [2.5, 4.4], charge_temperature: [0, 50] })).toEqual([
      'voltage: 2.5..4.4 V is wider than li-ion-nmc\'s 2.5..4.2 V; narrow it, or add override: { reason: "<why, e.g. datasheet>", voltage: [2.5, 4.4] }',
      'charge_temperature: 0..50 °C is wider than li-ion-nmc\'s 0..45 °C; narrow it, or add override: { reason: "<why, e.g. datasheet>", charge_temperature: [0, 50] }',
    ]);
  });

  it("widens with an override and records it", () => {
    const cell = parseCell(
      {
        ...nmc,
        charge_temperature: [0, 50],
        temperature: [-20, 75],
        discharge_temperature: [-20, 75],
        override: {
          reason: "LG HG2 datasheet: charge 0..50 °C, discharge -20..75 °C",
          charge_temperature: [0, 50],
          temperature: [-20, 75],
          discharge_temperature: [-20, 75],
        },
      },
      "hg2.yaml",
    );
    expect(cell.chargeTemperatureC).toEqual([0, 50]);
    expect(cell.temperatureC).toEqual([-20, 75]);
    expect(cell.override).toEqual({
      reason: "LG HG2 datasheet: charge 0..50 °C, discharge -20..75 °C",
      chargeTemperatureC: [0, 50],
      temperatureC: [-20, 75],
      dischargeTemperatureC: [-20, 75],
    });
  });

  it("uses an override range as the cell's range when the cell states none", () => {
    const cell = parseCell({ ...nmc, override: { reason: "4.35 V HV grade", voltage: [2.5, 4.35] } }, "c");
    expect(cell.voltageV).toEqual([2.5, 4.35]);
  });

  it("keeps the cell within its override", () => {
    expect(
      problems({ ...nmc, voltage: [2.5, 4.4], override: { reason: "HV", voltage: [2.5, 4.35] } }),
    ).toEqual([
      "voltage: 2.5..4.4 V is wider than the override's 2.5..4.35 V; narrow it or widen override.voltage",
    ]);
  });

  it("demands a reason and something to widen in an override", () => {
    expect(problems({ ...nmc, override: { voltag: [2, 4.3] } })).toEqual([
      'override.voltag: unknown key "voltag" (did you mean "voltage"?); an override takes reason, voltage, temperature, charge_temperature or discharge_temperature',
      "override.reason: an override must say why (a datasheet, a test plan); it is recorded with every run",
      "override: names nothing to widen; give one of voltage, temperature, charge_temperature or discharge_temperature",
    ]);
  });

  it("collects every problem of a bad cell", () => {
    expect(problems({ chemistry: "li-ion-nmx", capacity_ah: -1, current: [1, 3], colour: "blue" })).toEqual([
      'colour: unknown key "colour"; a cell takes id, chemistry, capacity_ah, voltage, current, temperature, charge_temperature, discharge_temperature, derating, override, description, maker, lot, format, mass_g, operator, project or notes',
      "id: missing; give the cell an id such as NMC-0042",
      'chemistry: unknown chemistry "li-ion-nmx" (did you mean "li-ion-nmc"?); use li-ion-nmc, li-ion-lfp or asslb-sulfide',
      "capacity_ah: must be a positive number of Ah, got -1",
      "current: [1, 3] must include 0: min is the largest discharge (≤ 0), max the largest charge (≥ 0)",
    ]);
  });

  it("requires current and rejects malformed ranges", () => {
    expect(
      problems({ id: "x", chemistry: "li-ion-lfp", capacity_ah: "2500 mAh", voltage: [3.6, 2.0] }),
    ).toEqual([
      "current: missing; give [max discharge, max charge] in A, e.g. [-6, 3]",
      "voltage: [3.6, 2]: min must be less than max",
    ]);
  });

  it("bounds the cell id, which becomes an InfluxDB tag, in files too", () => {
    expect(problems({ ...nmc, id: "N".repeat(70_000) })).toEqual([
      "id: is 70000 characters long; shorten it to at most 64 characters",
    ]);
    expect(problems({ ...nmc, id: "NMC\t1" })).toEqual([
      "id: contains a control character (U+0009); remove it (no control characters or backslashes)",
    ]);
    expect(problems({ ...nmc, id: "NMC-1\\" })).toEqual([
      "id: contains a backslash, which InfluxDB reads as an escape; remove it or use / instead",
    ]);
    expect(parseCell({ ...nmc, id: ` ${"x".repeat(64)} ` }, "c").id).toBe("x".repeat(64));
  });

  it("still reads what YAML files wrote before: numeric ids and capacities in quotes", () => {
    expect(
      parseCellText('id: 42\nchemistry: li-ion-nmc\ncapacity_ah: "3"\ncurrent: [-6, 3]\n', "c.yaml"),
    ).toMatchObject({ id: "42", capacityAh: 3 });
  });

  it("refuses a temperature range that leaves no charging window", () => {
    expect(problems({ ...nmc, temperature: [50, 60] })).toEqual([
      "temperature: 50..60 °C leaves no charge temperature within 0..45 °C; widen temperature or give charge_temperature",
    ]);
  });

  it("parses YAML text and reports syntax errors with the line", () => {
    const cell = parseCellText(
      "id: A-1\nchemistry: asslb-sulfide\ncapacity_ah: 1\ncurrent: [-3, 1]\n",
      "a.yaml",
    );
    expect(cell.chargeTemperatureC).toEqual([-20, 105]);
    expect(() => parseCellText("id: [\n", "bad.yaml")).toThrow(
      /^bad\.yaml: not valid YAML\/JSON: line \d+, column \d+/,
    );
  });

  it("loads the example cells", () => {
    expect(loadCellFile("examples/cells/nmc-18650.yaml")).toMatchObject({
      chemistry: "li-ion-nmc",
      capacityAh: 3,
    });
    expect(loadCellFile("examples/cells/lfp-26650.yaml")).toMatchObject({
      chemistry: "li-ion-lfp",
      capacityAh: 2.5,
    });
    expect(loadCellFile("examples/cells/asslb-sulfide-pouch.yaml")).toMatchObject({
      chemistry: "asslb-sulfide",
      capacityAh: 1,
    });
    expect(() => loadCellFile("examples/cells/missing.yaml")).toThrow(
      "cannot read cell file examples/cells/missing.yaml (ENOENT)",
    );
  });
});

describe("temperatureWindows", () => {
  it("derives windows for a bare CellSpec from its chemistry within its temperature range", () => {
    expect(
      temperatureWindows({
        id: "x",
        chemistry: "li-ion-nmc",
        capacityAh: 1,
        voltageV: [2.5, 4.2],
        currentA: [-1, 1],
        temperatureC: [10, 50],
      }),
    ).toEqual({ charge: [10, 45], discharge: [10, 50] });
  });
});
