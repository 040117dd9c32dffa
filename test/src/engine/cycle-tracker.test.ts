/**
 * CycleTracker.state() hands the same frozen snapshot to every checkpoint until the counters change:
 * it must never be stale (equal to what a tracker that never answered before says) and never change
 * once handed out.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import type { Throughput } from "../../../src/engine/accumulators.js";
import { type CycleState, CycleTracker } from "../../../src/engine/cycle-tracker.js";

type Op =
  | { kind: "open"; total: Throughput }
  | { kind: "temperature"; celsius: number }
  | { kind: "close"; total: Throughput }
  | { kind: "restore"; from: number };

const amount = fc.double({ min: 0, max: 10, noNaN: true });
const throughput = fc.record({
  chargeAh: amount,
  dischargeAh: amount,
  chargeWh: amount,
  dischargeWh: amount,
});
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("open" as const), total: throughput }),
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("temperature" as const),
      celsius: fc.oneof(fc.integer({ min: 15, max: 45 }), fc.constant(Number.NaN)),
    }),
  },
  fc.record({ kind: fc.constant("close" as const), total: throughput }),
  fc.record({ kind: fc.constant("restore" as const), from: fc.nat() }),
);

const WHO = { channel: "ch1", run: "R1", cell: "C1", tWallMs: 0 };

/**
 * Applies op `i`; a `restore` takes the state after an earlier op (from JSON, as a checkpoint comes
 * back): `states[k]` is the state after k ops.
 */
function apply(tracker: CycleTracker, o: Op, i: number, states: readonly string[]): void {
  if (o.kind === "open") tracker.open(o.total);
  else if (o.kind === "temperature") tracker.temperature(o.celsius);
  else if (o.kind === "close") tracker.close(o.total, WHO);
  else tracker.restore(JSON.parse(states[o.from % (i + 1)] as string) as CycleState);
}

const newTracker = () => new CycleTracker(undefined, new Set([1, 2]));

it("state() is always what a fresh tracker would say, and a state handed out never changes", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const tracker = newTracker();
      const handed: { state: Readonly<CycleState>; json: string }[] = [];
      const states: string[] = [];
      for (let n = 0; n <= ops.length; n++) {
        if (n > 0) apply(tracker, ops[n - 1] as Op, n - 1, states);
        const state = tracker.state();
        // A tracker that never answered before (nothing cached) after the same ops.
        const fresh = newTracker();
        for (let i = 0; i < n; i++) apply(fresh, ops[i] as Op, i, states);
        expect(state).toEqual(fresh.state());
        expect(Object.isFrozen(state)).toBe(true);
        handed.push({ state, json: JSON.stringify(state) });
        states.push(JSON.stringify(state));
      }
      for (const h of handed) expect(JSON.stringify(h.state)).toBe(h.json);
    }),
    { numRuns: 200 },
  );
});
