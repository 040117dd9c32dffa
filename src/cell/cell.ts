/**
 * Cells (DESIGN §5): what a run names, parsed from YAML/JSON
 *
 *   id: NMC-0042                     an InfluxDB tag: at most 64 characters, no control characters or backslashes
 *   chemistry: li-ion-nmc            li-ion-nmc | li-ion-lfp | asslb-sulfide
 *   capacity_ah: 3.0                 nominal capacity; C-rates resolve against it
 *   voltage: [2.5, 4.2]              optional, default = chemistry window
 *   current: [-6, 3]                 required; min is the largest discharge current (negative)
 *   temperature: [-20, 60]           optional, default = chemistry storage range
 *   charge_temperature: [10, 45]     optional, default = chemistry charge range within `temperature`
 *   discharge_temperature: [-20, 60] optional, likewise
 *   derating:                        optional: largest current by cell temperature (datasheet curve),
 *     - { temperature: 0 °C, charge: 0.3 A, discharge: 3 A }    linear between points, by rising
 *     - { temperature: 10 °C, charge: 1.5 A, discharge: 6 A }   temperature; magnitudes within `current`
 *   override:                        only to WIDEN the chemistry envelope; recorded on the Cell
 *     reason: "datasheet LG HG2 rev 1.0 allows charge to 50 °C"
 *     charge_temperature: [0, 50]    any of voltage, temperature, charge_temperature, discharge_temperature
 *   maker, lot, format, mass_g,      optional, bound nothing: where the cell came from and whose it is
 *   operator, project, notes         (src/cell/cell-metadata.ts)
 *
 * Ranges are [min, max] in V, A and °C; numbers or strings with units ("4.2 V", "-20 °C").
 */
import type { CellSpec, Chemistry, DeratingPoint } from "../../drivers/capabilities.js";
import { CHEMISTRIES } from "../../drivers/capabilities.js";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { didYouMean, listOr } from "../profile/suggest.js";
import { describeValue, parseQuantity, type QuantityKind } from "../profile/units.js";
import { tagValueProblem } from "../storage/tag-values.js";
import { type CellMetadata, METADATA_KEYS, parseCellMetadata } from "./cell-metadata.js";
import { type ChemistryEnvelope, chemistryEnvelope } from "./chemistry.js";

/** An explicit widening of the chemistry envelope, with the reason the lab accepted it. */
export interface CellOverride {
  reason: string;
  voltageV?: [number, number];
  temperatureC?: [number, number];
  chargeTemperatureC?: [number, number];
  dischargeTemperatureC?: [number, number];
}

/** A cell with its envelope resolved against its chemistry. */
export interface Cell extends CellSpec {
  /** Cell temperature at which it may be charged, °C. */
  chargeTemperatureC: [number, number];
  /** Cell temperature at which it may be discharged, °C. */
  dischargeTemperatureC: [number, number];
  /** Present when the cell widens its chemistry's envelope; recorded with every run of it. */
  override?: CellOverride;
  description?: string;
  /** Maker, lot, format, mass, operator, project, notes: recorded, never a limit. */
  metadata?: CellMetadata;
}

export interface CellIssue {
  path: string;
  message: string;
}

/** A cell file with problems; `issues` lists all of them, `message` one per line. */
export class CellError extends CellbenchError {
  constructor(
    readonly issues: CellIssue[],
    readonly source?: string,
  ) {
    super("CELL_INVALID", issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n"));
  }
}

const CELL_KEYS = [
  "id",
  "chemistry",
  "capacity_ah",
  "voltage",
  "current",
  "temperature",
  "charge_temperature",
  "discharge_temperature",
  "derating",
  "override",
  "description",
  ...METADATA_KEYS,
];
const DERATING_KEYS = ["temperature", "charge", "discharge"];
const OVERRIDE_KEYS = ["reason", "voltage", "temperature", "charge_temperature", "discharge_temperature"];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

type Range = [number, number];

const fmtRange = (r: Range, unit: string): string => `${r[0]}..${r[1]} ${unit}`;
const within = (inner: Range, outer: Range): boolean =>
  inner[0] >= outer[0] - 1e-9 && inner[1] <= outer[1] + 1e-9;
const intersect = (a: Range, b: Range): Range | undefined => {
  const r: Range = [Math.max(a[0], b[0]), Math.min(a[1], b[1])];
  return r[0] <= r[1] ? r : undefined;
};

/**
 * Parses a cell description (an object from YAML/JSON) and resolves it against its chemistry.
 * Throws CellError (code CELL_INVALID) listing every problem.
 */
export function parseCell(obj: unknown, sourceName: string): Cell {
  const issues: CellIssue[] = [];
  const issue = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  const fail = (): never => {
    throw new CellError(issues, sourceName);
  };
  if (!isObject(obj)) {
    issue("", `a cell is a mapping with id, chemistry, capacity_ah and current, got ${describeValue(obj)}`);
    return fail();
  }
  for (const key of Object.keys(obj)) {
    if (!CELL_KEYS.includes(key))
      issue(key, `unknown key "${key}"${didYouMean(key, CELL_KEYS)}; a cell takes ${listOr(CELL_KEYS)}`);
  }

  const id = typeof obj.id === "number" ? String(obj.id) : obj.id;
  if (typeof id !== "string" || id.trim() === "") {
    issue(
      "id",
      obj.id === undefined ? "missing; give the cell an id such as NMC-0042" : "must be a non-empty string",
    );
  } else {
    const problem = tagValueProblem(id.trim());
    if (problem !== undefined) issue("id", problem);
  }
  let chemistry: Chemistry | undefined;
  if (typeof obj.chemistry === "string" && (CHEMISTRIES as readonly string[]).includes(obj.chemistry)) {
    chemistry = obj.chemistry as Chemistry;
  } else {
    issue(
      "chemistry",
      `${obj.chemistry === undefined ? "missing" : `unknown chemistry ${describeValue(obj.chemistry)}${typeof obj.chemistry === "string" ? didYouMean(obj.chemistry, CHEMISTRIES) : ""}`}; use ${listOr(CHEMISTRIES)}`,
    );
  }
  const capacityAh = parseCapacity(obj.capacity_ah, issue);

  const range = (value: unknown, kind: QuantityKind, path: string): Range | undefined => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length !== 2) {
      issue(path, `expected [min, max], got ${describeValue(value)}`);
      return undefined;
    }
    try {
      const r: Range = [parseQuantity(value[0], kind), parseQuantity(value[1], kind)];
      if (!(r[0] < r[1])) {
        issue(path, `[${value[0]}, ${value[1]}]: min must be less than max`);
        return undefined;
      }
      return r;
    } catch (e) {
      issue(path, (e as Error).message);
      return undefined;
    }
  };

  const override = parseOverride(obj.override, range, issue);
  const current = range(obj.current, "current", "current");
  if (obj.current === undefined)
    issue("current", "missing; give [max discharge, max charge] in A, e.g. [-6, 3]");
  else if (current && !(current[0] <= 0 && current[1] >= 0)) {
    issue(
      "current",
      `[${current[0]}, ${current[1]}] must include 0: min is the largest discharge (≤ 0), max the largest charge (≥ 0)`,
    );
  }
  const voltage = range(obj.voltage, "voltage", "voltage");
  const temperature = range(obj.temperature, "temperature", "temperature");
  const chargeT = range(obj.charge_temperature, "temperature", "charge_temperature");
  const dischargeT = range(obj.discharge_temperature, "temperature", "discharge_temperature");
  const derating = current ? parseDerating(obj.derating, current, issue) : undefined;
  const metadata = parseCellMetadata(obj, issue);
  if (!chemistry || capacityAh === undefined || !current || issues.length > 0) return fail();

  const chem = chemistryEnvelope(chemistry);
  const allowed = {
    voltageV: override?.voltageV ?? chem.voltageV,
    temperatureC: override?.temperatureC ?? chem.temperatureC,
    chargeTemperatureC: override?.chargeTemperatureC ?? chem.chargeTemperatureC,
    dischargeTemperatureC: override?.dischargeTemperatureC ?? chem.dischargeTemperatureC,
  };
  const checkWithin = (
    value: Range | undefined,
    key: keyof typeof allowed,
    path: string,
    unit: string,
  ): Range => {
    const limit = allowed[key];
    if (value && !within(value, limit)) {
      const overridden = override?.[key] !== undefined;
      issue(
        path,
        `${fmtRange(value, unit)} is wider than ${overridden ? "the override's" : `${chemistry}'s`} ${fmtRange(limit, unit)}; ` +
          (overridden
            ? `narrow it or widen override.${path}`
            : `narrow it, or add override: { reason: "<why, e.g. datasheet>", ${path}: [${value[0]}, ${value[1]}] }`),
      );
    }
    return value ?? limit;
  };
  const voltageV = checkWithin(voltage, "voltageV", "voltage", "V");
  const temperatureC = checkWithin(temperature, "temperatureC", "temperature", "°C");
  const chargeTemperatureC = windowWithin(
    checkWithin(chargeT, "chargeTemperatureC", "charge_temperature", "°C"),
    chargeT !== undefined,
    temperatureC,
    "charge_temperature",
    issue,
  );
  const dischargeTemperatureC = windowWithin(
    checkWithin(dischargeT, "dischargeTemperatureC", "discharge_temperature", "°C"),
    dischargeT !== undefined,
    temperatureC,
    "discharge_temperature",
    issue,
  );
  if (issues.length > 0) return fail();

  const cell: Cell = {
    id: (id as string).trim(),
    chemistry,
    capacityAh,
    voltageV,
    currentA: current,
    temperatureC,
    chargeTemperatureC: chargeTemperatureC as Range,
    dischargeTemperatureC: dischargeTemperatureC as Range,
  };
  if (typeof obj.description === "string") cell.description = obj.description;
  if (override) cell.override = override;
  if (derating) cell.derating = derating;
  if (metadata) cell.metadata = metadata;
  return cell;
}

/** Reads `derating`: points by strictly rising temperature, magnitudes within the cell's `current`. */
function parseDerating(
  value: unknown,
  current: Range,
  issue: (path: string, message: string) => void,
): DeratingPoint[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    issue("derating", `expected a list of { temperature, charge, discharge }, got ${describeValue(value)}`);
    return undefined;
  }
  const points: DeratingPoint[] = [];
  for (const [i, item] of value.entries()) {
    const path = `derating[${i}]`;
    if (!isObject(item)) {
      issue(path, `expected { temperature, charge, discharge }, got ${describeValue(item)}`);
      continue;
    }
    for (const key of Object.keys(item))
      if (!DERATING_KEYS.includes(key))
        issue(`${path}.${key}`, `unknown key; a derating point takes ${listOr(DERATING_KEYS)}`);
    const read = (key: string, kind: QuantityKind): number | undefined => {
      if (item[key] === undefined) {
        issue(`${path}.${key}`, "missing");
        return undefined;
      }
      try {
        return parseQuantity(item[key], kind);
      } catch (e) {
        issue(`${path}.${key}`, (e as Error).message);
        return undefined;
      }
    };
    const temperatureC = read("temperature", "temperature");
    const chargeA = read("charge", "current");
    const dischargeA = read("discharge", "current");
    if (temperatureC === undefined || chargeA === undefined || dischargeA === undefined) continue;
    if (chargeA < 0 || chargeA > current[1])
      issue(`${path}.charge`, `${chargeA} A must be from 0 to the cell's ${current[1]} A charge limit`);
    if (dischargeA < 0 || dischargeA > -current[0])
      issue(
        `${path}.discharge`,
        `${dischargeA} A must be from 0 to the cell's ${-current[0]} A discharge limit (a magnitude)`,
      );
    const previous = points[points.length - 1];
    if (previous && !(temperatureC > previous.temperatureC))
      issue(
        `${path}.temperature`,
        `${temperatureC} °C must be above the previous point's ${previous.temperatureC} °C`,
      );
    points.push({ temperatureC, chargeA, dischargeA });
  }
  return points;
}

/** Fits a charge/discharge window inside the cell's overall temperature range. */
function windowWithin(
  window: Range,
  explicit: boolean,
  temperatureC: Range,
  path: string,
  issue: (path: string, message: string) => void,
): Range | undefined {
  if (explicit) {
    if (!within(window, temperatureC)) {
      issue(
        path,
        `${fmtRange(window, "°C")} reaches outside the cell's temperature ${fmtRange(temperatureC, "°C")}; narrow one of them`,
      );
    }
    return window;
  }
  const r = intersect(window, temperatureC);
  if (!r) {
    issue(
      "temperature",
      `${fmtRange(temperatureC, "°C")} leaves no ${path.replace("_", " ")} within ${fmtRange(window, "°C")}; widen temperature or give ${path}`,
    );
  }
  return r;
}

function parseCapacity(value: unknown, issue: (path: string, message: string) => void): number | undefined {
  let ah: number | undefined;
  if (typeof value === "number") ah = value;
  else if (typeof value === "string") {
    const m = /^\s*([0-9.eE+-]+)\s*(Ah|mAh)?\s*$/.exec(value);
    if (m) ah = Number(m[1]) * (m[2] === "mAh" ? 0.001 : 1);
  }
  if (value === undefined) {
    issue("capacity_ah", "missing; give the nominal capacity in Ah, e.g. capacity_ah: 3.0");
    return undefined;
  }
  if (ah === undefined || !(ah > 0) || !Number.isFinite(ah)) {
    issue("capacity_ah", `must be a positive number of Ah, got ${describeValue(value)}`);
    return undefined;
  }
  return ah;
}

function parseOverride(
  value: unknown,
  range: (value: unknown, kind: QuantityKind, path: string) => Range | undefined,
  issue: (path: string, message: string) => void,
): CellOverride | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    issue("override", `expected { reason: "...", voltage: [min, max], ... }, got ${describeValue(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!OVERRIDE_KEYS.includes(key)) {
      issue(
        `override.${key}`,
        `unknown key "${key}"${didYouMean(key, OVERRIDE_KEYS)}; an override takes ${listOr(OVERRIDE_KEYS)}`,
      );
    }
  }
  const reason = typeof value.reason === "string" ? value.reason.trim() : "";
  if (reason === "") {
    issue(
      "override.reason",
      "an override must say why (a datasheet, a test plan); it is recorded with every run",
    );
  }
  const override: CellOverride = { reason };
  const voltageV = range(value.voltage, "voltage", "override.voltage");
  if (voltageV) override.voltageV = voltageV;
  const temperatureC = range(value.temperature, "temperature", "override.temperature");
  if (temperatureC) override.temperatureC = temperatureC;
  const chargeTemperatureC = range(value.charge_temperature, "temperature", "override.charge_temperature");
  if (chargeTemperatureC) override.chargeTemperatureC = chargeTemperatureC;
  const dischargeTemperatureC = range(
    value.discharge_temperature,
    "temperature",
    "override.discharge_temperature",
  );
  if (dischargeTemperatureC) override.dischargeTemperatureC = dischargeTemperatureC;
  if (OVERRIDE_KEYS.slice(1).every((k) => value[k] === undefined)) {
    issue("override", `names nothing to widen; give one of ${listOr(OVERRIDE_KEYS.slice(1))}`);
  }
  return override;
}

/**
 * Returns the charge and discharge temperature windows of any CellSpec: a Cell's own, or for a
 * bare CellSpec its chemistry's windows within the cell's temperature range.
 */
export function temperatureWindows(cell: CellSpec | Cell): { charge: Range; discharge: Range } {
  if ("chargeTemperatureC" in cell && "dischargeTemperatureC" in cell) {
    return { charge: cell.chargeTemperatureC, discharge: cell.dischargeTemperatureC };
  }
  const chem: ChemistryEnvelope = chemistryEnvelope(cell.chemistry);
  // An empty intersection yields an inverted range, which no temperature satisfies.
  const clip = (r: Range): Range => [
    Math.max(r[0], cell.temperatureC[0]),
    Math.min(r[1], cell.temperatureC[1]),
  ];
  return { charge: clip(chem.chargeTemperatureC), discharge: clip(chem.dischargeTemperatureC) };
}
