/**
 * The sample listener's arguments may be kept by their consumer (storage logs the record, the
 * live stream and the run status hold it; the `log` argument is shared between samples under the
 * same criteria): nothing the engine does afterwards may change one it handed out.
 */
import { expect, it } from "vitest";
import type { SampleLog } from "../../../src/engine/run-engine.js";
import type { CellRecord } from "../../../src/run/records.js";
import { profile, rest, step } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench } from "../../support/sim-bench.js";

it("records and log arguments a listener keeps read the same at the end of the run", async () => {
  // Two steps with different logging criteria (the second samples its own period), so the shared
  // `log` argument changes with the step.
  const p = profile(
    [
      step(
        { kind: "constant", direction: "discharge", value: { kind: "current", amps: 1 } },
        { durationS: 20 },
      ),
      step(
        { kind: "constant", direction: "charge", value: { kind: "current", amps: 1 } },
        { durationS: 20 },
        { periodS: 5 },
      ),
      rest(10),
    ],
    { log: { everyS: 10 } },
  );
  const kept: { record: CellRecord; log: SampleLog; json: string }[] = [];
  const { bench, clock } = await openSimBench({ auto: false, periodMs: 1000 });
  const engine = bench.attachRun(
    "ch1",
    { id: "R1", cell: NMC_18650, profile: p },
    { sample: (record, log) => kept.push({ record, log, json: JSON.stringify({ record, log }) }) },
  );
  bench.start();
  await engine.start();
  for (let s = 0; s < 120 && !engine.isTerminal; s++) await clock.advanceBy(1000);
  expect(engine.status().state).toBe("completed");
  await bench.shutdown();
  expect(kept.length).toBeGreaterThan(40);
  for (const [i, k] of kept.entries()) {
    expect(JSON.stringify({ record: k.record, log: k.log }), `sample ${i + 1}`).toBe(k.json);
    expect(Object.isFrozen(k.log)).toBe(true);
  }
  // Every record is its own object; the criteria did change between the steps.
  expect(new Set(kept.map((k) => k.record)).size).toBe(kept.length);
  expect(new Set(kept.map((k) => k.log.criteria.everyS))).toEqual(new Set([10, 5]));
  expect(kept.some((k) => k.log.forced)).toBe(true);
  expect(kept.some((k) => !k.log.forced)).toBe(true);
});
