import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Outbox, TAIL_LIMITS } from "../../../src/storage/outbox.js";

const dir = mkdtempSync(join(tmpdir(), "cellbench-outbox-test-"));
let n = 0;
const dbPath = () => join(dir, `outbox-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the database through a second connection, as another process would after a crash. */
function peek(path: string): { lines: string[]; checkpoints: Record<string, unknown> } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare<[], { body: Buffer }>("SELECT body FROM outbox ORDER BY id").all();
    const cps = db.prepare<[], { run: string; state: string }>("SELECT run, state FROM checkpoint").all();
    return {
      lines: rows.flatMap((r) => r.body.toString().split("\n")),
      checkpoints: Object.fromEntries(cps.map((c) => [c.run, JSON.parse(c.state)])),
    };
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `see` with every message posted to a worker thread (then posts it); restore the spy after. */
function watchWriterMessages(see: (message: { type?: string }) => void) {
  const original = Worker.prototype.postMessage;
  const spy = vi.spyOn(Worker.prototype, "postMessage");
  spy.mockImplementation(function (
    this: Worker,
    message: unknown,
    ...rest: Parameters<Worker["postMessage"]>[1][]
  ) {
    see(message as { type?: string });
    original.call(this, message, ...rest);
  });
  return spy;
}

describe("Outbox", () => {
  it("keeps appended lines in memory until a commit, then stores them in rows of maxRowLines", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 4 });
    for (let i = 1; i <= 10; i++) outbox.append(`m v=${i}i ${i}`);
    expect(peek(path).lines).toEqual([]);
    expect(outbox.stats().pendingLines).toBe(10);
    const result = await outbox.commit();
    expect(result).toMatchObject({ lines: 10, rows: 3 });
    expect(peek(path).lines).toEqual(Array.from({ length: 10 }, (_, i) => `m v=${i + 1}i ${i + 1}`));
    expect(outbox.backlog()).toMatchObject({ rows: 3, points: 10 });
    await outbox.close();
  });

  it("commits on its own timer (group commit)", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 50 });
    outbox.append("m v=1i 1");
    outbox.append("m v=2i 2");
    // The wait ends when the lines are stored; the bound covers a writer thread slow to load on a busy host.
    const deadline = Date.now() + 15_000;
    while (peek(path).lines.length < 2 && Date.now() < deadline) await sleep(10);
    expect(peek(path).lines).toEqual(["m v=1i 1", "m v=2i 2"]);
    expect(outbox.stats().commits).toBe(1);
    await outbox.close();
  });

  it("commits a batch's worth of lines without waiting for its timer, with the checkpoint set after them", async () => {
    // Its timer never fires here: only the size of what waits can start these commits.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 100, commitLines: 100 });
    try {
      const committed = async (lines: number) => {
        const deadline = Date.now() + 10_000;
        while (outbox.stats().committedLines < lines && Date.now() < deadline) await sleep(5);
        expect(outbox.stats().committedLines).toBe(lines);
      };
      for (let i = 1; i <= 150; i++) outbox.append(`m v=${i}i ${i}`);
      outbox.setCheckpoint("r1", { sample: 150 });
      // While that commit is in flight, another batch: it follows as soon as the first ends.
      await sleep(0);
      for (let i = 151; i <= 300; i++) outbox.append(`m v=${i}i ${i}`);
      outbox.setCheckpoint("r1", { sample: 300 });
      await committed(300);
      expect(peek(path)).toEqual({
        lines: Array.from({ length: 300 }, (_, i) => `m v=${i + 1}i ${i + 1}`),
        checkpoints: { r1: { sample: 300 } },
      });
      // Fewer than a batch waits for the timer.
      for (let i = 301; i <= 350; i++) outbox.append(`m v=${i}i ${i}`);
      await sleep(50);
      expect(outbox.stats().committedLines).toBe(300);
    } finally {
      vi.useRealTimers();
      await outbox.close();
    }
  });

  it("writes the checkpoint in the same transaction as the lines: both or neither", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000 });
    outbox.append("m v=1i 1");
    outbox.setCheckpoint("R1", { step: [2, 1], loops: [3], stepElapsedS: 12.5, ah: 0.5, wh: 1.9 });
    // Make the checkpoint write fail from another connection: the lines must not be stored either.
    const other = new Database(path);
    other.exec(
      "CREATE TRIGGER fail_cp BEFORE INSERT ON checkpoint BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
    );
    expect(await outbox.commit()).toBeUndefined();
    expect(outbox.stats()).toMatchObject({ commitErrors: 1, pendingLines: 1 });
    expect(outbox.stats().lastCommitError).toMatch(/disk trouble/);
    expect(peek(path)).toEqual({ lines: [], checkpoints: {} });
    other.exec("DROP TRIGGER fail_cp");
    other.close();
    expect(await outbox.commit()).toMatchObject({ lines: 1, checkpoints: 1 });
    expect(peek(path)).toEqual({
      lines: ["m v=1i 1"],
      checkpoints: { R1: { step: [2, 1], loops: [3], stepElapsedS: 12.5, ah: 0.5, wh: 1.9 } },
    });
    await outbox.close();
  });

  it("keeps only the newest checkpoint per run, deletes on request, and reads pending ones back", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000 });
    outbox.setCheckpoint("R1", { seq: 1 });
    outbox.setCheckpoint("R1", { seq: 2 });
    outbox.setCheckpoint("R2", { seq: 9 });
    expect(await outbox.commit()).toMatchObject({ lines: 0, checkpoints: 2 });
    outbox.deleteCheckpoint("R2");
    outbox.setCheckpoint("R3", { seq: 1 });
    const before = outbox.readCheckpoints();
    expect([...before.keys()].sort()).toEqual(["R1", "R3"]);
    expect(before.get("R1")?.state).toEqual({ seq: 2 });
    await outbox.close();
    const reopened = Outbox.open({ path });
    expect(Object.fromEntries([...reopened.readCheckpoints()].map(([run, c]) => [run, c.state]))).toEqual({
      R1: { seq: 2 },
      R3: { seq: 1 },
    });
    await reopened.close();
  });

  it("serialises only the newest checkpoint of a run at the commit; one that cannot be is dropped and reported", async () => {
    const errors: string[] = [];
    const outbox = Outbox.open({
      path: dbPath(),
      commitIntervalMs: 1000,
      onCommitError: (e) => errors.push(e.message),
    });
    let serialised = 0;
    const counted = (seq: number) => ({
      toJSON: () => {
        serialised++;
        return { seq };
      },
    });
    for (let seq = 1; seq <= 100; seq++) outbox.setCheckpoint("R1", counted(seq));
    expect(serialised).toBe(0);
    outbox.append("m v=1i 1");
    expect(await outbox.commit()).toMatchObject({ lines: 1, checkpoints: 1 });
    expect(serialised).toBe(1);
    expect(outbox.readCheckpoints().get("R1")?.state).toEqual({ seq: 100 });

    outbox.setCheckpoint("R2", { n: 1n });
    outbox.append("m v=2i 2");
    expect(await outbox.commit()).toMatchObject({ lines: 1, checkpoints: 0 });
    expect(errors).toEqual([expect.stringMatching(/checkpoint of run R2 is not JSON-serialisable/)]);
    expect(await outbox.commit()).toBeUndefined(); // nothing left to retry
    expect(() => outbox.setCheckpoint("R3", undefined)).toThrow(/not JSON-serialisable/);
    await outbox.close();
  });

  it("serialises many runs' checkpoints a few per loop turn; one set meanwhile goes with the next commit", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000 });
    await outbox.ready();
    const events: string[] = [];
    let reading = false;
    const runs = Array.from({ length: 24 }, (_, i) => `R${i + 1}`);
    for (const run of runs)
      outbox.setCheckpoint(run, {
        toJSON: () => {
          if (!reading) events.push(run);
          return { run };
        },
      });
    outbox.append("m v=1i 1");
    const committing = outbox.commit();
    // A loop turn after the commit started: it comes between the checkpoints, not after all of them.
    const turn = new Promise<void>((resolve) =>
      setImmediate(() => {
        events.push("turn");
        // Set while the commit is prepared, after its lines were taken: it belongs to the next one.
        outbox.setCheckpoint("R1", { run: "R1", later: true });
        reading = true;
        expect(outbox.readCheckpoints().get("R24")?.state).toEqual({ run: "R24" });
        reading = false;
        resolve();
      }),
    );
    expect(await committing).toMatchObject({ lines: 1, checkpoints: 24 });
    await turn;
    const at = events.indexOf("turn");
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(events.length - 1);
    expect(events.filter((e) => e !== "turn")).toEqual(runs);
    expect(peek(path).checkpoints.R1).toEqual({ run: "R1" });
    expect(await outbox.commit()).toMatchObject({ lines: 0, checkpoints: 1 });
    expect(peek(path).checkpoints.R1).toEqual({ run: "R1", later: true });
    await outbox.close();
  });

  it("hands out whole rows oldest first and forgets them only when acknowledged, with dead letters", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 3 });
    for (let i = 1; i <= 8; i++) outbox.append(`m v=${i}i ${i}`);
    await outbox.commit();
    const first = await outbox.readBatch(5);
    expect(first).toMatchObject({ rows: 2, points: 6 });
    expect(first?.body.toString().split("\n")).toEqual([
      "m v=1i 1",
      "m v=2i 2",
      "m v=3i 3",
      "m v=4i 4",
      "m v=5i 5",
      "m v=6i 6",
    ]);
    // Not acknowledged yet: the same rows come again.
    expect((await outbox.readBatch(5))?.firstId).toBe(first?.firstId);
    await outbox.acknowledge(first as NonNullable<typeof first>, [
      { line: "m v=3i 3", status: 400, message: "bad" },
    ]);
    expect(outbox.backlog()).toMatchObject({ rows: 1, points: 2 });
    expect((await outbox.readBatch(5))?.body.toString()).toBe("m v=7i 7\nm v=8i 8");
    expect(outbox.deadLetterCount()).toBe(1);
    expect(outbox.listDeadLetters()[0]).toMatchObject({ line: "m v=3i 3", status: 400, message: "bad" });
    expect(await outbox.requeueDeadLetters()).toBe(1);
    expect(outbox.deadLetterCount()).toBe(0);
    expect(outbox.backlog().points).toBe(3);
    await outbox.close();
  });

  it("never gives an id again, even once the outbox emptied: a read after the last batch sent skips nothing", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 1 });
    outbox.append("m v=1i 1");
    await outbox.commit();
    const sent = await outbox.readBatch(1);
    await outbox.acknowledge(sent as NonNullable<typeof sent>); // the outbox is empty now
    outbox.append("m v=2i 2");
    await outbox.commit();
    outbox.append("m v=3i 3");
    await outbox.commit();
    // As the forwarder does while batches are in flight: on after the last one it sent.
    const next = await outbox.readBatch(1, sent?.lastId);
    expect(next?.body.toString()).toBe("m v=2i 2");
    expect(next?.firstId).toBeGreaterThan(sent?.lastId as number);
    await outbox.close();
    // Nor across the writer: a reopened outbox goes on from the highest id stored.
    const reopened = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 1 });
    const backlog = await reopened.readBatch(5);
    expect(backlog?.body.toString()).toBe("m v=2i 2\nm v=3i 3");
    await reopened.close();
  });

  it("sends committed rows from memory: the writer thread is asked to read only what it alone holds", async () => {
    const path = dbPath();
    const before = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 2 });
    before.append("m v=1i 1");
    await before.close(); // row 1: a backlog from before a restart
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 2 });
    await outbox.ready();
    const asked: string[] = [];
    const spy = watchWriterMessages((message) => asked.push(String(message.type)));
    try {
      for (let i = 2; i <= 5; i++) outbox.append(`m v=${i}i ${i}`);
      await outbox.commit();
      const backlog = await outbox.readBatch(1);
      expect(backlog?.body.toString()).toBe("m v=1i 1");
      expect(asked.filter((t) => t === "read")).toHaveLength(1);
      const fresh = await outbox.readBatch(4, backlog?.lastId);
      expect(fresh?.body.toString().split("\n")).toEqual(["m v=2i 2", "m v=3i 3", "m v=4i 4", "m v=5i 5"]);
      expect(
        asked.filter((t) => t === "read"),
        "no read for rows still in memory",
      ).toHaveLength(1);
    } finally {
      spy.mockRestore();
      await outbox.close();
    }
  });

  it("restores the backlog from the file after a restart", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 2, wallNow: () => 1_000 });
    for (let i = 0; i < 5; i++) outbox.append(`m v=${i}i ${i}`);
    await outbox.close();
    const reopened = Outbox.open({ path });
    expect(reopened.backlog()).toEqual({ rows: 3, points: 5, oldestCreatedMs: 1_000 });
    await reopened.close();
  });

  it("runs the WAL checkpoints on the writer thread", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, checkpointEveryMs: 50 });
    const before = statSync(path).size;
    for (let i = 0; i < 5_000; i++) outbox.append(`m,tag=value field=${i}i ${i}`);
    await outbox.commit();
    // The reading connection never checkpoints (auto-checkpoint is off); only the writer thread can grow the file.
    const deadline = Date.now() + 5_000;
    while (statSync(path).size <= before && Date.now() < deadline) await sleep(20);
    expect(statSync(path).size).toBeGreaterThan(before + 65_536);
    await outbox.close();
  });

  it("counts lines it had to drop when commits keep failing past maxPendingLines", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxPendingLines: 3 });
    for (let i = 0; i < 5; i++) outbox.append(`m v=${i}i ${i}`);
    expect(outbox.stats()).toMatchObject({ pendingLines: 3, droppedLines: 2 });
    await outbox.close();
  });

  it("commits on its writer thread: a commit that waits for the disk does not hold up this thread", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000 });
    await outbox.ready();
    expect(outbox.stats().writerThread).toBe(true);
    // Another connection holds the write lock, as a slow disk or a checkpoint would, and this thread
    // releases it only from a timer: a commit that blocked this thread would wait for a release
    // that can never come (busy_timeout, then SQLITE_BUSY).
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks++;
      if (ticks === 5 && other.inTransaction) other.exec("COMMIT");
    }, 10);
    try {
      for (let i = 1; i <= 3; i++) outbox.append(`m v=${i}i ${i}`);
      expect(await outbox.commit()).toMatchObject({ lines: 3 });
      expect(ticks).toBeGreaterThanOrEqual(5);
      expect(peek(path).lines).toEqual(["m v=1i 1", "m v=2i 2", "m v=3i 3"]);
    } finally {
      clearInterval(ticker);
      other.close();
    }
    await outbox.close();
  });

  it("reads the forwarder's batches, acknowledges them and counts dead letters, running no statement here", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 100 });
    await outbox.ready();
    for (let i = 1; i <= 1000; i++) outbox.append(`m v=${i}i ${i}`);
    await outbox.commit();
    // Statements of this thread's better-sqlite3 (the writer thread loads its own copy of the module).
    const probe = new Database(":memory:");
    const statement = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<
      "all" | "get" | "run" | "iterate",
      () => unknown
    >;
    const spies = (["all", "get", "run", "iterate"] as const).map((method) => vi.spyOn(statement, method));
    try {
      const batch = await outbox.readBatch(250);
      expect(batch).toMatchObject({ rows: 3, points: 300 });
      expect(batch?.body.toString().split("\n").slice(0, 2)).toEqual(["m v=1i 1", "m v=2i 2"]);
      // Shared with the writer thread, not copied (and a forwarder thread can share it in turn).
      expect(batch?.body.buffer).toBeInstanceOf(SharedArrayBuffer);
      await outbox.acknowledge(batch as NonNullable<typeof batch>, [
        { line: "m v=7i 7", status: 400, message: "bad" },
      ]);
      expect(outbox.backlog()).toMatchObject({ rows: 7, points: 700 });
      expect(outbox.backlog().oldestCreatedMs).toEqual(expect.any(Number));
      // The storage status reads it on every /health and /metrics request: no query on this thread.
      expect(outbox.deadLetterCount()).toBe(1);
      expect(spies.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0, 0]);
    } finally {
      for (const spy of spies) spy.mockRestore();
      probe.close();
    }
    await outbox.close();
    const reopened = Outbox.open({ path, commitIntervalMs: 1000 });
    expect(reopened.deadLetterCount()).toBe(1);
    await reopened.close();
  });

  it("takes the commits over on this thread when the writer thread dies, and loses nothing", async () => {
    const path = dbPath();
    const takeOvers: string[] = [];
    const outbox = Outbox.open({
      path,
      commitIntervalMs: 1000,
      onWriterTakeOver: (why) => takeOvers.push(why),
    });
    await outbox.ready();
    outbox.append("m v=1i 1");
    outbox.setCheckpoint("R1", { seq: 1 });
    await outbox.commit();
    outbox.append("m v=2i 2");
    outbox.setCheckpoint("R1", { seq: 2 });
    // The commit is sent, then the thread is stopped before (or after) it answers.
    const committing = outbox.commit();
    await outbox.writerThread?.terminate();
    expect(await committing).toMatchObject({ lines: 1 });
    expect(takeOvers).toEqual([expect.stringMatching(/writer thread stopped/)]);
    expect(outbox.stats().writerThread).toBe(false);
    outbox.append("m v=3i 3");
    expect(await outbox.commit()).toMatchObject({ lines: 1 });
    // A commit the thread had already made is made again here: a row may repeat (InfluxDB stores
    // the same point once), never go missing.
    expect([...new Set(peek(path).lines)]).toEqual(["m v=1i 1", "m v=2i 2", "m v=3i 3"]);
    expect(peek(path).checkpoints).toEqual({ R1: { seq: 2 } });
    await outbox.close();
  });

  it("hands the writer thread its line buffers' memory, not a copy made for each commit", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000, maxRowLines: 3 });
    await outbox.ready();
    // Every buffer a commit message carries, whatever the request's shape.
    const carried = new Set<ArrayBufferLike>();
    const collect = (value: unknown): void => {
      if (ArrayBuffer.isView(value)) carried.add(value.buffer);
      else if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    const spy = watchWriterMessages((message) => {
      if (message.type === "commit") collect(message);
    });
    try {
      const expected: string[] = [];
      for (let c = 0; c < 40; c++) {
        for (let i = 0; i < 5; i++) {
          const line = `m v=${c * 5 + i}i ${c * 5 + i}`;
          outbox.append(line);
          expected.push(line);
        }
        expect(await outbox.commit()).toMatchObject({ lines: 5, rows: 2 });
      }
      expect(peek(path).lines).toEqual(expected);
    } finally {
      spy.mockRestore();
      await outbox.close();
    }
    // The pending buffer and its spares, reused, and those the committed tail holds for a forwarder
    // (none runs here, as when InfluxDB is away): not a new one per commit.
    expect(carried.size).toBeGreaterThan(0);
    expect(carried.size).toBeLessThanOrEqual(3 + TAIL_LIMITS.maxEntries);
  });

  it("keeps lines and checkpoints of a commit in flight or failed, and commits them before newer ones", async () => {
    const path = dbPath();
    const outbox = Outbox.open({ path, commitIntervalMs: 1000 });
    await outbox.ready();
    const other = new Database(path);
    other.exec(
      "CREATE TRIGGER fail_row BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
    );
    outbox.append("m v=1i 1");
    outbox.setCheckpoint("R1", { seq: 1 });
    const failing = outbox.commit();
    // While it is in flight, the checkpoint is still readable and new lines queue behind it.
    expect(outbox.readCheckpoints().get("R1")?.state).toEqual({ seq: 1 });
    outbox.append("m v=2i 2");
    expect(await failing).toBeUndefined();
    expect(outbox.readCheckpoints().get("R1")?.state).toEqual({ seq: 1 });
    expect(outbox.stats().pendingLines).toBe(2);
    outbox.append("m v=3i 3");
    outbox.setCheckpoint("R1", { seq: 3 });
    other.exec("DROP TRIGGER fail_row");
    other.close();
    expect(await outbox.commit()).toMatchObject({ lines: 3 });
    expect(peek(path)).toEqual({
      lines: ["m v=1i 1", "m v=2i 2", "m v=3i 3"],
      checkpoints: { R1: { seq: 3 } },
    });
    expect(outbox.stats().pendingLines).toBe(0);
    await outbox.close();
  });

  it("loses at most about one commit interval when the process is killed with SIGKILL", async () => {
    const intervalMs = 100;
    const losses: { ms: number; lines: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const path = dbPath();
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(import.meta.dirname, "fixtures/outbox-crash-child.ts"),
          path,
          String(intervalMs),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("crash child did not start within 15 s")), 15_000);
          child.stdout?.once("data", () => {
            clearTimeout(timer);
            resolve();
          });
        });
        await sleep(400 + round * 137);
        const killedAt = Date.now();
        child.kill("SIGKILL");
        await exited;
        const { lines, checkpoints } = peek(path);
        const seqs = lines.map((l) => Number(/seq=(\d+)i/.exec(l)?.[1]));
        const times = lines.map((l) => Number(/t=(\d+)i/.exec(l)?.[1]));
        expect(seqs.length).toBeGreaterThan(100);
        // No gaps: everything up to the last commit is there, in order.
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        // The checkpoint was committed with exactly these lines.
        expect(checkpoints.R1).toEqual({ seq: seqs[seqs.length - 1], t: times[times.length - 1] });
        const lossMs = killedAt - (times[times.length - 1] as number);
        losses.push({
          ms: lossMs,
          lines: Math.round((lossMs * seqs.length) / (times[times.length - 1]! - times[0]! + 1)),
        });
        // One interval plus scheduling slack on a shared 2-core machine.
        expect(lossMs).toBeLessThan(intervalMs + 150);
        // The file reopens after the crash, with the backlog counted.
        const reopened = Outbox.open({ path });
        expect(reopened.backlog().points).toBe(seqs.length);
        await reopened.close();
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        await exited;
      }
    }
    console.log(
      `outbox SIGKILL loss with ${intervalMs} ms commits: ${losses.map((l) => `${l.ms} ms (~${l.lines} lines)`).join(", ")}`,
    );
  }, 60_000);
});
