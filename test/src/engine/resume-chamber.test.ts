/** Issue 10 finding 5: a run resumed after a restart first brings its chamber back to its set point. */
import { describe, expect, it } from "vitest";
import { chamber, profile, rest } from "../../support/profile-builders.js";
import { NMC_18650, openSimBench, recordingListener } from "../../support/sim-bench.js";

describe("resume after a restart", () => {
  it("restores the chamber set point and soaks back into tolerance before the interrupted step continues", async () => {
    const { bench, clock } = await openSimBench({ auto: false, periodMs: 1000, chamberC: 25 });
    const { listener, transcript } = recordingListener();
    const engine = bench.attachRun(
      "ch1",
      { id: "R1", cell: NMC_18650, profile: profile([chamber(58, 600, 2), rest(3600)]) },
      listener,
    );
    bench.start();
    await engine.start();
    const tc1 = bench.chambers.get("tc1")!;
    const advance = async (seconds: number) => {
      for (let i = 0; i < seconds; i++) await clock.advanceBy(1000);
    };
    while (engine.status().stepPath !== "steps[1]") await advance(60);
    await advance(600);
    const before = engine.checkpoint();
    expect(before.lastChamber).toEqual({ path: "steps[0]", setpointC: 58, soakS: 600, toleranceC: 2 });

    // A restart: the run is interrupted, every device goes to safe state, the chamber drifts to the room.
    await engine.interrupt("daemon shut down");
    await bench.allSafe();
    await advance(3600);
    expect(tc1.latest!.temperatureC).toBeLessThan(45);
    const stepTimeAtInterrupt = engine.status().stepElapsedS;

    await engine.resume();
    expect(engine.status().reason).toBe("resuming: restore chamber to 58 ± 2 °C, soak 600 s first");
    expect(tc1.latest && (await tc1.chamber.read()).setpointC).toBe(58);
    await advance(60);
    // The rest does not go on while the chamber is away from its set point.
    expect(engine.status().stepText).toBe("restore chamber to 58 ± 2 °C, soak 600 s");
    while (!engine.status().reason.startsWith("chamber restored")) await advance(1);
    expect(tc1.latest!.temperatureC).toBeGreaterThan(56);
    expect(engine.status().stepPath).toBe("steps[1]");
    expect(engine.status().stepElapsedS).toBeGreaterThanOrEqual(stepTimeAtInterrupt);
    expect(engine.status().stepElapsedS).toBeLessThanOrEqual(stepTimeAtInterrupt + 1);
    const reasons = transcript.states.map((s) => s.reason);
    expect(reasons).toContain("resuming: restore chamber to 58 ± 2 °C, soak 600 s first");
    expect(reasons.some((r) => /^chamber restored \(chamber at 58 ± 2 °C, soaked 600 s\)/.test(r))).toBe(
      true,
    );
    await bench.shutdown();
  }, 60_000);
});
