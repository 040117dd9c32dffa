/**
 * Issue 11, finding 7: 15 parallel exports of a long run stalled the sampling loop (150 missed ticks
 * for 500 k rows; before the fix 60 k rows here already cost hundreds of missed ticks). A real influxd holds ROWS logged rows of the victim run; 15 exports from five
 * viewer tokens run over real HTTP while the bench samples every 20 ms. The loop must not notice,
 * the exports beyond the limits are refused (429 per token, 503 in total) with a reason, and each
 * admitted export carries every row.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Storage } from "../../../../src/storage/storage.js";
import {
  type AttackBench,
  expectUnharmed,
  openAttackBench,
  underAttack,
} from "../../../support/attack-bench.js";
import { type Influxd, startInfluxd } from "../../../support/influxd.js";

const ROWS = 60_000;
const DB = "attack_exports";
const BENCH = "test"; // the sim bench's name: the `bench` tag the export filters on
const PER_TOKEN = 2;
const TOTAL = 4;
const TOKENS = Array.from({ length: 5 }, (_, i) => `viewer-export-token-${i}-0123456789abcdef`);

let influxd: Influxd;
let storage: Storage;
let h: AttackBench;

/** Writes ROWS cell rows of `run` (1 s apart) and a chamber reading every 10 s, in bulk. */
async function writeRun(run: string): Promise<void> {
  const t0 = Date.UTC(2026, 0, 1);
  const batch = 10_000;
  for (let start = 0; start < ROWS; start += batch) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(ROWS, start + batch); i++) {
      const t = t0 + i * 1000;
      lines.push(
        `cell,bench=${BENCH},channel=ch1,run=${run},cell=NMC-0042 ` +
          `test_time_s=${i},step_time_s=${i % 3600},voltage_v=${3.6 + (i % 1000) / 10_000},current_a=0.3,` +
          `power_w=${1.1 + (i % 7) / 100},charge_ah=${i / 12_000},discharge_ah=0,charge_wh=${i / 3300},` +
          `discharge_wh=0,temperature_c=${25 + (i % 50) / 100},step_index=${1 + Math.floor(i / 3600)}i,` +
          `cycle_index=${Math.floor(i / 7200)}i ${t}`,
      );
      if (i % 10 === 0)
        lines.push(`chamber,bench=${BENCH},chamber=tc1 temperature_c=25,setpoint_c=25,output_pct=40 ${t}`);
    }
    const res = await fetch(`${influxd.url}/write?db=${DB}&precision=ms`, {
      method: "POST",
      body: lines.join("\n"),
    });
    if (res.status !== 204) throw new Error(`write failed: ${res.status} ${await res.text()}`);
  }
}

beforeAll(async () => {
  influxd = await startInfluxd();
  await influxd.query(`CREATE DATABASE ${DB}`);
  storage = Storage.open({
    bench: BENCH,
    store: ":memory:",
    influx: { url: influxd.url, database: DB, manageSchema: false },
  });
  h = await openAttackBench({
    storage,
    tokens: [
      { role: "operator", token: "operator-token-0123456789abcdef" },
      ...TOKENS.map((token) => ({ role: "viewer" as const, token })),
    ],
    http: { exports: { perToken: PER_TOKEN, total: TOTAL } },
  });
  await storage.exportsReady(); // as the daemon does at start-up
  await writeRun(h.runId);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await storage?.close({ drainTimeoutMs: 0 });
  await influxd?.stop();
});

interface Outcome {
  status: number;
  rows: number;
  code?: string;
  detail?: string;
  retryAfter: string | null;
  ms: number;
}

const CLIENTS = fileURLToPath(new URL("../../../support/export-clients.mjs", import.meta.url));

/**
 * Runs the exports from a separate process, as real clients do: reading 60 k-row streams in the
 * daemon's own process would put the clients' garbage on the loop being measured.
 */
async function exportsFrom(first: string[], rest: string[]): Promise<Outcome[]> {
  const args = { url: h.url, path: `/api/v1/runs/${h.runId}/data?format=bdf-csv`, first, rest };
  const { stdout } = await promisify(execFile)(process.execPath, [CLIENTS, JSON.stringify(args)], {
    timeout: 100_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as Outcome[];
}

it(`15 parallel exports of a ${ROWS}-row run leave the sampling loop unharmed; those over the limits are refused`, async () => {
  let outcomes: Outcome[] = [];
  const report = await underAttack(h, async () => {
    // Token 0 starts two exports (its share), then 13 more follow from all five tokens at once:
    // token 0's third is over its share (429), and most of the rest over the total (503).
    outcomes = await exportsFrom(
      [TOKENS[0] as string, TOKENS[0] as string],
      Array.from({ length: 13 }, (_, i) => TOKENS[Math.floor((i + 2) / 3)] as string),
    );
  });
  console.log(
    JSON.stringify({
      report,
      outcomes: outcomes.map(({ status, rows, code, ms }) => ({ status, rows, code, ms })),
    }),
  );
  expectUnharmed(report);

  const admitted = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status !== 200);
  expect(admitted.length).toBeGreaterThanOrEqual(1);
  expect(admitted.length).toBeLessThanOrEqual(TOTAL);
  for (const o of admitted) expect(o.rows, "rows of an admitted export").toBe(ROWS);
  expect(refused.length).toBe(15 - admitted.length);
  for (const o of refused) {
    expect([o.status, o.code]).toEqual(
      o.status === 429 ? [429, "TOO_MANY_CONCURRENT"] : [503, "SERVER_BUSY"],
    );
    expect(o.detail).toMatch(/exports/);
    expect(Number(o.retryAfter)).toBeGreaterThan(0);
  }
  expect(refused.some((o) => o.status === 429)).toBe(true);
  expect(refused.some((o) => o.status === 503)).toBe(true);
}, 120_000);
