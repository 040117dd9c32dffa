/**
 * The outbox serialises only the newest checkpoint of a run at each commit, so a checkpoint must be a
 * snapshot: nothing the engine does afterwards may change one taken before.
 */
import { expect, it } from "vitest";
import { parseProfile } from "../../../src/profile/document.js";
import { NMC_18650, openSimBench, recordingListener } from "../../support/sim-bench.js";

const PROFILE = `
name: checkpoint snapshots
steps:
  - chamber: 30 °C
  - repeat: 2
    cycle: true
    steps:
      - Charge at 1C until 4.2 V
      - Hold at 4.2 V until C/10
      - Rest for 2 minutes
      - Discharge at 1C for 5 minutes
      - Rest for 1 minute
`;

it("a checkpoint taken at any sample reads the same at the end of the run", async () => {
  const { bench, clock } = await openSimBench({ auto: false, periodMs: 1000, chamberC: 25 });
  const { listener } = recordingListener();
  const engine = bench.attachRun(
    "ch1",
    { id: "R1", cell: NMC_18650, profile: parseProfile(PROFILE, { sourceName: "test" }) },
    listener,
  );
  bench.start();
  await engine.start();
  const taken: { checkpoint: object; json: string }[] = [];
  for (let s = 0; s < 6 * 3600 && engine.status().state === "running"; s++) {
    await clock.advanceBy(1000);
    const checkpoint = engine.checkpoint();
    taken.push({ checkpoint, json: JSON.stringify(checkpoint) });
  }
  expect(engine.status().state).toBe("completed");
  // The run went through every part a checkpoint holds: chamber, cycles, CV hold, steps.
  const last = JSON.parse(taken.at(-1)?.json ?? "{}") as { cycleIndex: number; lastChamber: unknown };
  expect(last.cycleIndex).toBeGreaterThanOrEqual(2);
  expect(last.lastChamber).not.toBeNull();
  for (const [i, t] of taken.entries())
    expect(JSON.stringify(t.checkpoint), `checkpoint at ${i + 1} s`).toBe(t.json);
  await bench.shutdown();
}, 120_000);
