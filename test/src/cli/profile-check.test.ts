import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import { DryRunTooLongError } from "../../../src/cli/cli-error.js";
import { main } from "../../../src/cli/main.js";
import { profileCheckCommand } from "../../../src/cli/profile-check-command.js";
import { dryRun } from "../../../src/engine/dry-run.js";
import { loadProfileFile } from "../../../src/profile/load-profile.js";
import type { CellRecord } from "../../../src/run/records.js";

const root = join(import.meta.dirname, "..", "..", "..");
const ex = (p: string) => join(root, "examples", p);

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
    errors.push(a.join(" "));
  });
  try {
    const code = await main(args, (line) => lines.push(line));
    return { code, out: lines.join("\n"), err: errors.join("\n") };
  } finally {
    spy.mockRestore();
  }
}

describe("cellbench profile check", () => {
  const scratch = mkdtempSync(join(tmpdir(), "cellbench-cli-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ["profiles/formation.yaml", "cells/nmc-18650.yaml"],
    ["profiles/c-rate-capability.yaml", "cells/nmc-18650.yaml"],
    ["profiles/hppc.yaml", "cells/nmc-18650.yaml"],
    ["profiles/drive-cycle.yaml", "cells/nmc-18650.yaml"],
    ["profiles/asslb-capacity-vs-temperature.yaml", "cells/asslb-sulfide-pouch.yaml"],
  ])(
    "dry-runs %s on %s and prints the estimate",
    async (profile, cell) => {
      const { code, out, err } = await run(["profile", "check", ex(profile), "--cell", ex(cell)]);
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out).toMatch(/^result {4}completed$/m);
      expect(out).toMatch(/^steps {5}[1-9]\d* executed/m);
      expect(out).toMatch(/^duration {2}.+ \(\d+ s\)$/m);
      const discharged = Number(/discharged (\d+\.\d+) Ah/.exec(out)?.[1]);
      expect(discharged).toBeGreaterThan(0);
    },
    120_000,
  );

  it("writes the simulated trace with --out", async () => {
    const out = join(scratch, "trace.csv");
    const result = await run([
      "profile",
      "check",
      ex("profiles/drive-cycle.yaml"),
      "--cell",
      ex("cells/nmc-18650.yaml"),
      "--out",
      out,
    ]);
    expect(result.code).toBe(0);
    const rows = readFileSync(out, "utf8").trim().split("\n");
    expect(rows[0]).toBe(
      "test_time_s,step_time_s,step_index,cycle_index,voltage_v,current_a,temperature_c,power_w,charge_ah,discharge_ah,charge_wh,discharge_wh",
    );
    const durationS = Number(/\((\d+) s\)/.exec(result.out)?.[1]);
    // One row per simulated second plus the header and the row at t = 0.
    expect(rows.length).toBeGreaterThan(durationS);
    expect(rows.length).toBeLessThan(durationS + 5);
  }, 120_000);

  it("refuses a Li-ion NMC cell in the 105 °C sweep and exits non-zero", async () => {
    const { code, err } = await run([
      "profile",
      "check",
      ex("profiles/asslb-capacity-vs-temperature.yaml"),
      "--cell",
      ex("cells/nmc-18650.yaml"),
    ]);
    expect(code).toBe(1);
    expect(err).toContain("105 °C is outside cell");
    expect(err).toContain("[PROFILE_INVALID]");
  });

  it("reaches further with a longer --period: a 100-day profile at 60 s samples", async () => {
    const path = join(scratch, "storage.yaml");
    writeFileSync(path, "name: storage\nsteps:\n  - Rest for 100 days\n");
    const { code, out } = await run([
      "profile",
      "check",
      path,
      "--cell",
      ex("cells/nmc-18650.yaml"),
      "--period",
      "60",
    ]);
    expect(code).toBe(0);
    expect(out).toContain("duration  100 d 0 s (8640000 s)");
  });

  it("says how to reach a profile longer than the dry run's budget", () => {
    expect(new DryRunTooLongError(60 * 86_400, 1).message).toBe(
      "the profile runs longer than the 60 days a dry run simulates at --period 1; give a longer period (e.g. --period 30: steps may then end up to one period late)",
    );
    expect(new DryRunTooLongError(60 * 86_400, 2).message).toContain("(e.g. --period 60:");
    expect(new DryRunTooLongError(3600 * 86_400, 60).message).toBe(
      "the profile runs longer than the 3600 days a dry run simulates at --period 60; check it in parts (one file per phase of the test)",
    );
  });

  it.each([
    [["profile", "check", "x.yaml"], 2, "--cell is required"],
    [["profile", "check", "--cell", "c.yaml"], 2, "give exactly one profile file"],
    [
      ["profile", "check", "a.yaml", "--cell", "c.yaml", "--soc", "2"],
      2,
      '--soc must be a number from 0 to 1, got "2"',
    ],
    [["profile", "check", "a.yaml", "--cell", "c.yaml", "--colour"], 2, "Unknown option '--colour'"],
    [
      ["profile", "check", "/nonexistent/p.yaml", "--cell", ex("cells/nmc-18650.yaml")],
      1,
      "/nonexistent/p.yaml",
    ],
    [["frobnicate"], 2, 'unknown command "frobnicate"'],
  ])("exits non-zero with a precise message for %j", async (args, exitCode, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(exitCode);
    expect(err).toContain(message);
  });
});

const FIRST_TEST = ex("profiles/first-test.yaml");
const CELL = ex("cells/nmc-18650.yaml");
const TRACE_HEADER =
  "test_time_s,step_time_s,step_index,cycle_index,voltage_v,current_a,temperature_c,power_w,charge_ah,discharge_ah,charge_wh,discharge_wh";

describe("the README's first test (examples/profiles/first-test.yaml)", () => {
  it("runs about two minutes on the example cell and moves current within 10 s", async () => {
    const records: CellRecord[] = [];
    const estimate = await dryRun(loadProfileFile(FIRST_TEST), loadCellFile(CELL), {
      onRecord: (r) => void records.push(r),
    });
    expect(estimate.state).toBe("completed");
    expect(estimate.durationS).toBeGreaterThanOrEqual(60);
    expect(estimate.durationS).toBeLessThanOrEqual(180);
    const firstCurrent = records.find((r) => Math.abs(r.currentA) > 0.1);
    expect(firstCurrent?.testTimeS).toBeLessThanOrEqual(10);
    // It charges and discharges: both directions show on the plots.
    expect(estimate.chargeAh).toBeGreaterThan(0.01);
    expect(estimate.dischargeAh).toBeGreaterThan(0.01);
    expect(records.some((r) => r.currentA < -0.1)).toBe(true);
  });
});

describe("where profile check writes its trace", () => {
  const work = mkdtempSync(join(tmpdir(), "cellbench-cli-trace-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let n = 0;
  /** A fresh working directory and a fresh TMPDIR (os.tmpdir() reads it), both empty. */
  function place(): { cwd: string; temp: string } {
    const at = join(work, String(n++));
    const cwd = join(at, "cwd");
    const temp = join(at, "tmp");
    mkdirSync(cwd, { recursive: true });
    mkdirSync(temp);
    return { cwd, temp };
  }
  async function runIn(where: { cwd: string; temp: string }, args: string[]) {
    const before = process.cwd();
    process.chdir(where.cwd);
    vi.stubEnv("TMPDIR", where.temp);
    try {
      return await run(["profile", "check", FIRST_TEST, "--cell", CELL, ...args]);
    } finally {
      process.chdir(before);
      vi.unstubAllEnvs();
    }
  }
  const rows = (path: string) => readFileSync(path, "utf8").trim().split("\n");

  it("writes nothing, in the working directory or the temp dir, without --out or --trace", async () => {
    const where = place();
    const { code, out } = await runIn(where, []);
    expect(code).toBe(0);
    expect(out).not.toContain("trace");
    expect(readdirSync(where.cwd)).toEqual([]);
    expect(readdirSync(where.temp)).toEqual([]);
  });

  it("--out FILE writes that file, relative to the working directory", async () => {
    const where = place();
    const { code, out } = await runIn(where, ["--out", "first.csv"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^trace {5}first\.csv$/m);
    expect(readdirSync(where.cwd)).toEqual(["first.csv"]);
    const lines = rows(join(where.cwd, "first.csv"));
    expect(lines[0]).toBe(TRACE_HEADER);
    expect(lines.length).toBeGreaterThan(120);
  });

  it("--out DIR (an existing directory, or a path ending in /) writes DIR/<profile name>.trace.csv", async () => {
    const where = place();
    mkdirSync(join(where.cwd, "traces"));
    const { code, out } = await runIn(where, ["--out", "traces"]);
    expect(code).toBe(0);
    expect(out).toContain(`trace     ${join("traces", "first-test.trace.csv")}`);
    expect(rows(join(where.cwd, "traces", "first-test.trace.csv"))[0]).toBe(TRACE_HEADER);
    const missing = await runIn(where, ["--out", "nowhere/"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("cannot write the trace to nowhere/first-test.trace.csv (ENOENT)");
    expect(missing.err).toContain("[TRACE_OUTPUT_FAILED]");
  });

  it("--trace writes to a new directory of the OS temp dir and says where", async () => {
    const where = place();
    const { code, out } = await runIn(where, ["--trace"]);
    expect(code).toBe(0);
    const path = /^trace {5}(.+)$/m.exec(out)?.[1] ?? "";
    expect(path).toMatch(new RegExp(`^${where.temp}/cellbench-trace-[^/]+/first-test\\.trace\\.csv$`));
    expect(rows(path)[0]).toBe(TRACE_HEADER);
    expect(readdirSync(where.cwd)).toEqual([]);
  });

  it("--out - writes the CSV alone to stdout, the summary to stderr", async () => {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on("data", (b: Buffer) => chunks.push(b));
    const summary: string[] = [];
    const printed: string[] = [];
    await profileCheckCommand([FIRST_TEST, "--cell", CELL, "--out", "-"], (l) => void printed.push(l), {
      stdout,
      stderr: (l) => void summary.push(l),
    });
    expect(printed).toEqual([]);
    expect(summary.join("\n")).toMatch(/^result {4}completed$/m);
    const csv = Buffer.concat(chunks).toString("utf8").trim().split("\n");
    expect(csv[0]).toBe(TRACE_HEADER);
    expect(csv.slice(1).every((line) => line.split(",").length === 12)).toBe(true);
    expect(csv.length).toBeGreaterThan(120);
  });

  it("refuses --out with --trace, and an unwritable --out before simulating", async () => {
    const where = place();
    const both = await runIn(where, ["--out", "x.csv", "--trace"]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("give --out PATH or --trace (a file in the OS temp dir), not both");
    const bad = await runIn(where, ["--out", "/nonexistent/dir/x.csv"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("cannot write the trace to /nonexistent/dir/x.csv (ENOENT)");
    expect(bad.out).toBe("");
    expect(readdirSync(where.cwd)).toEqual([]);
  });
});
