/** Issue 10 deliver 6: a channel that measures no cell temperature runs nothing with temperature limits unless told why. */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { Bench } from "../../../src/bench/bench.js";
import type { RunEventRecord } from "../../../src/run/records.js";
import { RunManager } from "../../../src/run/run-manager.js";
import { profile, rest } from "../../support/profile-builders.js";
import { RESTING, registerScriptedCycler, scriptedBenchConfig } from "../../support/scripted-cycler.js";
import { NMC_18650 } from "../../support/sim-bench.js";
import { rejection } from "../../support/wait.js";

// Like every real cycler today: no cell temperature.
registerScriptedCycler("test/no-thermocouple", "n1", {
  read: async () => ({ ...RESTING, temperatureC: Number.NaN }),
});

async function openBench() {
  const clock = new VirtualClock();
  const bench = await Bench.open(scriptedBenchConfig("test/no-thermocouple", 1000), clock);
  bench.start();
  await clock.advanceTo(1000);
  return { bench, clock };
}

describe("a channel without a cell temperature", () => {
  it("refuses a run whose cell has temperature limits, naming what to do", async () => {
    const { bench } = await openBench();
    const runs = new RunManager(bench);
    const err = await rejection(
      runs.create({ channel: "n1", cell: NMC_18650, profile: profile([rest(60)]) }, "R1"),
    );
    expect(err.code).toBe("TEMPERATURE_UNMEASURED");
    expect(err.message).toBe(
      'channel n1 measures no cell temperature, so the temperature limits of cell NMC-0042 cannot be enforced; map a temperature sensor to the channel, or start the run with temperature_override: { reason: "..." } (recorded with the run)',
    );
    await bench.shutdown();
  });

  it("runs with an override, whose reason is a run event, and keeps every other limit", async () => {
    const { bench, clock } = await openBench();
    const events: RunEventRecord[] = [];
    const runs = new RunManager(bench, {
      sink: {
        logCell: () => undefined,
        logCycle: () => undefined,
        logStep: () => undefined,
        logRunEvent: (e) => events.push(e),
        setCheckpoint: () => undefined,
        deleteCheckpoint: () => undefined,
      },
    });
    const info = await runs.create(
      { channel: "n1", cell: NMC_18650, profile: profile([rest(5)]), temperatureOverride: "TC on order" },
      "R1",
    );
    expect(info.history[0]?.reason).toBe("started without a cell temperature: TC on order");
    expect(events[0]).toMatchObject({
      run: "R1",
      state: "queued",
      reason: "started without a cell temperature: TC on order",
    });
    for (let t = 2000; t <= 8000; t += 1000) await clock.advanceTo(t);
    expect(runs.get("R1").state).toBe("completed");
    await bench.shutdown();
  });
});
