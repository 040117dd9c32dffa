import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellSpec, CyclerRanges } from "../../../drivers/capabilities.js";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { parseCell } from "../../../src/cell/cell.js";
import type { Profile } from "../../../src/profile/ast.js";
import { parseProfile } from "../../../src/profile/document.js";
import { formatIssue, ProfileError } from "../../../src/profile/profile-error.js";
import { assertProfileValid, type BenchRanges, validateProfile } from "../../../src/profile/validate.js";

const CYCLER: CyclerRanges = {
  voltageV: [0, 5],
  currentA: [-10, 10],
  powerW: 60,
  modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
};
const BENCH: BenchRanges = { cycler: CYCLER, chamber: { temperatureC: [-40, 180] } };

const nmc = parseCell({ id: "NMC-1", chemistry: "li-ion-nmc", capacity_ah: 3, current: [-9, 3] }, "nmc");
const asslb = parseCell({ id: "SSB-1", chemistry: "asslb-sulfide", capacity_ah: 1, current: [-3, 1] }, "ssb");

const profile = (yaml: string): Profile => parseProfile(yaml, { sourceName: "t.yaml" });
const issues = (p: Profile, cell: CellSpec = nmc, bench: BenchRanges = BENCH): string[] =>
  validateProfile(p, cell, bench).map(formatIssue);

describe("the same profile for a liquid NMC cell and a sulfide ASSLB cell", () => {
  const hot = profile(`
name: hot-cycle
steps:
  - chamber: 105 °C
    soak: 1 h
  - Charge at C/3 to 4.2 V, hold until C/20
  - Rest for 10 minutes
  - Discharge at C/3 until 2.5 V
`);

  it("refuses the NMC cell charging (and sitting) at 105 °C", () => {
    expect(issues(hot, nmc)).toEqual([
      "steps[0].chamber: 105 °C is outside cell NMC-1's temperature range -20..60 °C (li-ion-nmc); choose a set point within it",
      'steps[1]: "Charge at C/3 to 4.2 V, hold until C/20" charges with the chamber at 105 °C (steps[0]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
      'steps[3]: "Discharge at C/3 until 2.5 V" discharges with the chamber at 105 °C (steps[0]), but li-ion-nmc cell NMC-1 may be discharged only at -20..60 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
    expect(() => assertProfileValid(hot, nmc, BENCH)).toThrow(ProfileError);
  });

  it("passes it for the asslb-sulfide cell", () => {
    expect(issues(hot, asslb)).toEqual([]);
    expect(() => assertProfileValid(hot, asslb, BENCH)).not.toThrow();
  });
});

describe("chamber temperature along every path", () => {
  it("does not check temperature before any chamber step (uncontrolled ambient)", () => {
    expect(issues(profile("name: t\nsteps: [Charge at C/5 until 4.2 V]\n"))).toEqual([]);
  });

  it("checks each sweep value separately and names it", () => {
    const p = profile(`
name: t
steps:
  - sweep: { chamber: [-10, 25, 50] }
    steps: [Charge at C/5 until 4.2 V, Discharge at C/5 until 2.5 V]
`);
    expect(issues(p)).toEqual([
      'steps[0].steps[0]: "Charge at C/5 until 4.2 V" charges with the chamber at -10 °C (steps[0].sweep.chamber[0]), 50 °C (steps[0].sweep.chamber[2]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
  });

  it("carries the temperature set at the end of a repeat body into its next iteration", () => {
    const p = profile(`
name: t
steps:
  - chamber: 25 °C
  - repeat: 2
    steps:
      - Charge at C/5 until 4.2 V
      - chamber: 55 °C
      - Discharge at C/5 until 2.5 V
`);
    expect(issues(p)).toEqual([
      'steps[1].steps[0]: "Charge at C/5 until 4.2 V" charges with the chamber at 55 °C (steps[1].steps[1]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
    // Once only, the loop body never sees 55 °C before its first step.
    const once = profile(`
name: t
steps:
  - chamber: 25 °C
  - repeat: 1
    steps: [Charge at C/5 until 4.2 V, { chamber: 55 °C }, Discharge at C/5 until 2.5 V]
`);
    expect(issues(once)).toEqual([]);
  });

  it("follows gotos back to a label", () => {
    const p = profile(`
name: t
steps:
  - chamber: 25 °C
  - step: Charge at C/5 until 4.2 V
    label: again
  - chamber: 50 °C
  - step: Discharge at C/5 until 2.5 V
    limits: [{ when: "< 3.0 V", then: goto again }]
`);
    expect(issues(p)).toEqual([
      'steps[1]: "Charge at C/5 until 4.2 V" charges with the chamber at 50 °C (steps[2]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
  });

  it("checks PyBaMM's per-step temperature like a chamber step", () => {
    const p = profile("name: t\nsteps: [Charge at 1 A until 4.1 V at 50oC]\n");
    expect(issues(p)).toEqual([
      'steps[0]: "Charge at 1 A until 4.1 V at 50oC" charges with the chamber at 50 °C (steps[0].ambient), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
  });
});

describe("validateProfile", () => {
  it("accepts a profile built in code and reports structural problems too", () => {
    const p: Profile = {
      name: "code",
      steps: [
        {
          type: "repeat",
          path: "steps[0]",
          text: "repeat",
          count: 0,
          steps: [
            {
              type: "step",
              path: "steps[0].steps[0]",
              text: "Rest for 1 s",
              action: { kind: "rest" },
              termination: { durationS: 1, conditions: [] },
              limits: [{ when: { kind: "voltage", volts: 3 }, then: { kind: "goto", label: "x" } }],
              periodS: 0.001,
            },
          ],
        },
      ],
    };
    expect(issues(p)).toEqual([
      'steps[0].repeat: repeat count 0 is not a positive integer; write e.g. "repeat: 3"',
      'steps[0].steps[0]: "Rest for 1 s": the period 1 ms is shorter than 10 ms; use (10 ms period) or longer',
      'steps[0].steps[0].limits[0].then: no step is labelled "x"; add `label: <name>` to the target step',
    ]);
  });

  it("takes a bare CellSpec and uses its chemistry's windows", () => {
    const spec: CellSpec = {
      id: "LFP-9",
      chemistry: "li-ion-lfp",
      capacityAh: 2.5,
      voltageV: [2.0, 3.65],
      currentA: [-10, 5],
      temperatureC: [-20, 60],
    };
    const p = profile('name: t\nsteps: [{ chamber: 50 °C }, "Charge at 1C to 3.65 V, hold until C/20"]\n');
    expect(issues(p, spec)).toEqual([
      'steps[1]: "Charge at 1C to 3.65 V, hold until C/20" charges with the chamber at 50 °C (steps[0]), but li-ion-lfp cell LFP-9 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ]);
  });

  it("resolves C-rates against the cell's capacity", () => {
    const p = profile("name: t\nsteps: [Charge at 1C until 4.2 V]\n");
    expect(issues(p, { ...nmc, capacityAh: 3 })).toEqual([]);
    expect(issues(p, { ...nmc, capacityAh: 3.5 })).toEqual([
      'steps[0]: "Charge at 1C until 4.2 V" charges at 3.5 A (1C of 3.5 Ah), more than cell NMC-1 (3 A) allows; lower the value',
    ]);
  });

  it("throws one ProfileError with every issue", () => {
    const p = profile("name: t\nsteps: [Charge at 2C, Hold at 5 V for 1 s]\n");
    try {
      assertProfileValid(p, nmc, BENCH);
      throw new Error("should have thrown");
    } catch (e) {
      expect(hasErrorCode(e, "PROFILE_INVALID")).toBe(true);
      expect((e as ProfileError).issues.map((i) => i.path)).toEqual(["steps[0]", "steps[0]", "steps[1]"]);
      expect((e as ProfileError).message.split("\n")).toHaveLength(3);
    }
  });
});

describe("issue 14: ramps, CV limits, SOC and loop variables", () => {
  it("checks both ends of a ramp and of a voltage ramp against the window", () => {
    const p = profile(`
name: ramps
steps:
  - Charge at 0.1C to 2C over 10 minutes
  - Discharge at 0 A to 2 A over 10 minutes
  - Ramp voltage from 3.0 V to 4.5 V over 10 minutes at most 1 A
  - Hold at 4.2 V at most 0.5C for 2 hours or until C/50
`);
    expect(issues(p)).toEqual([
      'steps[0]: "Charge at 0.1C to 2C over 10 minutes" charges at 6 A (2C of 3 Ah), more than cell NMC-1 (3 A) allows; lower the value',
      'steps[2]: "Ramp voltage from 3.0 V to 4.5 V over 10 minutes at most 1 A" ramps to 4.5 V, outside the voltage window 2.5..4.2 V of cell NMC-1; use a voltage within it',
    ]);
  });

  it("checks every iteration of a step with loop variables, naming the iteration", () => {
    const p = profile(`
name: rate-capability
steps:
  - sweep: { c: [0.5C, 1C, 4C] }
    steps:
      - Charge at C/2 to 4.2 V, hold until C/20
      - Discharge at {c} until 2.5 V
`);
    expect(issues(p)).toEqual([
      'steps[0].steps[1] (c = 4C): "Discharge at 4C until 2.5 V" discharges at 12 A (4C of 3 Ah), more than cell NMC-1 (9 A) allows; lower the value',
    ]);
  });

  it("validates a swept profile iff every value is within the cell's and channel's limits", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }), (tenths) => {
        const values = tenths.map((k) => `${k / 10}C`);
        const p = profile(`
name: sweep
steps:
  - sweep: { c: [${values.join(", ")}] }
    steps: ["Discharge at {c} until 2.5 V"]
`);
        const found = issues(p);
        // NMC-1: 3 Ah, 9 A discharge (3C); 60 W channel at 4.2 V: 14.3 A.
        const bad = values.filter((_v, i) => (tenths[i] as number) > 30);
        expect(found.length === 0).toBe(bad.length === 0);
        for (const v of bad)
          expect(found.some((m) => m.startsWith(`steps[0].steps[0] (c = ${v}):`))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses an SOC outside 0-100 % and a retention in a step (profiles built in code)", () => {
    const p: Profile = {
      name: "code",
      steps: [
        {
          type: "step",
          path: "steps[0]",
          text: "charge",
          action: { kind: "constant", direction: "charge", value: { kind: "c-rate", c: 1 } },
          termination: {
            conditions: [
              { kind: "soc", fraction: 1.5 },
              { kind: "retention", op: "<", fraction: 0.8, ofCycle: 1 },
            ],
          },
          limits: [],
        },
      ],
    };
    expect(issues(p)).toEqual([
      'steps[0]: "charge" ends at 150 % SOC, outside 0-100 %; use e.g. "until 80% SOC"',
      'steps[0]: "charge" ends on capacity retention, which ends repeat loops, not steps; put until: "capacity < 80 % of cycle 1" on the repeat',
    ]);
  });
});
