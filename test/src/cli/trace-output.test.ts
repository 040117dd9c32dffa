import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { traceFileName, traceTarget } from "../../../src/cli/trace-output.js";

describe("traceTarget", () => {
  const temp = mkdtempSync(join(tmpdir(), "cellbench-trace-output-"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("is nothing without --out or --trace, and creates nothing", () => {
    expect(traceTarget({}, "formation", temp)).toBeUndefined();
    expect(readdirSync(temp)).toEqual([]);
  });

  it("is the file --out names, stdout for -, DIR/<name>.trace.csv for a directory", () => {
    expect(traceTarget({ out: "a/b.csv" }, "formation", temp)).toEqual({ to: "file", path: "a/b.csv" });
    expect(traceTarget({ out: "-" }, "formation", temp)).toEqual({ to: "stdout" });
    expect(traceTarget({ out: temp }, "formation", temp)).toEqual({
      to: "file",
      path: join(temp, "formation.trace.csv"),
    });
    expect(traceTarget({ out: "later/" }, "formation", temp)).toEqual({
      to: "file",
      path: join("later", "formation.trace.csv"),
    });
  });

  it("with --trace, is a file in a new private directory of the temp dir, a new one each time", () => {
    const a = traceTarget({ trace: true }, "hppc", temp);
    const b = traceTarget({ trace: true }, "hppc", temp);
    expect(a).toMatchObject({
      to: "file",
      path: expect.stringMatching(/cellbench-trace-[^/]+\/hppc\.trace\.csv$/),
    });
    expect(a).not.toEqual(b);
    expect(readdirSync(temp)).toHaveLength(2);
  });

  it("refuses --out with --trace, and an empty --out", () => {
    expect(() => traceTarget({ out: "x.csv", trace: true }, "p", temp)).toThrow(/not both/);
    expect(() => traceTarget({ out: "" }, "p", temp)).toThrow(/--out needs a path/);
  });
});

describe("traceFileName", () => {
  it.each([
    ["formation", "formation.trace.csv"],
    ["C-rate 0.5C/1C", "C-rate-0.5C-1C.trace.csv"],
    ["../../etc/passwd", "-..-etc-passwd.trace.csv"],
    ["..", "profile.trace.csv"],
    ["", "profile.trace.csv"],
  ])("%j → %s", (name, file) => {
    expect(traceFileName(name)).toBe(file);
  });
});
