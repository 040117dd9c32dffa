import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT, environmentHelp } from "../../../src/cli/environment.js";

const root = join(import.meta.dirname, "..", "..", "..");

/** The CELLBENCH_* and INFLUX_* variables the shipped code reads (`env.NAME`, `env["NAME"]`), with where. */
function variablesRead(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const dir of ["src", "drivers", "protocols"]) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(join(root, dir, file), "utf8");
      for (const m of text.matchAll(/\benv(?:\.|\[["'`])((?:CELLBENCH|INFLUX)_[A-Z0-9_]+)/g)) {
        const name = m[1] as string;
        found.set(name, [...(found.get(name) ?? []), `${dir}/${file}`]);
      }
    }
  }
  return found;
}

describe("ENVIRONMENT", () => {
  it("describes every CELLBENCH_* and INFLUX_* variable the code reads, and no other", () => {
    const read = variablesRead();
    expect([...read.keys()].sort()).toEqual(ENVIRONMENT.map((v) => v.name).sort());
  });

  it("finds what it describes where it says: the daemon's in its configuration and logger, the client's in the client", () => {
    const read = variablesRead();
    for (const v of ENVIRONMENT) {
      const files = read.get(v.name) ?? [];
      if (v.readBy === "client commands") expect(files, v.name).toEqual(["src/cli/client/client-command.ts"]);
      else
        expect(
          files.some((f) => f.startsWith("src/config/") || f === "src/log.ts"),
          v.name,
        ).toBe(true);
    }
  });

  it("shows the chosen variables as a help block, long meanings wrapped under the meaning column", () => {
    const block = environmentHelp((v) => v.readBy === "client commands").split("\n");
    expect(block[0]).toBe("environment:");
    expect(block.flatMap((line) => /^ {2}([A-Z_]+)/.exec(line)?.[1] ?? [])).toEqual([
      "CELLBENCH_URL",
      "CELLBENCH_TOKEN",
    ]);
    const all = environmentHelp(() => true).split("\n");
    for (const line of all) expect(line.length).toBeLessThanOrEqual(100);
    const column = (all[1] as string).indexOf("API tokens");
    for (const line of all.slice(1)) if (!/^ {2}[A-Z]/.test(line)) expect(line.search(/\S/)).toBe(column);
  });
});
