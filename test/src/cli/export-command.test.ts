import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";
import { createInfluxClient } from "../../../src/storage/influx-client.js";
import { ensureSchema, resolveSchema } from "../../../src/storage/influx-schema.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";

const DB = "cli_export";
const scratch = mkdtempSync(join(tmpdir(), "cellbench-export-"));
let influxd: Influxd;
let configPath: string;
const minute = Math.floor((Date.now() - 30 * 86_400_000) / 60_000) * 60_000;

beforeAll(async () => {
  influxd = await startInfluxd();
  await ensureSchema(createInfluxClient({ url: influxd.url, database: DB }), resolveSchema(DB));
  // A run of which only the long-term policy's one-minute buckets are left.
  const lines = [0, 1, 2].map(
    (i) =>
      `cell,bench=b1,channel=ch1,run=R-old,cell=C1 voltage_v=${3.6 + i / 10},current_a=1,test_time_s=${i * 60},step_index=1i,cycle_index=0i ${minute + i * 60_000}`,
  );
  const res = await fetch(`${influxd.url}/write?db=${DB}&rp=long_term&precision=ms`, {
    method: "POST",
    body: lines.join("\n"),
  });
  expect(res.status).toBe(204);
  configPath = join(scratch, "bench.yaml");
  writeFileSync(
    configPath,
    `bench: b1\nstore: ${join(scratch, "none.db")}\ninflux: { url: "${influxd.url}", database: ${DB} }\ndevices:\n  - { id: c1, driver: sim/cycler, channels: [ch1] }\n`,
  );
});
afterAll(async () => {
  await influxd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("cellbench export of a run whose raw samples have expired", () => {
  it("writes the downsampled rows with a Data Source column and says so", async () => {
    const out = join(scratch, "old.csv");
    const printed: string[] = [];
    const code = await main(["export", "R-old", "--out", out, "--config", configPath], (l) =>
      printed.push(l),
    );
    expect(code).toBe(0);
    expect(printed).toEqual([
      `exported 3 rows of run R-old to ${out} (downsampled 1m buckets only: the run's raw samples have expired)`,
      `run R-old is not in ${join(scratch, "none.db")}: no metadata file written beside the CSV`,
    ]);
    const rows = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(rows[0]?.split(",").at(-1)).toBe("Data Source");
    expect(rows.slice(1).map((r) => r.split(",").at(-1))).toEqual(Array(3).fill("downsampled 1m"));
  });

  it("says it on stderr when the CSV goes to stdout", async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
      errors.push(a.join(" "));
    });
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["export", "R-old", "--config", configPath], () => {})).toBe(0);
    } finally {
      spy.mockRestore();
      write.mockRestore();
    }
    expect(errors).toEqual([
      "cellbench: run R-old: downsampled 1m buckets only: the run's raw samples have expired; see the Data Source column",
    ]);
  });
});
