import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageVersion } from "../../../src/cli/version.js";

const root = join(import.meta.dirname, "..", "..", "..");

describe("packageVersion", () => {
  const scratch = mkdtempSync(join(tmpdir(), "cellbench-version-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is the version of the repository's package.json, read from src/cli", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(packageVersion()).toBe(manifest.version);
    expect(packageVersion(join(root, "src", "cli"))).toBe(manifest.version);
  });

  it("is found from the build's dist/src/cli, three levels up, past another package's manifest", () => {
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "cellbench", version: "9.8.7" }));
    const cli = join(scratch, "dist", "src", "cli");
    mkdirSync(cli, { recursive: true });
    writeFileSync(join(scratch, "dist", "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(cli, "package.json"), "not json");
    expect(packageVersion(cli)).toBe("9.8.7");
  });

  it("says where it looked when there is none", () => {
    const lost = mkdtempSync(join(tmpdir(), "cellbench-no-manifest-"));
    try {
      expect(() => packageVersion(lost)).toThrow(/no package\.json of cellbench above/);
    } finally {
      rmSync(lost, { recursive: true, force: true });
    }
  });
});
