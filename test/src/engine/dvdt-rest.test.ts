import { describe, expect, it } from "vitest";
import type { Profile } from "../../../src/profile/ast.js";
import { parseProfile } from "../../../src/profile/document.js";
import { runToEnd } from "../../support/sim-bench.js";

/** A 1C charge, then a rest ending on the condition given, then a marker step that records why the rest ended. */
const restAfterCharge = (until: string): Profile =>
  parseProfile(
    `
name: rest-after-charge
steps:
  - Charge at 1C for 10 minutes
  - Rest for 1 hour or until ${until}
  - Rest for 1 second
`,
    { sourceName: "test.yaml" },
  );

describe("dV/dt terminations on the simulated cell (virtual clock)", () => {
  it("end a rest after a charge when the relaxation slows, though the voltage falls (|dV/dt|)", async () => {
    const { engine, transcript } = await runToEnd(restAfterCharge("dV/dt < 0.0017 mV/s"), {
      initialSoc: 0.4,
    });
    expect(engine.currentState).toBe("completed");
    const rest = transcript.records.filter((r) => r.stepIndex === 2);
    // It ended on relaxation (about 45 min on this cell), neither at once nor on the 1 h step time.
    expect(rest.at(-1)!.stepTimeS).toBeGreaterThan(1200);
    expect(rest.at(-1)!.stepTimeS).toBeLessThan(3600);
    expect(transcript.steps[2]!.endedBecause).toBe("|dV/dt| ≤ 0.0017 mV/s");
    // The voltage relaxed downward: dV/dt was negative all along.
    expect(rest.at(-1)!.voltageV).toBeLessThan(rest[0]!.voltageV - 0.05);
  });

  it("keep the signed meaning of a threshold written with a sign", async () => {
    // Right after a 1C charge the voltage falls at about 2 mV/s: "dV/dt < -0.5 mV/s" holds as soon
    // as the slope is known (a magnitude, which is never below -0.5, would hold never).
    const falling = await runToEnd(restAfterCharge("dV/dt < -0.5 mV/s"), { initialSoc: 0.4 });
    expect(falling.transcript.steps[2]!.endedBecause).toBe("dV/dt ≤ -0.5 mV/s");
    expect(falling.transcript.records.filter((r) => r.stepIndex === 2).at(-1)!.stepTimeS).toBeLessThan(10);
    // "dV/dt > -0.05 mV/s" waits until the fall has slowed (a magnitude above -0.05 would hold at once).
    const slowed = await runToEnd(restAfterCharge("dV/dt > -0.05 mV/s"), { initialSoc: 0.4 });
    expect(slowed.transcript.steps[2]!.endedBecause).toBe("dV/dt ≥ -0.05 mV/s");
    const end = slowed.transcript.records.filter((r) => r.stepIndex === 2).at(-1)!.stepTimeS;
    expect(end).toBeGreaterThan(20);
    expect(end).toBeLessThan(600);
  });
});
