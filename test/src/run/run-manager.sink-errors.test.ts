/**
 * Issue 11, finding 1: a record that storage cannot encode (a cell id with a CR from a barcode
 * scanner, stored before the tag rule existed) must never stop a step from ending, a safety fault
 * from latching, or the device's other channels from being sampled.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { Bench } from "../../../src/bench/bench.js";
import type { BenchConfig } from "../../../src/config/load-config.js";
import type { RunSink } from "../../../src/run/run-manager.js";
import { RunManager } from "../../../src/run/run-manager.js";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { profile, step } from "../../support/profile-builders.js";
import { NMC_18650 } from "../../support/sim-bench.js";
import { eventually } from "../../support/wait.js";

/** Encodes every record as storage does, and throws as the encoder does for a bad tag value. */
function encodingSink(): RunSink & { encoded: string[] } {
  const encoder = new RecordEncoder("test");
  const encoded: string[] = [];
  return {
    encoded,
    logCell: (r) => encoded.push(encoder.cell(r)),
    logRunEvent: (e) => encoded.push(encoder.runEvent(e)),
    logCycle: (c) => encoded.push(encoder.cycle(c)),
    logStep: (r) => encoded.push(encoder.step(r)),
    setCheckpoint: () => undefined,
    deleteCheckpoint: () => undefined,
  };
}

function twoChannelConfig(cell: CellSpec): BenchConfig {
  return {
    source: "test",
    bench: "test",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [
      { id: "cycler1", driver: "sim/cycler", channels: ["ch1", "ch2"], options: { cell, initialSoc: 0.5 } },
      { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
    ],
    chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
    samplingPeriodMs: 1000,
    tokens: [],
  };
}

const charge = (amps: number, durationS: number) =>
  profile([step({ kind: "constant", direction: "charge", value: { kind: "current", amps } }, { durationS })]);

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.shutdown();
  bench = undefined;
});

async function open(cell: CellSpec) {
  const clock = new VirtualClock({ auto: true });
  bench = await Bench.open(twoChannelConfig(cell), clock);
  const sink = encodingSink();
  const runs = new RunManager(bench, { sink });
  bench.start();
  return { runs, sink, clock };
}

describe("a record storage cannot encode", () => {
  it("ends the step on time and keeps the device's other channel sampled", async () => {
    const { runs, sink, clock } = await open(NMC_18650);
    const bad = await runs.create(
      { channel: "ch1", cell: { ...NMC_18650, id: "NMC-0042\r" }, profile: charge(6, 5) },
      "R1",
    );
    const good = await runs.create({ channel: "ch2", cell: NMC_18650, profile: charge(1, 20) }, "R2");
    await eventually(
      () => runs.get(good.id).state === "completed",
      "the run on ch2 to complete",
      10_000,
      () => (runs.get(good.id).state === "faulted" ? runs.get(good.id).reason : undefined),
    );
    const info = runs.get(bad.id);
    expect(info.state, info.reason).toBe("completed");
    expect(info.status?.testTimeS).toBeLessThan(7);
    expect(sink.encoded.some((line) => line.includes("run=R2"))).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(20_000);
  });

  it("still latches the safety fault when the cell leaves its temperature range", async () => {
    const cell: CellSpec = { ...NMC_18650, id: "NMC\n0043", temperatureC: [-20, 25.3] };
    const { runs } = await open(cell);
    const run = await runs.create({ channel: "ch1", cell, profile: charge(6, 3600) }, "R3");
    await eventually(() => runs.get(run.id).state !== "running", "the run to leave running", 10_000);
    const info = runs.get(run.id);
    expect(info.state).toBe("faulted");
    expect(info.reason).toMatch(/temperature/);
    expect(info.status?.testTimeS).toBeLessThan(3600);
  });
});
