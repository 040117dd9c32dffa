import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CellModel } from "../../../drivers/sim/cell-model.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { loadProfileFile } from "../../../src/profile/load-profile.js";
import { estimateStartSoc } from "../../../src/run/estimate-start.js";
import { runTask } from "../../../src/work/profile-tasks.js";
import type { RunEstimate } from "../../../src/work/task-types.js";
import { runToEnd } from "../../support/sim-bench.js";

const CELL = loadCellFile("examples/cells/nmc-18650.yaml");
const PROFILE_PATH = "examples/profiles/c-rate-capability.yaml";
/** The run manager's sample budget for an estimate (src/run/run-manager.ts, ESTIMATE_SAMPLES). */
const ESTIMATE_SAMPLES = 14 * 86_400;
/** A cell as it comes from storage: 30 % SOC, rested, at the lab's 25 °C. */
const SHELF_SOC = 0.3;

describe("dry-run ETA of the C-rate example on the NMC 18650 (issue 14, item 6)", () => {
  it("is within 3 % of a run of it on the simulated bench", { timeout: 300_000 }, async () => {
    // The estimate as a run gets it: the start SOC read off the resting cell's voltage, the chamber's
    // air, the profile's source text parsed again on the worker's side.
    const resting = new CellModel(CELL, { soc: SHELF_SOC, temperatureC: 25 });
    const initialSoc = estimateStartSoc(CELL, {
      channel: "ch1",
      tMonoMs: 0,
      tWallMs: 0,
      voltageV: resting.voltageV,
      currentA: 0,
      temperatureC: 25,
    });
    expect(initialSoc).toBeCloseTo(SHELF_SOC, 2);
    const eta = (await runTask("estimate", {
      profile: { source: readFileSync(PROFILE_PATH, "utf8") },
      cell: CELL,
      samples: ESTIMATE_SAMPLES,
      initialSoc,
      initialChamberC: 25,
    })) as RunEstimate;
    expect(eta.state).toBe("completed");

    // The run: the same profile through the bench, pollers and run engine, sampled every second on
    // a virtual clock, from the cell's true state.
    const { engine, transcript } = await runToEnd(loadProfileFile(PROFILE_PATH), {
      cell: CELL,
      initialSoc: SHELF_SOC,
      chamberC: 25,
      ranges: { currentA: [-15, 15], powerW: 100 },
    });
    expect(engine.currentState).toBe("completed");
    const actualS = engine.status().testTimeS;
    // Every discharge ended on its voltage cut-off, not on the 55 °C guard.
    const stepTexts = transcript.steps.map((s) => s.text);
    expect(stepTexts.filter((t) => t.startsWith("Discharge"))).toHaveLength(5);
    const hottest = Math.max(...transcript.records.map((r) => r.temperatureC));
    expect(hottest).toBeLessThan(55);

    const error = Math.abs(eta.durationS - actualS) / actualS;
    console.info(
      `c-rate-capability on NMC-18650: ETA ${eta.durationS} s, run ${actualS} s (${(100 * error).toFixed(2)} %), hottest ${hottest.toFixed(1)} °C`,
    );
    // About 25 hours of profile after the first charge from the shelf, as the example says.
    expect(actualS / 3600).toBeGreaterThan(24);
    expect(actualS / 3600).toBeLessThan(32);
    expect(error).toBeLessThanOrEqual(0.03);
  });
});
