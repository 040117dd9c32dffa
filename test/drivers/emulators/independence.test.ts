// Emulators are written from the instruments' documents, never from the drivers they test: an emulator
// that took its register map or command table from its driver would agree with any mistake in it. This
// walks every import (static, type-only, dynamic, re-export) reachable from drivers/emulators/ and fails
// on any module of drivers/ outside the generic ones listed in GENERIC.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const EMULATORS = "drivers/emulators/";

/**
 * Modules of drivers/ an emulator may reach, each for a reason that is not an instrument's table: the
 * clock, the shared capability types (units and chemistry names), and the simulated physics the
 * emulated cells and chamber air run on (no wire protocol in any of them).
 */
const GENERIC: ReadonlyMap<string, string> = new Map([
  ["drivers/clock.ts", "clocks"],
  ["drivers/sleepers.ts", "clocks"],
  ["drivers/paced-clock.ts", "clocks"],
  ["drivers/capabilities.ts", "capability types"],
  ["drivers/sim/cell-model.ts", "cell physics"],
  ["drivers/sim/cell-ageing.ts", "cell physics"],
  ["drivers/sim/cell-parameters.ts", "cell physics"],
  ["drivers/sim/ocv-curves.ts", "cell physics"],
  ["drivers/sim/chamber-model.ts", "chamber physics"],
  ["drivers/sim/sim-world.ts", "physics on a clock"],
  ["drivers/sim/sim-faults.ts", "seeded random numbers"],
  ["drivers/sim/sim-errors.ts", "errors of the physics options"],
]);

/** Relative module specifiers a source text imports, in any form. */
function importedSpecifiers(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith("."));
}

/** Repository-relative .ts path of a specifier imported by `from` (itself repository-relative). */
function resolveImport(from: string, specifier: string): string {
  const target = join(dirname(from), specifier).replace(/\.js$/, ".ts");
  return relative(ROOT, resolve(ROOT, target)).split("\\").join("/");
}

/** Why `file` may not be reached from an emulator, or undefined when it may. */
function forbidden(file: string): string | undefined {
  if (file.startsWith(EMULATORS) || file.startsWith("protocols/") || GENERIC.has(file)) return undefined;
  if (file.startsWith("drivers/")) return "a driver module (an instrument's tables or a driver's code)";
  if (file.startsWith("src/")) return "the daemon (layers point protocols ← drivers ← src)";
  return "outside drivers/ and protocols/";
}

interface Violation {
  emulatorFile: string;
  via: string[];
  reached: string;
  why: string;
}

/** Every forbidden module reachable from `start`, with the chain of imports that reaches it. */
function violationsFrom(start: string, read: (file: string) => string): Violation[] {
  const seen = new Set<string>([start]);
  const queue: Array<{ file: string; via: string[] }> = [{ file: start, via: [] }];
  const found: Violation[] = [];
  for (let item = queue.shift(); item; item = queue.shift()) {
    for (const specifier of importedSpecifiers(read(item.file))) {
      const target = resolveImport(item.file, specifier);
      if (seen.has(target)) continue;
      seen.add(target);
      const why = forbidden(target);
      if (why) found.push({ emulatorFile: start, via: [...item.via, item.file], reached: target, why });
      else if (!target.startsWith("protocols/")) queue.push({ file: target, via: [...item.via, item.file] });
    }
  }
  return found;
}

const readRepoFile = (file: string) => readFileSync(join(ROOT, file), "utf8");
const emulatorFiles = readdirSync(join(ROOT, EMULATORS))
  .filter((name) => name.endsWith(".ts"))
  .map((name) => `${EMULATORS}${name}`);

describe("emulators are independent of the drivers they test", () => {
  it("finds the emulator sources", () => {
    expect(emulatorFiles.length).toBeGreaterThanOrEqual(20);
    expect(emulatorFiles).toContain("drivers/emulators/ea-psb-modbus-emulator.ts");
  });

  it.each(emulatorFiles)("%s reaches no driver module", (file) => {
    const violations = violationsFrom(file, readRepoFile).map(
      (v) => `${[...v.via, v.reached].join(" → ")}: ${v.why}`,
    );
    expect(violations).toEqual([]);
  });

  it("sees imports in every form: multi-line, type-only, dynamic, re-export", () => {
    const text = [
      "import {\n  EA_MODBUS,\n  EA_STATE,\n} from '../ea/ea-psb-modbus.js';",
      "import type { F4 } from '../watlow/watlow-f4.js';",
      "const m = await import('../espec/espec-p300.js');",
      "export { F4T } from '../watlow/watlow-f4t.js';",
      "import { readFileSync } from 'node:fs';",
    ].join("\n");
    expect(importedSpecifiers(text)).toEqual([
      "../ea/ea-psb-modbus.js",
      "../watlow/watlow-f4.js",
      "../espec/espec-p300.js",
      "../watlow/watlow-f4t.js",
    ]);
  });

  it("fails an emulator that takes its driver's table, directly or through another module", () => {
    const sources: Record<string, string> = {
      "drivers/emulators/direct.ts": "import { EA_MODBUS } from '../ea/ea-psb-modbus.js';",
      "drivers/emulators/indirect.ts": "import { table } from './helper.js';",
      "drivers/emulators/helper.ts": "export { F4 as table } from '../watlow/watlow-f4.js';",
      "drivers/emulators/physics.ts": "import { CellModel } from '../sim/cell-model.js';",
      "drivers/sim/cell-model.ts": "import type { Chemistry } from '../capabilities.js';",
      "drivers/capabilities.ts": "import type { Clock } from './clock.js';",
      "drivers/clock.ts": "",
    };
    const read = (file: string) => sources[file] ?? "";
    expect(violationsFrom("drivers/emulators/direct.ts", read)).toEqual([
      {
        emulatorFile: "drivers/emulators/direct.ts",
        via: ["drivers/emulators/direct.ts"],
        reached: "drivers/ea/ea-psb-modbus.ts",
        why: "a driver module (an instrument's tables or a driver's code)",
      },
    ]);
    expect(violationsFrom("drivers/emulators/indirect.ts", read).map((v) => [...v.via, v.reached])).toEqual([
      ["drivers/emulators/indirect.ts", "drivers/emulators/helper.ts", "drivers/watlow/watlow-f4.ts"],
    ]);
    expect(violationsFrom("drivers/emulators/physics.ts", read)).toEqual([]);
  });

  it("allows the generic modules and protocols/, and nothing else of drivers/ or src/", () => {
    expect(forbidden("protocols/modbus/modbus-frames.ts")).toBeUndefined();
    expect(forbidden("drivers/clock.ts")).toBeUndefined();
    expect(forbidden("drivers/emulators/modbus-line.ts")).toBeUndefined();
    for (const file of [
      "drivers/ea/ea-psb-modbus.ts",
      "drivers/itech/itech-it-m3400.ts",
      "drivers/keysight/daq970a-scan.ts",
      "drivers/modbus/temperature-input-presets.ts",
      "drivers/watlow/watlow-f4t.ts",
      "drivers/espec/espec-p300.ts",
      "drivers/common/supply-set-values.ts",
      "drivers/sim/sim-cycler.ts",
      "drivers/registry.ts",
    ])
      expect(forbidden(file), file).toMatch(/driver module/);
    expect(forbidden("src/config/config.ts")).toMatch(/daemon/);
  });
});
