import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "check-layers.mjs");
const root = join(import.meta.dirname, "..", "..");

describe("layers: protocols <- drivers <- src", () => {
  const scratch = mkdtempSync(join(tmpdir(), "cellbench-layers-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("holds for this repository", () => {
    expect(execFileSync("node", [script, root], { encoding: "utf8" })).toContain("no crossing");
  });

  it.each([
    ["protocols/a.ts", 'import { x } from "../drivers/b.js";', "protocols -> drivers"],
    ["protocols/a.ts", 'export { x } from "../src/b.js";', "protocols -> src"],
    ["drivers/sim/a.ts", 'const m = await import("../../src/b.js");', "drivers -> src"],
  ])("fails when %s reaches the wrong way", (file, line, crossing) => {
    const dir = mkdtempSync(join(scratch, "case-"));
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), `${line}\n`);
    const result = spawnSync("node", [script, dir], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(crossing);
  });
});
