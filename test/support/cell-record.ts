import type { CellRecord } from "../../src/run/records.js";

/** A plain sample of a resting-at-3.7-V cell charging at 1 A on ch1, with what a test needs changed. */
export function cellRecord(overrides: Partial<CellRecord> = {}): CellRecord {
  return {
    channel: "ch1",
    run: "R1",
    cell: "c",
    tWallMs: 0,
    testTimeS: 0,
    stepTimeS: 0,
    voltageV: 3.7,
    currentA: 1,
    temperatureC: 25,
    powerW: 3.7,
    chargeAh: 0,
    dischargeAh: 0,
    chargeWh: 0,
    dischargeWh: 0,
    stepIndex: 1,
    cycleIndex: 1,
    ...overrides,
  };
}
