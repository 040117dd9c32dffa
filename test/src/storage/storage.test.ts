/**
 * The storage layer end to end against a real influxd: records → encoder → outbox → forwarder →
 * InfluxDB, through outages, with bad data, and with two benches sharing one database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CellRecord } from "../../../src/run/records.js";
import { Storage } from "../../../src/storage/storage.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";

const dir = mkdtempSync(join(tmpdir(), "cellbench-storage-test-"));
const originalRequest = http.request;
let influxd: Influxd;
let dbCounter = 0;
const storages: Storage[] = [];

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  for (const s of storages) await s.close({ drainTimeoutMs: 0 }).catch(() => {});
  await influxd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a storage on a fresh database (and outbox file). */
function openStorage(options: { bench?: string; database?: string; store?: string; logger?: Logger } = {}): {
  storage: Storage;
  database: string;
} {
  const database = options.database ?? `st${++dbCounter}`;
  const storage = Storage.open({
    bench: options.bench ?? "b1",
    store: options.store ?? join(dir, `${database}-${options.bench ?? "b1"}-${dbCounter}.db`),
    influx: { url: influxd.url, database, timeoutMs: 5_000 },
    commitIntervalMs: 50,
    batchLines: 5000,
    backoff: { initialMs: 50, maxMs: 400 },
    statusLogEveryMs: 0,
    logger: options.logger,
  });
  storages.push(storage);
  return { storage, database };
}

// Recent timestamps: the raw retention policy (90 d) refuses older points.
const BASE = Date.now() - 3_600_000;

function record(seq: number, channel = `ch${seq % 4}`): CellRecord {
  return {
    channel,
    run: "R1",
    cell: "C1",
    tWallMs: BASE + seq,
    testTimeS: seq / 1000,
    stepTimeS: seq / 1000,
    voltageV: 3 + (seq % 1000) / 1000,
    currentA: 1.5,
    temperatureC: 25,
    powerW: 4.5,
    chargeAh: seq / 1e6,
    dischargeAh: 0,
    chargeWh: seq / 3e5,
    dischargeWh: 0,
    stepIndex: seq,
    cycleIndex: 0,
  };
}

/** Returns every stored step_index (our sequence number) of a bench, sorted. */
async function storedSeqs(database: string, bench = "b1"): Promise<number[]> {
  const json = (await influxd.query(`SELECT step_index FROM raw.cell WHERE bench = '${bench}'`, {
    db: database,
  })) as {
    results: { series?: { values: [number, number][] }[] }[];
  };
  return (json.results[0]?.series?.[0]?.values ?? []).map((v) => v[1]).sort((a, b) => a - b);
}

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** True when nothing is pending in memory or waiting in the outbox. */
function drained(storage: Storage): boolean {
  const { backlog } = storage.status();
  return backlog.points === 0 && backlog.pendingLines === 0;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("Storage against a real influxd", () => {
  it("spools while InfluxDB is down at start-up, reports the backlog, and drains exactly once it appears", async () => {
    await influxd.halt();
    const logs: { level: number; msg: string; err?: unknown; error?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const { storage, database } = openStorage({ logger });
    const outageLines = () => logs.filter((l) => l.msg.includes("does not answer"));
    try {
      storage.start();
      for (const seq of range(0, 12_000)) storage.logCell(record(seq));
      await until(() => storage.status().influx.consecutiveFailures >= 2, "failed attempts");
      await storage.outbox.commit();
      const down = storage.status();
      expect(down.influx.reachable).toBe(false);
      expect(down.influx.schemaReady).toBe(false);
      expect(down.backlog.points).toBe(12_000);
      expect(down.backlog.oldestUnsentAgeS).toBeGreaterThanOrEqual(0);
      expect(down.influx.lastSuccessMs).toBeNull();
      // One short warning for the outage, however many attempts failed: no stack, no repeats.
      expect(outageLines().map((l) => l.level)).toEqual([40]);
      expect(outageLines()[0]?.msg).toMatch(
        new RegExp(`^InfluxDB at ${influxd.url} does not answer \\(.*ECONNREFUSED.*\\); samples are spooled`),
      );
      expect(outageLines()[0]?.err).toBeUndefined();
    } finally {
      await influxd.restart();
    }
    await until(() => drained(storage), "drain");
    expect(await storedSeqs(database)).toEqual(range(0, 12_000));
    const up = storage.status();
    expect(up.influx).toMatchObject({ reachable: true, schemaReady: true, consecutiveFailures: 0 });
    expect(up.written.points).toBe(12_000);
    expect(up.backlog.oldestUnsentAgeS).toBeNull();
    expect(outageLines()).toHaveLength(1);
    const recovered = logs.filter((l) => l.msg.includes("answers again"));
    expect(recovered.map((l) => l.level)).toEqual([30]);
    expect(recovered[0]?.msg).toMatch(/answers again after \d+ s; sending \d+ spooled points$/);
    expect(logs.filter((l) => l.level >= 40 || l.err !== undefined)).toHaveLength(1);
  });

  it("survives InfluxDB stopping mid-stream and coming back: every point exactly once", async () => {
    const logs: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const { storage, database } = openStorage({ logger });
    storage.start();
    let seq = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        for (let i = 0; i < 40; i++) storage.logCell(record(seq++));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      await until(() => storage.status().written.points > 2_000, "first points written");
      await influxd.halt();
      await until(() => storage.status().influx.reachable === false, "outage noticed");
      const during = seq;
      await until(() => seq > during + 3_000, "spooling during the outage");
      expect(storage.status().backlog.points + storage.status().backlog.pendingLines).toBeGreaterThan(1_000);
      await influxd.restart();
      await until(() => storage.status().written.points > during + 3_000, "writes after restart");
    } finally {
      producing = false;
      await producer;
    }
    await until(() => drained(storage), "drain");
    expect(await storedSeqs(database)).toEqual(range(0, seq));
    expect(storage.status().written.points).toBe(seq);
    expect(storage.status().influx.writeErrors).toBeGreaterThan(0);
    expect(logs.filter((l) => l.msg.includes("does not answer")).map((l) => l.level)).toEqual([40]);
    expect(logs.filter((l) => l.msg.includes("answers again")).map((l) => l.level)).toEqual([30]);
    // An influxd shutting down may still answer a write in flight with 500 (its own warning, and
    // the batch is sent again); anything else it answered would be a real refusal.
    expect(
      logs.filter(
        (l) => l.msg === "InfluxDB write failed; will retry" && !((l as { status?: number }).status! >= 500),
      ),
    ).toEqual([]);
  });

  it("dead-letters a type-conflict point and an unparsable line with the server's message while the rest flows", async () => {
    const logs: { level: number; msg: string; count?: number; error?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const { storage, database } = openStorage({ logger });
    storage.start();
    for (const seq of range(0, 3_000)) {
      storage.logCell(record(seq));
      if (seq === 1_234)
        storage.outbox.append(`cell,bench=b1,channel=ch9,run=R1 voltage_v="oops" ${BASE + seq}`);
      if (seq === 2_345) storage.outbox.append("this is not line protocol");
    }
    await until(() => drained(storage), "drain");
    expect(await storedSeqs(database)).toEqual(range(0, 3_000));
    const status = storage.status();
    expect(status.deadLetters.total).toBe(2);
    expect(status.written.points).toBe(3_000);
    expect(status.written.bisectedBatches).toBeGreaterThanOrEqual(1);
    const dead = storage.outbox.listDeadLetters();
    expect(dead.map((d) => d.line)).toEqual([
      `cell,bench=b1,channel=ch9,run=R1 voltage_v="oops" ${BASE + 1_234}`,
      "this is not line protocol",
    ]);
    expect(dead[0]?.message).toMatch(
      /field type conflict: input field "voltage_v" on measurement "cell" is type string/,
    );
    expect(dead[1]?.message).toMatch(/unable to parse 'this is not line protocol'/);
    expect(status.deadLetters.lastMessage).toMatch(/unable to parse/);
    expect(storage.metrics()).toMatch(/^cellbench_storage_dead_letters 2$/m);
    const logged = logs.filter((l) => l.msg === "InfluxDB refused lines as bad data; kept as dead letters");
    expect(logged.map((l) => l.level)).toEqual(logged.map(() => 50));
    expect(logged.reduce((n, l) => n + (l.count ?? 0), 0)).toBe(2);
  });

  it("keeps two benches writing into one database apart by the bench tag", async () => {
    const { storage: a, database } = openStorage({ bench: "bench-a" });
    const { storage: b } = openStorage({ bench: "bench-b", database });
    a.start();
    b.start();
    // Same channel, run, cell and timestamps on both benches.
    for (const seq of range(0, 2_000)) {
      a.logCell(record(seq, "ch1"));
      b.logCell(record(seq, "ch1"));
    }
    await until(() => drained(a) && drained(b), "both drained");
    expect(await storedSeqs(database, "bench-a")).toEqual(range(0, 2_000));
    expect(await storedSeqs(database, "bench-b")).toEqual(range(0, 2_000));
  });

  it("delivers what was appended before close() when InfluxDB is up", async () => {
    const { storage, database } = openStorage();
    storage.start();
    for (const seq of range(0, 500)) storage.logCell(record(seq));
    await storage.close({ drainTimeoutMs: 10_000 });
    expect(await storedSeqs(database)).toEqual(range(0, 500));
  });

  it("writes to InfluxDB from a thread of its own: no /write request is made on the sampling thread", async () => {
    const writesHere: string[] = [];
    // The forwarder's writer is built when the storage opens: the spy is in place before.
    const request = vi.spyOn(http, "request").mockImplementation(((
      ...args: Parameters<typeof http.request>
    ) => {
      const path = args[0] instanceof URL ? args[0].pathname : String(args[0]);
      if (path.includes("/write")) writesHere.push(path);
      return originalRequest(...args);
    }) as typeof http.request);
    try {
      const { storage, database } = openStorage();
      storage.start();
      for (const seq of range(0, 300)) storage.logCell(record(seq));
      await until(async () => (await storedSeqs(database)).length === 300, "300 points stored");
      expect(writesHere).toEqual([]);
    } finally {
      request.mockRestore();
    }
  });

  it("keeps unsent lines and checkpoints across a restart of the daemon and sends them then", async () => {
    const store = join(dir, "restart.db");
    await influxd.halt();
    let database: string;
    try {
      const first = openStorage({ store });
      database = first.database;
      first.storage.start();
      for (const seq of range(0, 700)) first.storage.logCell(record(seq));
      first.storage.setCheckpoint("R1", {
        stepPath: [2, 1],
        loops: [3],
        stepElapsedS: 41.5,
        ah: 0.25,
        wh: 0.9,
      });
      await first.storage.close({ drainTimeoutMs: 200 });
    } finally {
      await influxd.restart();
    }
    const second = openStorage({ store, database }).storage;
    expect(second.status().backlog.points).toBe(700);
    expect(second.readCheckpoints().get("R1")?.state).toEqual({
      stepPath: [2, 1],
      loops: [3],
      stepElapsedS: 41.5,
      ah: 0.25,
      wh: 0.9,
    });
    second.start();
    await until(() => drained(second), "drain after restart");
    expect(await storedSeqs(database)).toEqual(range(0, 700));
  });
});
