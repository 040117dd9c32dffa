/**
 * How samples and operator tasks share a run engine's queue: a sample that needs no waiting is
 * handled at once, without a promise; one that must wait (a step change applying a set point)
 * keeps every later task, sample or stop, behind it, and a task queued first keeps samples behind it.
 */
import { describe, expect, it } from "vitest";
import type { CyclerChannel, CyclerReading, CyclerSetpoint } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { RunEngine } from "../../../src/engine/run-engine.js";
import type { ChannelSample } from "../../../src/sampling/sample.js";
import { profile, step } from "../../support/profile-builders.js";
import { NMC_18650, recordingListener } from "../../support/sim-bench.js";

/** A channel whose calls wait for `open()` while `hold` is set, and that logs them. */
class GatedChannel implements CyclerChannel {
  readonly id = "ch1";
  readonly ranges = {
    voltageV: [0, 5] as [number, number],
    currentA: [-10, 10] as [number, number],
    powerW: 50,
    modes: ["cc", "cv", "cccv", "rest"] as CyclerChannel["ranges"]["modes"],
  };
  readonly calls: string[] = [];
  hold = false;
  private release: (() => void) | undefined;

  async apply(setpoint: CyclerSetpoint): Promise<void> {
    this.calls.push(`apply ${setpoint.mode}`);
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    this.calls.push(`applied ${setpoint.mode}`);
  }
  async read(): Promise<CyclerReading> {
    return { voltageV: 3.7, currentA: 1, temperatureC: 25 };
  }
  async toSafeState(): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    this.calls.push("safe");
  }
  open(): void {
    const release = this.release;
    this.release = undefined;
    this.hold = false;
    release?.();
  }
}

const sample = (tS: number): ChannelSample => ({
  channel: "ch1",
  tMonoMs: tS * 1000,
  tWallMs: Date.UTC(2026, 0, 1) + tS * 1000,
  voltageV: 3.7,
  currentA: 1,
  temperatureC: 25,
});

async function started() {
  const clock = new VirtualClock();
  const channel = new GatedChannel();
  const { listener, transcript } = recordingListener();
  const p = profile([
    step({ kind: "constant", direction: "charge", value: { kind: "current", amps: 1 } }, { durationS: 10 }),
    step({ kind: "constant", direction: "charge", value: { kind: "current", amps: 2 } }, { durationS: 10 }),
  ]);
  const hooks: { onStep?: () => void } = {};
  const engine = new RunEngine({ id: "R1", cell: NMC_18650, profile: p }, channel, clock, {
    ...listener,
    step: (change) => {
      listener.step?.(change);
      hooks.onStep?.();
    },
  });
  await engine.start();
  return { clock, channel, engine, transcript, hooks };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("a run engine's queue", () => {
  it("handles a sample that ends no step at once, with no promise, and logs it before returning", async () => {
    const { clock, engine, transcript } = await started();
    await clock.advanceTo(1000);
    expect(engine.onSample(sample(1))).toBeUndefined();
    expect(transcript.records.map((r) => r.testTimeS)).toEqual([1]);
  });

  it("keeps a stop behind a sample's step change until the new set point is applied", async () => {
    const { clock, channel, engine, transcript } = await started();
    channel.hold = true;
    await clock.advanceTo(10_000);
    const stepChange = engine.onSample(sample(10));
    expect(stepChange).toBeInstanceOf(Promise);
    const stopped = engine.stop();
    const next = engine.onSample(sample(11));
    await settle();
    // The step change waits for the channel; the stop and the next sample wait for it.
    expect(channel.calls.at(-1)).toBe("apply cc");
    expect(engine.currentState).toBe("running");
    expect(transcript.records.map((r) => r.testTimeS)).toEqual([10]);
    channel.open();
    await Promise.all([stepChange, stopped, next]);
    expect(channel.calls.slice(-3)).toEqual(["apply cc", "applied cc", "safe"]);
    expect(engine.currentState).toBe("stopped");
    // The sample that came after the stop found the run ended.
    expect(transcript.records.map((r) => r.testTimeS)).toEqual([10]);
  });

  it("keeps a task queued during a direct sample behind that sample's work", async () => {
    const { clock, channel, engine, transcript, hooks } = await started();
    channel.hold = true;
    await clock.advanceTo(10_000);
    let stopped: Promise<void> | undefined;
    const order: string[] = [];
    // A listener that stops the run while the sample that ends step 1 is being handled.
    hooks.onStep = () => {
      order.push("step change");
      stopped ??= engine.stop().then(() => {
        order.push("stopped");
      });
    };
    const stepChange = engine.onSample(sample(10))?.then(() => {
      order.push("sample done");
    });
    hooks.onStep = undefined;
    await settle();
    expect(order).toEqual(["step change"]);
    channel.open();
    await Promise.all([stepChange, stopped]);
    expect(order).toEqual(["step change", "sample done", "stopped"]);
    expect(transcript.records.at(-1)?.testTimeS).toBe(10);
  });

  it("keeps samples behind a task queued before them", async () => {
    const { clock, channel, engine, transcript } = await started();
    channel.hold = true;
    const paused = engine.pause();
    await clock.advanceTo(2000);
    const queuedSample = engine.onSample(sample(2));
    expect(queuedSample).toBeInstanceOf(Promise);
    await settle();
    expect(transcript.records).toEqual([]);
    channel.open();
    await Promise.all([paused, queuedSample]);
    expect(engine.currentState).toBe("paused");
    // Handled after the pause: the paused step's time stood still (it would be 2 s before it).
    expect(transcript.records.map((r) => [r.testTimeS, r.stepTimeS])).toEqual([[2, 0]]);
  });
});
