/**
 * The outbox sends its newest committed rows from memory (committed-tail.ts) and older ones from
 * SQLite. Whatever the mix, the forwarder must get every line once, in order, however its batches
 * fall, whatever it fails to send, and whatever is given up to the tail's size.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Outbox, type OutboxBatch } from "../../../src/storage/outbox.js";

type Op =
  | { kind: "append"; lines: number }
  | { kind: "commit" }
  | { kind: "send"; minPoints: number; outcome: "ok" | "failed" | "dead-letter" }
  | { kind: "requeue" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("append" as const), lines: fc.integer({ min: 1, max: 40 }) }),
  fc.constant({ kind: "commit" as const }),
  fc.record({
    kind: fc.constant("send" as const),
    minPoints: fc.integer({ min: 1, max: 60 }),
    outcome: fc.constantFrom("ok" as const, "ok" as const, "failed" as const, "dead-letter" as const),
  }),
  fc.constant({ kind: "requeue" as const }),
);

/** Plays the forwarder's part: reads after the last batch sent, starts over after a failure. */
async function play(outbox: Outbox, ops: Op[]) {
  let next = 0;
  let afterId = 0;
  const appended: string[] = [];
  const delivered: string[] = [];
  const refused = new Set<string>();
  const send = async (batch: OutboxBatch, outcome: "ok" | "failed" | "dead-letter") => {
    const lines = batch.body.toString().split("\n");
    expect(lines).toHaveLength(batch.points);
    if (outcome === "failed") {
      afterId = 0;
      return;
    }
    const dead = outcome === "dead-letter" ? [{ line: lines[0] as string, status: 400, message: "bad" }] : [];
    await outbox.acknowledge(batch, dead);
    for (const d of dead) refused.add(d.line);
    delivered.push(...lines.slice(dead.length));
    afterId = batch.lastId;
  };
  for (const o of ops) {
    if (o.kind === "append")
      for (let i = 0; i < o.lines; i++) {
        const line = `m v=${next++}i`;
        appended.push(line);
        outbox.append(line);
      }
    else if (o.kind === "commit") await outbox.commit();
    else if (o.kind === "requeue") await outbox.requeueDeadLetters();
    else {
      const batch = await outbox.readBatch(o.minPoints, afterId);
      if (batch) await send(batch, o.outcome);
      else afterId = 0;
    }
  }
  // Drain: everything committed, dead letters requeued, sent until nothing is left.
  await outbox.commit();
  await outbox.requeueDeadLetters();
  for (let guard = 0; guard < 10_000; guard++) {
    const batch = await outbox.readBatch(50, afterId);
    if (!batch) {
      if (afterId === 0) break;
      afterId = 0;
      continue;
    }
    await send(batch, "ok");
  }
  return { appended, delivered, refused };
}

describe("Outbox: sent from memory and from SQLite alike", () => {
  it("delivers every line exactly once, in order but for dead letters sent again later", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0, 2 << 20, 1 << 30),
        async (ops, maxRowLines, maxEntries, maxBytes) => {
          const outbox = Outbox.open({
            path: ":memory:",
            commitIntervalMs: 1000,
            maxRowLines,
            tail: { maxEntries, maxBytes },
          });
          try {
            const { appended, delivered, refused } = await play(outbox, ops);
            // Each line once (they are all different)…
            expect([...delivered].sort()).toEqual([...appended].sort());
            // …and those never refused in the order they were appended.
            const kept = (lines: string[]) => lines.filter((l) => !refused.has(l));
            expect(kept(delivered)).toEqual(kept(appended));
            expect(outbox.backlog()).toMatchObject({ rows: 0, points: 0 });
          } finally {
            await outbox.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
