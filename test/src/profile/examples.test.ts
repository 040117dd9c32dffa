/** Every example profile parses and validates against the cell it is written for. */
import { describe, expect, it } from "vitest";
import type { CyclerRanges } from "../../../drivers/capabilities.js";
import { loadCellFile } from "../../../src/cell/load-cell.js";
import type { ProfileNode, StepNode } from "../../../src/profile/ast.js";
import { loadProfileFile } from "../../../src/profile/load-profile.js";
import { formatIssue } from "../../../src/profile/profile-error.js";
import { type BenchRanges, validateProfile } from "../../../src/profile/validate.js";

/** A modest bench channel (±10 A, 0..5 V, 60 W) in a chamber from -40 to 180 °C. */
const CYCLER: CyclerRanges = {
  voltageV: [0, 5],
  currentA: [-10, 10],
  powerW: 60,
  modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
};
const BENCH: BenchRanges = { cycler: CYCLER, chamber: { temperatureC: [-40, 180] } };

const EXAMPLES: [profile: string, cell: string][] = [
  ["formation", "nmc-18650"],
  ["c-rate-capability", "nmc-18650"],
  ["hppc", "nmc-18650"],
  ["gitt", "nmc-18650"],
  ["cycle-life-60c", "nmc-18650-ageing"],
  ["drive-cycle", "nmc-18650"],
  ["asslb-capacity-vs-temperature", "asslb-sulfide-pouch"],
];

function stepsOf(nodes: ProfileNode[]): StepNode[] {
  return nodes.flatMap((n) =>
    n.type === "step" ? [n] : n.type === "chamber" || n.type === "template" ? [] : stepsOf(n.steps),
  );
}

describe("example profiles", () => {
  it.each(EXAMPLES)("%s validates against %s", (profileName, cellName) => {
    const cell = loadCellFile(`examples/cells/${cellName}.yaml`);
    const profile = loadProfileFile(`examples/profiles/${profileName}.yaml`);
    expect(profile.name).toBe(profileName);
    expect(validateProfile(profile, cell, BENCH).map(formatIssue)).toEqual([]);
  });

  it("refuses the ASSLB temperature sweep for the liquid NMC and LFP cells", () => {
    const profile = loadProfileFile("examples/profiles/asslb-capacity-vs-temperature.yaml");
    for (const cellName of ["nmc-18650", "lfp-26650"]) {
      const paths = validateProfile(profile, loadCellFile(`examples/cells/${cellName}.yaml`), BENCH).map(
        (i) => i.path,
      );
      expect(paths).toContain("steps[2].sweep.chamber[5]");
      expect(paths).toContain("steps[2].steps[0]");
    }
  });

  it("loads the drive cycle next to the profiles with regenerative (negative) points", () => {
    const profile = loadProfileFile("examples/profiles/drive-cycle.yaml");
    const drive = stepsOf(profile.steps).find((s) => s.action.kind === "drive-cycle");
    if (drive?.action.kind !== "drive-cycle") throw new Error("no drive-cycle step");
    const points = drive.action.points;
    expect(drive.action.unit).toBe("A");
    expect(points.length).toBeGreaterThan(300);
    expect(points[0]?.tS).toBe(0);
    expect(Math.min(...points.map((p) => p.value))).toBeLessThan(0);
    expect(Math.max(...points.map((p) => p.value))).toBeLessThanOrEqual(6);
  });

  it.each([
    ["formation", 3, 52],
    ["c-rate-capability", 3, 40],
    ["hppc", 3, 26],
    ["gitt", 3, 130],
    ["asslb-capacity-vs-temperature", 1, 96],
  ] as const)("%s takes at most about %s h", (profileName, capacityAh, maxHours) => {
    const hours =
      upperBoundS(loadProfileFile(`examples/profiles/${profileName}.yaml`).steps, capacityAh) / 3600;
    expect(hours).toBeGreaterThan(maxHours / 4);
    expect(hours).toBeLessThanOrEqual(maxHours);
  });
});

/**
 * Bounds a profile's duration from above: a CC step moves at most the full capacity (1/C hours),
 * a CV phase is counted as one hour, loops multiply, chamber steps add their soak.
 */
function upperBoundS(nodes: ProfileNode[], capacityAh: number): number {
  let total = 0;
  for (const n of nodes) {
    if (n.type === "chamber") total += n.soakS;
    else if (n.type === "repeat") total += n.count * upperBoundS(n.steps, capacityAh);
    else if (n.type === "sweep") total += n.chamberC.length * (n.soakS + upperBoundS(n.steps, capacityAh));
    else if (n.type === "template") throw new Error("the examples use no loop variables");
    else {
      const a = n.action;
      const limit = n.termination.durationS ?? Number.POSITIVE_INFINITY;
      const ccS = (value: { kind: string; c?: number; amps?: number }): number =>
        value.kind === "c-rate" ? 3600 / (value.c as number) : (3600 * capacityAh) / (value.amps as number);
      const estimate =
        a.kind === "constant"
          ? ccS(a.value)
          : a.kind === "cccv"
            ? ccS(a.value) + 3600
            : a.kind === "hold"
              ? 3600
              : 0;
      total += Math.min(limit, estimate || limit);
    }
  }
  return total;
}
