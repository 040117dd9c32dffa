/**
 * Forwarder logic against a fake InfluxDB (a LineWriter that stores lines by identity, as InfluxDB
 * stores points by series + timestamp) on a virtual clock: back-off, bisection, dead letters.
 */
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { InfluxSchemaError } from "../../../src/storage/errors.js";
import { CATCH_UP_AFTER_MS, Forwarder } from "../../../src/storage/forwarder.js";
import type { LineWriter, WriteOutcome } from "../../../src/storage/line-writer.js";
import { Outbox } from "../../../src/storage/outbox.js";

type Mode = "ok" | "down" | "unauthorized" | "no-database";

/** Stores lines like InfluxDB: idempotent by line, partial writes store the good lines and answer 400. */
class FakeInflux implements LineWriter {
  readonly stored = new Set<string>();
  readonly calls: { atMs: number; lines: number }[] = [];
  mode: Mode = "ok";
  maxLines = Number.POSITIVE_INFINITY;
  /** While set, every write waits for it before it is answered. */
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly clock: VirtualClock) {}

  async write(body: Buffer | string): Promise<WriteOutcome> {
    const lines = body.toString().split("\n");
    this.calls.push({ atMs: this.clock.now(), lines: lines.length });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      return this.answer(lines);
    } finally {
      this.inFlight--;
    }
  }

  private answer(lines: string[]): WriteOutcome {
    if (this.mode === "down")
      return { kind: "failed", status: null, message: "ECONNREFUSED", databaseMissing: false };
    if (this.mode === "unauthorized")
      return { kind: "failed", status: 401, message: "authorization failed", databaseMissing: false };
    if (this.mode === "no-database")
      return { kind: "failed", status: 404, message: 'database not found: "d"', databaseMissing: true };
    if (lines.length > this.maxLines)
      return { kind: "too-large", status: 413, message: "Request Entity Too Large" };
    const bad = lines.filter((l) => l.includes("bad"));
    for (const l of lines) if (!l.includes("bad")) this.stored.add(l);
    if (bad.length === 0) return { kind: "written", status: 204 };
    return {
      kind: "rejected",
      status: 400,
      message: `partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=${bad.length}`,
    };
  }

  close(): void {}
}

const open: Forwarder[] = [];
const outboxes: Outbox[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.stop();
  for (const o of outboxes.splice(0)) await o.close();
});

function setup(
  options: {
    batchLines?: number;
    ensureSchema?: () => Promise<void>;
    random?: () => number;
    concurrency?: number;
    catchUpPointsPerSecond?: number;
  } = {},
) {
  const clock = new VirtualClock({ auto: true });
  const outbox = Outbox.open({
    path: ":memory:",
    commitIntervalMs: 1000,
    maxRowLines: 100,
    wallNow: () => clock.wallNow(),
  });
  outboxes.push(outbox);
  const influx = new FakeInflux(clock);
  const forwarder = new Forwarder({
    outbox,
    writer: influx,
    clock,
    batchLines: options.batchLines ?? 5000,
    concurrency: options.concurrency,
    catchUpPointsPerSecond: options.catchUpPointsPerSecond,
    backoff: { initialMs: 100, maxMs: 1600, random: options.random ?? (() => 0.5) },
    ensureSchema: options.ensureSchema,
  });
  open.push(forwarder);
  return { clock, outbox, influx, forwarder };
}

async function fill(outbox: Outbox, lines: string[]): Promise<void> {
  for (const l of lines) outbox.append(l);
  await outbox.commit();
}

/** Makes the outbox's acknowledgements wait until the returned function is called. */
function holdAcknowledgements(outbox: Outbox): () => void {
  const acknowledge = outbox.acknowledge.bind(outbox);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  outbox.acknowledge = async (batch, dead) => {
    await gate;
    return acknowledge(batch, dead);
  };
  return () => release();
}

/** Counts the outbox reads that found nothing to send (the pump is about to wait or go idle). */
function countEmptyReads(outbox: Outbox): () => number {
  const readBatch = outbox.readBatch.bind(outbox);
  let empty = 0;
  outbox.readBatch = async (minPoints, afterId) => {
    const batch = await readBatch(minPoints, afterId);
    if (!batch) empty++;
    return batch;
  };
  return () => empty;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const goodLines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `m v=${from + i} ${from + i}`);

describe("Forwarder", () => {
  it("sends the backlog in batches of about batchLines and deletes rows once accepted", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 250 });
    const lines = goodLines(1000);
    await fill(outbox, lines);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored).toEqual(new Set(lines));
    expect(influx.calls.map((c) => c.lines)).toEqual([300, 300, 300, 100]);
    expect(forwarder.status()).toMatchObject({ writtenPoints: 1000, writtenBatches: 4, deadLetters: 0 });
  });

  it("sends a backlog older than CATCH_UP_AFTER_MS at the catch-up rate, then live rows at once", async () => {
    const { clock, outbox, influx, forwarder } = setup({ batchLines: 100, catchUpPointsPerSecond: 1_000 });
    await fill(outbox, goodLines(500));
    await clock.advanceBy(CATCH_UP_AFTER_MS + 1);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "the backlog drained");
    // 100 points a batch at 1,000 points/s: one batch every 100 ms of the forwarder's clock.
    const backlogAt = influx.calls.map((c) => c.atMs - (influx.calls[0] as { atMs: number }).atMs);
    expect(backlogAt).toEqual([0, 100, 200, 300, 400]);
    expect(forwarder.status().catchingUp).toBe(true);
    const liveFrom = clock.now();
    await fill(outbox, goodLines(300, 500));
    await until(() => outbox.backlog().rows === 0 && influx.calls.length === 8, "the live rows sent");
    expect(influx.calls.slice(5).map((c) => c.atMs - liveFrom)).toEqual([0, 0, 0]);
    expect(forwarder.status()).toMatchObject({ catchingUp: false, writtenPoints: 800 });
  });

  it("catches up at twice the live logging rate when that is above the catch-up rate, so a backlog ends", async () => {
    const { clock, outbox, influx, forwarder } = setup({ batchLines: 1_000, catchUpPointsPerSecond: 1_000 });
    await fill(outbox, goodLines(20_000));
    await clock.advanceBy(CATCH_UP_AFTER_MS + 1);
    forwarder.start();
    // Live logging at 3,000 points/s for 40 s of the forwarder's clock, committed every 100 ms. At the
    // catch-up rate alone the live rows would be over CATCH_UP_AFTER_MS old by the time the backlog
    // reached them, and the backlog would grow by 2,000 points a second for ever.
    const paces: (number | null)[] = [];
    let next = 20_000;
    for (let tick = 0; tick < 400; tick++) {
      await clock.sleepUntil(clock.now() + 100);
      await fill(outbox, goodLines(300, next));
      next += 300;
      paces.push(forwarder.status().catchUpPacePointsPerSecond);
    }
    expect(paces[0]).toBe(1_000); // no full window of the live rate yet
    // Twice the live rate, measured over a window that may miss a commit at its edge.
    const fastest = Math.max(...paces.map((p) => p ?? 0));
    expect(fastest).toBeGreaterThan(2 * 2_700);
    expect(fastest).toBeLessThanOrEqual(2 * 3_000);
    // Caught up long before the end: what waits now is the last second of live rows at most.
    expect(paces.slice(-50)).toEqual(Array(50).fill(null));
    expect(outbox.backlog().points).toBeLessThanOrEqual(3_000);
    await until(() => outbox.backlog().rows === 0, "the last live rows sent");
    expect(influx.stored.size).toBe(next);
    expect(forwarder.status().catchingUp).toBe(false);
  });

  it("sends rows of any age flat out when no catch-up rate is set, and refuses a rate that is not positive", async () => {
    const { clock, outbox, influx, forwarder } = setup({ batchLines: 100 });
    await fill(outbox, goodLines(300));
    await clock.advanceBy(CATCH_UP_AFTER_MS + 1);
    const at = clock.now();
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.calls.map((c) => c.atMs - at)).toEqual([0, 0, 0]);
    expect(forwarder.status().catchingUp).toBe(false);
    expect(() => setup({ catchUpPointsPerSecond: 0 })).toThrow(/catch-up rate must be > 0/);
  });

  it("sends the next batch while the previous batch's acknowledgement is still being written", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100 });
    const release = holdAcknowledgements(outbox);
    await fill(outbox, goodLines(300));
    forwarder.start();
    // Every batch reaches InfluxDB although no acknowledgement has finished yet.
    await until(() => influx.calls.length === 3, "three batches sent before any acknowledgement");
    expect(outbox.backlog().points).toBe(300);
    release();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.calls).toHaveLength(3);
    expect(forwarder.status()).toMatchObject({ writtenPoints: 300, writtenBatches: 3 });
  });

  it("by default keeps two writes in flight, so InfluxDB is not left idle during each round trip", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100 });
    let open = () => {};
    influx.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await fill(outbox, goodLines(400));
    forwarder.start();
    await until(() => influx.inFlight === 2, "two writes in flight");
    // Bounded: the third batch waits until the oldest answer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(influx.calls).toHaveLength(2);
    influx.gate = undefined;
    open();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.maxInFlight).toBe(2);
    expect(influx.stored).toEqual(new Set(goodLines(400)));
    expect(forwarder.status()).toMatchObject({ writtenPoints: 400, writtenBatches: 4 });
  });

  it("stops while it waits for an acknowledgement before going idle", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100 });
    const release = holdAcknowledgements(outbox);
    const emptyReads = countEmptyReads(outbox);
    await fill(outbox, goodLines(100));
    forwarder.start();
    await until(() => influx.calls.length === 1 && emptyReads() > 0, "the batch sent, nothing more to read");
    // The stop comes while the pump waits for the acknowledgement, before it would go idle.
    const stopped = forwarder.stop().then(() => "stopped");
    release();
    const timeout = new Promise((resolve) => setTimeout(() => resolve("still running after 5 s"), 5_000));
    expect(await Promise.race([stopped, timeout])).toBe("stopped");
    expect(outbox.backlog().rows).toBe(0);
  });

  it("sends lines committed while it waited for an acknowledgement, without another commit to wake it", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100 });
    const release = holdAcknowledgements(outbox);
    const emptyReads = countEmptyReads(outbox);
    await fill(outbox, goodLines(100));
    forwarder.start();
    await until(() => influx.calls.length === 1 && emptyReads() > 0, "the batch sent, nothing more to read");
    // Committed (and its wake-up given) while the pump waits for the acknowledgement, not idle.
    await fill(outbox, goodLines(1, 100));
    release();
    await until(() => outbox.backlog().rows === 0, "the late line sent");
    expect(influx.stored.size).toBe(101);
  });

  it("sends again what it could not acknowledge: a failed acknowledgement loses nothing", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100 });
    const acknowledge = outbox.acknowledge.bind(outbox);
    let failures = 1;
    outbox.acknowledge = async (batch, dead) => {
      if (failures-- > 0) throw new Error("disk trouble");
      return acknowledge(batch, dead);
    };
    const lines = goodLines(300);
    await fill(outbox, lines);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain after the failed acknowledgement");
    expect(influx.stored).toEqual(new Set(lines));
    // The unacknowledged batches were written again (InfluxDB keeps one copy of each point).
    expect(influx.calls.length).toBeGreaterThan(3);
    expect(forwarder.status().lastError?.message).toMatch(/disk trouble/);
    expect(forwarder.status().writtenPoints).toBe(300);
  });

  it("retries with exponential back-off and jitter, capped, then drains and resets", async () => {
    const { outbox, influx, forwarder } = setup();
    influx.mode = "down";
    await fill(outbox, goodLines(10));
    forwarder.start();
    await until(() => influx.calls.length >= 8, "8 attempts");
    const gaps = influx.calls.slice(1, 8).map((c, i) => c.atMs - (influx.calls[i]?.atMs as number));
    // random = 0.5 → 3/4 of the cap; cap doubles from 100 ms up to 1600 ms.
    expect(gaps).toEqual([75, 150, 300, 600, 1200, 1200, 1200]);
    const status = forwarder.status();
    expect(status).toMatchObject({ reachable: false, writtenPoints: 0 });
    expect(status.writeErrors).toBeGreaterThanOrEqual(8);
    expect(status.lastError?.message).toBe("ECONNREFUSED");
    expect(outbox.backlog().points).toBe(10);
    influx.mode = "ok";
    await until(() => outbox.backlog().rows === 0, "drain after recovery");
    expect(influx.stored.size).toBe(10);
    expect(forwarder.status()).toMatchObject({ reachable: true, consecutiveFailures: 0, writtenPoints: 10 });
    expect(forwarder.status().lastSuccessMs).not.toBeNull();
  });

  it("spreads retries with jitter: the wait depends on the random source, within [cap/2, cap]", async () => {
    const randoms = [0, 0.999, 0.25];
    const { outbox, influx, forwarder } = setup({ random: () => randoms.shift() ?? 0 });
    influx.mode = "down";
    await fill(outbox, goodLines(1));
    forwarder.start();
    await until(() => influx.calls.length >= 4, "4 attempts");
    const gaps = influx.calls.slice(1, 4).map((c, i) => c.atMs - (influx.calls[i]?.atMs as number));
    expect(gaps[0]).toBeCloseTo(50);
    expect(gaps[1]).toBeCloseTo(199.9);
    expect(gaps[2]).toBeCloseTo(250);
  });

  it("bisects a refused batch: good lines stored exactly once, each bad line a dead letter with the server's message", async () => {
    const { outbox, influx, forwarder } = setup();
    const lines = goodLines(1000);
    const badAt = [3, 500, 999];
    for (const i of badAt) lines[i] = `m v="bad${i}" ${i}`;
    await fill(outbox, lines);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    const good = lines.filter((_, i) => !badAt.includes(i));
    expect(influx.stored).toEqual(new Set(good));
    const dead = outbox.listDeadLetters();
    expect(dead.map((d) => d.line)).toEqual(badAt.map((i) => `m v="bad${i}" ${i}`));
    expect(dead[0]?.message).toMatch(/^partial write: field type conflict/);
    expect(dead[0]?.status).toBe(400);
    expect(forwarder.status()).toMatchObject({ writtenPoints: 997, deadLetters: 3, bisectedBatches: 1 });
    // Bisection stays cheap: well under 2·k·log2(n) extra requests.
    expect(influx.calls.length).toBeLessThan(1 + 2 * badAt.length * Math.ceil(Math.log2(1000)));
  });

  it("with several batches in flight, still stores every good line once and acknowledges in order", async () => {
    const { outbox, influx, forwarder } = setup({ batchLines: 100, concurrency: 3 });
    const lines = goodLines(2000);
    lines[150] = `m v="bad150" 150`;
    lines[1999] = `m v="bad1999" 1999`;
    await fill(outbox, lines);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored).toEqual(new Set(lines.filter((l) => !l.includes("bad"))));
    expect(outbox.listDeadLetters().map((d) => d.line)).toEqual([`m v="bad150" 150`, `m v="bad1999" 1999`]);
    expect(forwarder.status()).toMatchObject({ writtenPoints: 1998, writtenBatches: 20, deadLetters: 2 });
  });

  it("splits a batch the server finds too large, without dead letters", async () => {
    const { outbox, influx, forwarder } = setup();
    influx.maxLines = 128;
    const lines = goodLines(1000);
    await fill(outbox, lines);
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored).toEqual(new Set(lines));
    expect(outbox.deadLetterCount()).toBe(0);
  });

  it("never turns authentication failures into dead letters: it retries until the credentials work", async () => {
    const { outbox, influx, forwarder } = setup();
    influx.mode = "unauthorized";
    await fill(outbox, goodLines(20));
    forwarder.start();
    await until(() => influx.calls.length >= 5, "5 attempts");
    expect(outbox.deadLetterCount()).toBe(0);
    expect(forwarder.status()).toMatchObject({ reachable: true, writtenPoints: 0 });
    expect(forwarder.status().lastError).toMatchObject({ status: 401 });
    influx.mode = "ok";
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored.size).toBe(20);
  });

  it("runs the schema step first, retries it while InfluxDB is unreachable, and again on 'database not found'", async () => {
    let schemaCalls = 0;
    let reachable = false;
    const { outbox, influx, forwarder } = setup({
      ensureSchema: async () => {
        schemaCalls++;
        if (!reachable) throw new InfluxSchemaError("ECONNREFUSED");
      },
    });
    await fill(outbox, goodLines(5));
    forwarder.start();
    await until(() => schemaCalls >= 3, "3 schema attempts");
    expect(influx.calls).toHaveLength(0);
    expect(forwarder.status().schemaReady).toBe(false);
    reachable = true;
    await until(() => outbox.backlog().rows === 0, "first drain");
    const callsAfterFirst = schemaCalls;
    influx.mode = "no-database";
    await fill(outbox, goodLines(5, 100));
    await until(() => influx.calls.some((c) => c.lines === 5 && influx.mode === "no-database"), "404");
    influx.mode = "ok";
    await until(() => outbox.backlog().rows === 0, "second drain");
    expect(schemaCalls).toBeGreaterThan(callsAfterFirst);
    expect(influx.stored.size).toBe(10);
  });

  it("writes anyway when the schema step is refused by a server that answered", async () => {
    const { outbox, influx, forwarder } = setup({
      ensureSchema: async () => {
        throw new InfluxSchemaError("not authorized to execute statement 'CREATE DATABASE'", {
          serverAnswered: true,
        });
      },
    });
    await fill(outbox, goodLines(3));
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored.size).toBe(3);
    expect(forwarder.status().lastError?.message).toMatch(/CREATE DATABASE/);
  });

  it("survives a writer that throws: nothing is acknowledged, the batch is sent again", async () => {
    const { outbox, influx, forwarder } = setup();
    const write = influx.write.bind(influx);
    let throws = 2;
    influx.write = async (body) => {
      if (throws-- > 0) throw new Error("socket exploded");
      return write(body);
    };
    await fill(outbox, goodLines(50));
    forwarder.start();
    await until(() => outbox.backlog().rows === 0, "drain");
    expect(influx.stored.size).toBe(50);
    expect(forwarder.status()).toMatchObject({ writtenPoints: 50, running: true });
    expect(forwarder.status().writeErrors).toBe(0);
  });

  it("stops promptly while backing off and leaves the unsent batch in the outbox", async () => {
    const clock = new VirtualClock({ auto: false });
    const outbox = Outbox.open({ path: ":memory:", commitIntervalMs: 1000 });
    outboxes.push(outbox);
    const influx = new FakeInflux(clock);
    influx.mode = "down";
    const forwarder = new Forwarder({
      outbox,
      writer: influx,
      clock,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    await fill(outbox, goodLines(7));
    forwarder.start();
    await until(() => forwarder.status().nextRetryMs !== null, "back-off");
    const started = performance.now();
    await forwarder.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(forwarder.status().running).toBe(false);
    expect(outbox.backlog().points).toBe(7);
  });
});
