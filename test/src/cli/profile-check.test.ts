import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { DryRunTooLongError } from "../../../src/cli/cli-error.js";
import { main } from "../../../src/cli/main.js";

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
