/**
 * The export thread gives the same CSV as the export on the caller's loop, paced by its consumer,
 * and an export whose consumer leaves or aborts stops in the thread.
 */
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { threadId } from "node:worker_threads";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bdfCsvChunks } from "../../../src/storage/bdf-export.js";
import { EXPORT_WINDOW_BYTES } from "../../../src/storage/export-messages.js";
import { ExportThread } from "../../../src/storage/export-thread.js";
import { createInfluxQuery } from "../../../src/storage/influx-client.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";
import { eventually } from "../../support/wait.js";

const DB = "export_thread";
const ROWS = 5_000;
let influxd: Influxd;
const thread = new ExportThread();

beforeAll(async () => {
  influxd = await startInfluxd();
  await influxd.query(`CREATE DATABASE ${DB}`);
  const t0 = Date.UTC(2026, 0, 1);
  const lines = Array.from(
    { length: ROWS },
    (_, i) =>
      `cell,bench=b1,channel=ch1,run=R1,cell=C1 test_time_s=${i},step_time_s=${i},voltage_v=${3.6 + i / 1e5},` +
      `current_a=1,power_w=3.6,charge_ah=${i / 3600},discharge_ah=0,charge_wh=0,discharge_wh=0,` +
      `temperature_c=25,step_index=1i,cycle_index=0i ${t0 + i * 1000}`,
  );
  const res = await fetch(`${influxd.url}/write?db=${DB}&precision=ms`, {
    method: "POST",
    body: lines.join("\n"),
  });
  expect(res.status).toBe(204);
}, 60_000);

afterAll(async () => {
  await thread.close();
  await influxd?.stop();
});

const options = { database: DB, bench: "b1", run: "R1", pageSize: 700, sliceRows: 100 };
const decoder = new TextDecoder();

it("exports the same bytes on the thread as on the caller's loop", async () => {
  await thread.ready();
  let here = "";
  for await (const chunk of bdfCsvChunks(createInfluxQuery({ url: influxd.url, database: DB }), options))
    here += chunk;
  let there = "";
  for await (const chunk of thread.run({ url: influxd.url, database: DB }, options))
    there += typeof chunk === "string" ? chunk : decoder.decode(chunk);
  expect(here.split("\n").length).toBe(ROWS + 2); // header, rows, and the last newline's empty tail
  expect(there).toBe(here);
});

it("runs the export on another thread, and a failing query ends the export with its error", async () => {
  expect(threadId).toBe(0); // this test runs on a main thread; the export's thread is another
  const gen = thread.run(
    { url: influxd.url, database: "no_such_db" },
    { ...options, database: "no_such_db" },
  );
  await expect(
    (async () => {
      for await (const _ of gen);
    })(),
  ).rejects.toMatchObject({ code: "EXPORT_QUERY_FAILED", message: expect.stringMatching(/no_such_db/) });
});

it("produces at most its window ahead of a consumer that does not read, and stops when it leaves", async () => {
  const gen = thread.run({ url: influxd.url, database: DB }, options);
  const first = await gen.next();
  expect(first.done).toBe(false);
  const internals = thread as unknown as {
    pending: Map<number, { inbox: { type: string; bytes?: Uint8Array }[] }>;
  };
  const inbox = () => [...internals.pending.values()][0]?.inbox ?? [];
  const buffered = () => inbox().reduce((sum, m) => sum + (m.bytes?.byteLength ?? 0), 0);
  // The thread runs ahead up to its window (a slice is about 13 kB here), then waits for the consumer.
  await eventually(
    () => buffered() >= EXPORT_WINDOW_BYTES - 16 * 1024,
    "the thread to fill its window",
    20_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(buffered()).toBeLessThanOrEqual(EXPORT_WINDOW_BYTES + 16 * 1024);
  expect(inbox().some((m) => m.type === "end")).toBe(false);
  await gen.return(undefined);
  expect(internals.pending.size).toBe(0);
});

it("an aborted export ends with 'export aborted'", async () => {
  const abort = new AbortController();
  const gen = thread.run({ url: influxd.url, database: DB }, { ...options, signal: abort.signal });
  await gen.next();
  abort.abort();
  await expect(
    (async () => {
      for await (const _ of gen);
    })(),
  ).rejects.toMatchObject({ message: expect.stringMatching(/aborted/) });
});

it("ends every export aborted at any moment, and the next export still runs (the query slot is free)", async () => {
  // Aborts land while a page is queried, while its gzip body is inflated, and between slices; an
  // abort during the inflation once left the query pending for ever, holding the one query slot.
  const outcomes: string[] = [];
  for (let i = 0; i < 30; i++) {
    const abort = new AbortController();
    const gen = thread.run({ url: influxd.url, database: DB }, { ...options, signal: abort.signal });
    setTimeout(() => abort.abort(), i % 10);
    const drained = (async () => {
      for await (const _ of gen);
      return "ended";
    })().catch((err: Error) => err.message);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("still running after 5 s"), 5_000);
    });
    outcomes.push(await Promise.race([drained, stuck]));
    clearTimeout(timer);
    if (outcomes.at(-1)?.startsWith("still running")) break; // every later export waits behind it
  }
  expect(outcomes.filter((o) => o !== "ended" && !/aborted/.test(o))).toEqual([]);
  let rows = 0;
  for await (const chunk of thread.run({ url: influxd.url, database: DB }, options))
    rows += decoder.decode(chunk).split("\n").length - 1;
  expect(rows).toBe(ROWS + 1); // the header and every row
}, 60_000);

it("runs at the daemon's priority: a lowered thread of the same process held up the sampling thread", async () => {
  await thread.ready();
  const niceOf = (task: string) => {
    const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  };
  const nices = readdirSync("/proc/self/task").map(niceOf);
  expect(new Set(nices)).toEqual(new Set([getPriority(0)]));
});
