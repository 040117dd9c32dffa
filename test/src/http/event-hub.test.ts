import { describe, expect, it } from "vitest";
import {
  EventHub,
  type LiveEvent,
  REPLAY_MAX_BYTES,
  REPLAY_MAX_EVENTS,
  Ring,
} from "../../../src/http/event-hub.js";
import type { RunEvent } from "../../../src/run/run-manager.js";
import { cellRecord } from "../../support/cell-record.js";

function fakeManager() {
  const listeners = new Set<(e: RunEvent) => void>();
  return {
    subscribe(listener: (e: RunEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(e: RunEvent) {
      for (const l of listeners) l(e);
    },
    get count() {
      return listeners.size;
    },
  };
}

const record = (t: number, run = "R1") => cellRecord({ run, tWallMs: 1000 * t, testTimeS: t, stepTimeS: t });

const sample = (t: number, run = "R1"): RunEvent => ({ type: "sample", run, record: record(t, run) });
const state = (s: "running" | "completed", run = "R1"): RunEvent => ({
  type: "state",
  run,
  event: { channel: "ch1", run, tWallMs: 0, state: s, reason: "", stepIndex: 1 },
});
const step = (i: number, run = "R1"): RunEvent => ({
  type: "step",
  run,
  change: {
    run,
    channel: "ch1",
    tWallMs: 0,
    stepIndex: i,
    cycleIndex: 1,
    path: `steps[${i}]`,
    text: "Rest",
    endedBecause: "",
  },
});

const dataOf = (e: LiveEvent) => JSON.parse(e.text.split("\ndata: ")[1] as string) as Record<string, unknown>;

describe("EventHub", () => {
  it("decimates samples to the rate on the injected clock, and sends the latest one before a step", () => {
    const manager = fakeManager();
    let now = 0;
    const hub = new EventHub(manager, { sampleRateHz: 1, now: () => now });
    hub.start();
    const got: LiveEvent[] = [];
    hub.listenRun("R1", (e) => got.push(e));
    for (let t = 0; t < 25; t++) {
      now = t * 100; // 10 samples per second of real time
      manager.emit(sample(t));
    }
    expect(got.map((e) => dataOf(e).test_time_s)).toEqual([0, 10, 20]);
    manager.emit(step(2));
    expect(got.map((e) => e.type)).toEqual(["sample", "sample", "sample", "sample", "step"]);
    expect(dataOf(got[3] as LiveEvent).test_time_s).toBe(24);
  });

  it("gives every event a larger id than the last, across runs", () => {
    const manager = fakeManager();
    const hub = new EventHub(manager, { sampleRateHz: 0 });
    hub.start();
    const all: LiveEvent[] = [];
    hub.listenBench((e) => all.push(e));
    manager.emit(sample(1, "R1"));
    manager.emit(sample(1, "R2"));
    manager.emit(state("completed", "R1"));
    const ids = all.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(3);
    expect(all[2]?.terminal).toBe(true);
    expect(all[2]?.text).toMatch(/^id: 3\nevent: state\ndata: \{.*"terminal":true.*\}\n\n$/);
  });

  it("replays what a client missed after Last-Event-ID and reports a gap when the ring dropped some", () => {
    const manager = fakeManager();
    const hub = new EventHub(manager, { sampleRateHz: 0, runBuffer: 4 });
    hub.start();
    for (let t = 1; t <= 6; t++) manager.emit(sample(t));
    expect(hub.replayRun("R1", 4)).toMatchObject({ gap: false });
    expect(hub.replayRun("R1", 4).events.map((e) => e.id)).toEqual([5, 6]);
    const late = hub.replayRun("R1", 1);
    expect(late.gap).toBe(true);
    expect(late.events.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(hub.replayRun("nope", 0)).toEqual({ events: [], gap: false });
  });

  it("bounds a replay to the newest events within the count and byte limits, and calls the rest a gap", () => {
    const manager = fakeManager();
    const hub = new EventHub(manager, { sampleRateHz: 0, benchBuffer: 4096 });
    hub.start();
    for (let t = 1; t <= 4096; t++) manager.emit(sample(t));
    const all = hub.replayBench(0, { maxEvents: 10_000, maxBytes: Number.POSITIVE_INFINITY });
    expect(all.events).toHaveLength(4096);
    // By default: at most REPLAY_MAX_EVENTS, the newest, in order, and within REPLAY_MAX_BYTES.
    const bounded = hub.replayBench(0);
    expect(bounded.gap).toBe(true);
    expect(bounded.events.length).toBeLessThanOrEqual(REPLAY_MAX_EVENTS);
    expect(bounded.events.reduce((n, e) => n + Buffer.byteLength(e.text), 0)).toBeLessThanOrEqual(
      REPLAY_MAX_BYTES,
    );
    expect(bounded.events.at(-1)?.id).toBe(4096);
    expect(bounded.events.map((e) => e.id)).toEqual(
      bounded.events.map((_, i) => 4097 - bounded.events.length + i),
    );
    expect(hub.replayBench(0, { maxEvents: 10 }).events.map((e) => e.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => 4087 + i),
    );
    const size = Buffer.byteLength(all.events[0]?.text ?? "");
    expect(hub.replayBench(0, { maxBytes: 3 * size + size / 2 }).events).toHaveLength(3);
    // Within the limits: everything after the id, no gap.
    expect(hub.replayBench(4090)).toMatchObject({ gap: false });
    expect(hub.replayBench(4090).events.map((e) => e.id)).toEqual([4091, 4092, 4093, 4094, 4095, 4096]);
    expect(hub.replayRun("R1", 4000, { maxEvents: 96 })).toMatchObject({ gap: false });
  });

  it("keeps the terminal event, removes listeners and unsubscribes on stop", () => {
    const manager = fakeManager();
    const hub = new EventHub(manager);
    hub.start();
    const remove = hub.listenRun("R1", () => undefined);
    expect(hub.listenerCount).toBe(1);
    manager.emit(state("running"));
    manager.emit(state("completed"));
    expect(hub.terminalEvent("R1")?.type).toBe("state");
    remove();
    expect(hub.listenerCount).toBe(0);
    hub.stop();
    expect(manager.count).toBe(0);
  });

  it("keeps a failing client away from the run manager and the other clients", () => {
    const manager = fakeManager();
    const errors: unknown[] = [];
    const hub = new EventHub(manager, { sampleRateHz: 0, onError: (err) => errors.push(err) });
    hub.start();
    const got: LiveEvent[] = [];
    hub.listenRun("R1", () => {
      throw new Error("socket gone");
    });
    hub.listenBench((e) => got.push(e));
    expect(() => manager.emit(sample(1))).not.toThrow();
    expect(got).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it("bounds the rings", () => {
    const ring = new Ring<number>(3);
    expect([ring.push(1), ring.push(2), ring.push(3), ring.push(4)]).toEqual([
      undefined,
      undefined,
      undefined,
      1,
    ]);
    expect(ring.toArray()).toEqual([2, 3, 4]);
  });
});
