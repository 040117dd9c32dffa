/** The engine's batch hook: a chamber step meets the batch's other runs before the set point and after the soak. */
import { describe, expect, it } from "vitest";
import type { ChamberBarrier } from "../../../src/engine/run-engine.js";
import { chamber, profile, rest } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench } from "../../support/sim-bench.js";

describe("RunEngine at a batch's chamber step", () => {
  it("sets the chamber only once the barrier lets it, and leaves the soaked step only once it lets it again", async () => {
    const { bench, clock } = await openSimBench({ auto: false });
    const open = { set: false, soaked: false };
    const calls: string[] = [];
    const barrier: ChamberBarrier = {
      arrive: (run, step, phase) => {
        calls.push(`${run} ${step} ${phase}`);
        return open[phase];
      },
    };
    const p = profile([chamber(40, 60, 1), rest(60)]);
    bench.reserveChamber("tc1", { id: "B1", runs: new Set(["R1"]), steps: p.steps, barrier });
    const engine = bench.attachRun("ch1", { id: "R1", cell: NMC_18650, profile: p }, {});
    bench.start();
    await engine.start();
    const advance = async (s: number) => {
      for (let i = 0; i < s; i++) await clock.advanceBy(1000);
    };

    await advance(1800);
    expect(bench.chambers.get("tc1")?.latest?.setpointC).not.toBe(40);
    expect(engine.status().stepPath).toBe("steps[0]");
    expect(new Set(calls)).toEqual(new Set(["R1 steps[0]@ set"]));

    open.set = true;
    await advance(3600);
    expect(bench.chambers.get("tc1")?.latest?.setpointC).toBe(40);
    expect(calls.at(-1)).toBe("R1 steps[0]@ soaked");
    expect(engine.status().stepPath).toBe("steps[0]");

    open.soaked = true;
    await advance(120);
    expect(engine.currentState).toBe("completed");
    expect(bench.chambers.get("tc1")?.owner).toBe("B1");
    await bench.shutdown();
  });
});
