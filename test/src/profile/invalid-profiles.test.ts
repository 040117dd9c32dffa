/**
 * Invalid profiles, each with the exact messages a lab engineer sees: parse errors (document and
 * step strings) and validation errors (against a cell and a bench).
 */
import { describe, expect, it } from "vitest";
import type { CyclerRanges } from "../../../drivers/capabilities.js";
import { type Cell, parseCell } from "../../../src/cell/cell.js";
import { parseProfile } from "../../../src/profile/document.js";
import { formatIssue, ProfileError } from "../../../src/profile/profile-error.js";
import { type BenchRanges, validateProfile } from "../../../src/profile/validate.js";

const NMC = parseCell(
  { id: "NMC-1", chemistry: "li-ion-nmc", capacity_ah: 3, voltage: [2.5, 4.2], current: [-9, 3] },
  "nmc",
);
const ASSLB = parseCell({ id: "SSB-1", chemistry: "asslb-sulfide", capacity_ah: 1, current: [-3, 1] }, "ssb");
const CYCLER: CyclerRanges = {
  voltageV: [0, 5],
  currentA: [-10, 10],
  powerW: 40,
  modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
};
const BENCH: BenchRanges = { cycler: CYCLER, chamber: { temperatureC: [-40, 110] } };
const TRACE = "time_s,current_A\n0,0\n1,2\n2,-4\n3,0\n";

/** Parses (with an in-memory drive-cycle file) and validates; returns the issues as printed. */
function problems(yaml: string, cell: Cell = NMC, bench: BenchRanges = BENCH): string[] {
  let profile: ReturnType<typeof parseProfile>;
  try {
    profile = parseProfile(yaml, {
      sourceName: "p.yaml",
      baseDir: "/p",
      readFile: (path) => {
        if (path === "/p/trace.csv") return TRACE;
        if (path === "/p/short.csv") return "time_s,current_A\n0,1\n";
        throw Object.assign(new Error("missing"), { code: "ENOENT" });
      },
    });
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    return e.issues.map(formatIssue);
  }
  return validateProfile(profile, cell, bench).map(formatIssue);
}

const steps = (...lines: string[]): string => `name: t\nsteps:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;

type Case = [title: string, yaml: string, expected: string[], cell?: Cell, bench?: BenchRanges];

const CASES: Case[] = [
  // ---- document structure ----
  ["not a mapping", "- Rest for 1 s\n", ["a profile is a mapping with name and steps, got a list"]],
  [
    "no name, no steps",
    "description: nothing\n",
    [
      "name: missing; give the profile a name",
      "steps: missing; list the steps, e.g. steps: [Rest for 10 minutes]",
    ],
  ],
  ["empty steps", "name: t\nsteps: []\n", ["steps: is empty; list at least one step"]],
  [
    "steps not a list",
    "name: t\nsteps: Rest for 1 s\n",
    ['steps: expected a list of steps, got "Rest for 1 s"'],
  ],
  [
    "unknown top-level key",
    "name: t\nstep: [Rest for 1 s]\nsteps: [Rest for 1 s]\n",
    [
      'step: unknown key "step" (did you mean "steps"?); a profile takes name, description, safety, log, drive_cycles or steps',
    ],
  ],
  [
    "number as a step",
    steps("- 42"),
    ["steps[0]: expected a step string or an object with step, chamber, repeat or sweep, got 42"],
  ],
  [
    "empty step",
    steps("-"),
    ['steps[0]: empty step; write a step string such as "Rest for 10 minutes" or an object'],
  ],
  [
    "object without a kind",
    steps("- { label: a, soak: 1 h }"),
    ["steps[0]: an object step needs one of step, chamber, repeat or sweep; found label, soak"],
  ],
  [
    "two kinds in one object",
    steps("- { repeat: 2, sweep: { chamber: [0] }, steps: [Rest for 1 s] }"),
    ['steps[0]: give one of step, chamber, repeat or sweep, not "repeat" and "sweep"'],
  ],
  [
    "unknown key in a step object",
    steps("- { step: Rest for 1 s, limit: [] }"),
    ['steps[0].limit: unknown key "limit" (did you mean "limits"?); a step takes step, label, limits or log'],
  ],
  [
    "step object without a string",
    steps("- { step: 5 }"),
    ['steps[0].step: expected a step string such as "Charge at 1C until 4.2 V", got 5'],
  ],
  // ---- step strings in documents ----
  [
    "bad unit in a nested step",
    steps("- repeat: 2", "  steps:", "    - Rest for 1 s", "    - step: Charge at 1 Q until 4.2 V"),
    [
      'steps[0].steps[1].step: "Charge at 1 Q until 4.2 V": unknown unit "Q" after 1; use A, mA, W, mW, Ohm, C or C/n',
    ],
  ],
  [
    "typo in an instruction",
    steps("- Rest for 1 s", "- Chrage at 1C until 4.2 V"),
    [
      'steps[1]: "Chrage at 1C until 4.2 V": unknown instruction "Chrage"; start with Charge, Discharge, Rest, Hold, Ramp or Run',
    ],
  ],
  [
    "CC-CV split by a YAML flow list",
    "name: t\nsteps: [Charge at C/2 to 4.2 V, hold until C/20]\n",
    [
      'steps[0]: "Charge at C/2 to 4.2 V": expected ", hold until" after "to 4.2 V", found the end',
      'steps[1]: "hold until C/20": "Hold" needs "at <voltage>"; if this is the second half of a CC-CV step, a YAML [flow list] split it at its comma: quote the step or give it its own "- " line',
    ],
  ],
  // ---- quantities ----
  [
    "bad soak unit",
    steps("- { chamber: 25, soak: 2 weeks }"),
    [
      'steps[0].soak: unknown unit "weeks" after 2 in "2 weeks"; use ms, s, min or h (or seconds, minutes, hours), e.g. "2 h"',
    ],
  ],
  [
    "chamber not a temperature",
    steps("- { chamber: warm }"),
    ['steps[0].chamber: expected a temperature such as "25 °C", got "warm"'],
  ],
  [
    "chamber that is not one number",
    steps("- { chamber: 1.2.3 }"),
    ['steps[0].chamber: "1.2.3" is not a number; write a temperature such as "25 °C"'],
  ],
  [
    "soak too large to be a number",
    steps("- { chamber: 25, soak: 1e999 s }", "- Rest for 1 s"),
    ['steps[0].soak: "1e999 s" is too large; write a duration such as "2 h"'],
  ],
  [
    "safety limit that is not one number",
    "name: t\nsafety: { voltage: [1.2.3 V, 4.2 V] }\nsteps: [Rest for 1 s]\n",
    ['safety.voltage[0]: "1.2.3" is not a number; write a voltage such as "4.2 V"'],
  ],
  [
    "non-positive tolerance",
    steps("- { chamber: 25, tolerance: 0 }"),
    ['steps[0].tolerance: tolerance 0 °C must be greater than 0, e.g. "1 °C"'],
  ],
  [
    "negative soak",
    steps("- { chamber: 25, soak: -5 }"),
    ["steps[0].soak: soak -5 s is negative; use 0 s or more"],
  ],
  [
    "log with an unknown key",
    "name: t\nlog: { every: 1 s, dT: 1 }\nsteps: [Rest for 1 s]\n",
    ['log.dT: unknown key "dT" (did you mean "dV"?); log takes every, dV or dI'],
  ],
  [
    "log with a wrong unit",
    "name: t\nlog: { dV: 5 mA }\nsteps: [Rest for 1 s]\n",
    ['log.dV: unknown unit "mA" after 5 in "5 mA"; use V or mV, e.g. "4.2 V"'],
  ],
  [
    "log every too short",
    "name: t\nlog: { every: 1 ms }\nsteps: [Rest for 1 s]\n",
    ["log.every: every 1 ms is shorter than 10 ms"],
  ],
  [
    "safety not a pair",
    "name: t\nsafety: { voltage: 4.2 }\nsteps: [Rest for 1 s]\n",
    ["safety.voltage: expected [min, max], got 4.2"],
  ],
  // ---- loops ----
  [
    "repeat count not an integer",
    steps("- { repeat: 2.5, steps: [Rest for 1 s] }"),
    ["steps[0].repeat: repeat count must be a positive integer, got 2.5"],
  ],
  [
    "repeat without steps",
    steps("- { repeat: 2 }"),
    ["steps[0].steps: missing; a repeat needs steps: [...]"],
  ],
  [
    "sweep without temperatures",
    steps("- { sweep: { chamber: [] }, steps: [Rest for 1 s] }"),
    ["steps[0].sweep.chamber: expected a list of temperatures such as [0, 25, 45], got a list"],
  ],
  [
    "sweep with a bad key",
    steps("- { sweep: { temperature: [25] }, steps: [Rest for 1 s] }"),
    [
      'steps[0].sweep.temperature: no step of the sweep uses {temperature}; write chamber: [temperatures] to sweep the chamber, or use {temperature} in a step string such as "Discharge at {temperature} until 2.5 V"',
    ],
  ],
  // ---- labels and limits ----
  [
    "duplicate labels",
    steps("- { step: Rest for 1 s, label: a }", "- { repeat: 2, label: a, steps: [Rest for 1 s] }"),
    ['steps[1].label: label "a" is already used by steps[0]; labels must be unique'],
  ],
  [
    "goto to a missing label",
    steps(
      "- { step: Rest for 1 s, label: start }",
      '- { step: "Discharge at 1C until 2.5 V", limits: [{ when: "40 °C", then: goto strat }] }',
    ),
    ['steps[1].limits[0].then: no step is labelled "strat" (did you mean "start"?); labels are: start'],
  ],
  [
    "label with a space",
    steps('- { step: Rest for 1 s, label: "my label" }'),
    [
      'steps[0].label: label must be one word of letters, digits, ".", "-" or "_" (it is used as "goto <label>"), got "my label"',
    ],
  ],
  [
    "limit without then",
    steps('- { step: Rest for 1 s, limits: [{ when: "4 V" }] }'),
    ['steps[0].limits[0].then: expected next, abort or "goto <label>", got undefined'],
  ],
  [
    "limit when not a string",
    steps("- { step: Rest for 1 s, limits: [{ when: 4, then: next }] }"),
    ['steps[0].limits[0].when: expected a condition such as "4.25 V", "> 45 °C" or "C/50", got 4'],
  ],
  [
    "limits not a list",
    steps("- { step: Rest for 1 s, limits: { when: 4 V } }"),
    ['steps[0].limits: expected a list such as [{ when: "4.25 V", then: abort }], got an object'],
  ],
  // ---- drive cycles ----
  [
    "drive cycle file missing",
    steps("- Discharge following nope.csv"),
    [
      'steps[0]: "Discharge following nope.csv": cannot read drive cycle /p/nope.csv (ENOENT); paths are relative to the profile\'s folder',
    ],
  ],
  [
    "drive cycle too short",
    steps("- Discharge following short.csv"),
    [
      'steps[0]: "Discharge following short.csv": short.csv has 1 data rows; a drive cycle needs at least 2 (time, value) rows',
    ],
  ],
  [
    "unknown drive cycle name",
    steps("- Run US06 (A)"),
    [
      'steps[0]: "Run US06 (A)": no drive cycle named "US06"; add drive_cycles: { US06: <file.csv> } to the profile or write "Discharge following <file.csv>"',
    ],
  ],
  [
    "drive cycle unit disagrees",
    "name: t\ndrive_cycles: { T: trace.csv }\nsteps: [Run T (W)]\n",
    ['steps[0]: "Run T (W)": trace.csv holds current (A) but the step says (W); make them agree'],
  ],
  // ---- structure checks after parsing ----
  [
    "period below 10 ms",
    steps("- Charge at 1C for 1 s (5 ms period)"),
    [
      'steps[0]: "Charge at 1C for 1 s (5 ms period)": the period 5 ms is shorter than 10 ms; use (10 ms period) or longer',
    ],
  ],
  // ---- validation against the cell and the bench ----
  [
    "step that never ends",
    steps("- Charge at 1C"),
    ['steps[0]: "Charge at 1C" never ends; add "for <duration>" or "until <condition>"'],
  ],
  [
    "C-rate above the cell's charge current",
    steps("- Charge at 2C until 4.2 V"),
    [
      'steps[0]: "Charge at 2C until 4.2 V" charges at 6 A (2C of 3 Ah), more than cell NMC-1 (3 A) allows; lower the value',
    ],
  ],
  [
    "current above the cycler's",
    steps("- Discharge at 12 A until 2.5 V"),
    [
      'steps[0]: "Discharge at 12 A until 2.5 V" discharges at 12 A, more than cell NMC-1 (9 A) allows; lower the value',
      'steps[0]: "Discharge at 12 A until 2.5 V" needs 50.4 W at 4.2 V, more than the cycler channel\'s 40 W; lower the current',
    ],
  ],
  [
    "current above the profile's safety",
    "name: t\nsafety: { current: [-2, 2] }\nsteps: [Discharge at 1C until 2.5 V]\n",
    [
      'steps[0]: "Discharge at 1C until 2.5 V" discharges at 3 A (1C of 3 Ah), more than the profile\'s safety.current (2 A) allows; lower the value',
    ],
  ],
  [
    "power above the cycler",
    steps("- Discharge at 50 W for 1 min"),
    [
      'steps[0]: "Discharge at 50 W for 1 min" asks for 50 W, more than the cycler channel\'s 40 W; lower the power',
      'steps[0]: "Discharge at 50 W for 1 min" discharges at 20 A at the 2.5 V end of the window, more than cell NMC-1 (9 A) allows; lower the value',
    ],
  ],
  [
    "resistance drawing too much",
    steps("- Discharge at 0.2 Ohm for 1 min"),
    [
      'steps[0]: "Discharge at 0.2 Ohm for 1 min" discharges at 21 A at 4.2 V, more than cell NMC-1 (9 A) allows; lower the value',
    ],
  ],
  [
    "hold above the cell window",
    steps("- Hold at 4.3 V until C/20"),
    [
      'steps[0]: "Hold at 4.3 V until C/20" holds at 4.3 V, outside the voltage window 2.5..4.2 V of cell NMC-1; use a voltage within it',
    ],
  ],
  [
    "CC-CV above the safety window",
    'name: t\nsafety: { voltage: [3.0, 4.1] }\nsteps: ["Charge at C/2 to 4.2 V, hold until C/20"]\n',
    [
      'steps[0]: "Charge at C/2 to 4.2 V, hold until C/20" holds at 4.2 V, outside the voltage window 3..4.1 V of cell NMC-1 within the profile\'s safety.voltage; use a voltage within it',
    ],
  ],
  [
    "termination below the cut-off",
    steps("- Discharge at 1C until 2.0 V"),
    [
      'steps[0]: "Discharge at 1C until 2.0 V" ends at 2 V, outside the voltage window 2.5..4.2 V of cell NMC-1; the cycler stops at the window\'s edge, so the step would never end there — use a voltage within it',
    ],
  ],
  [
    "termination temperature beyond the cell",
    steps("- Discharge at 1C until 2.5 V or 70 °C"),
    [
      'steps[0]: "Discharge at 1C until 2.5 V or 70 °C" ends at 70 °C, outside the allowed cell temperature -20..60 °C; the run would fault before the step ends',
    ],
  ],
  [
    "safety wider than the cell",
    "name: t\nsafety: { voltage: [2.5, 4.3], current: [-20, 3], temperature: [-30, 60] }\nsteps: [Rest for 1 s]\n",
    [
      "safety.voltage: 2.5..4.3 V is wider than cell NMC-1's 2.5..4.2 V; safety limits may only narrow the cell's envelope",
      "safety.current: -20..3 A is wider than cell NMC-1's -9..3 A; safety limits may only narrow the cell's envelope",
      "safety.temperature: -30..60 °C is wider than cell NMC-1's -20..60 °C; safety limits may only narrow the cell's envelope",
    ],
  ],
  [
    "chamber beyond the chamber's range",
    steps("- { chamber: 120 °C }"),
    [
      "steps[0].chamber: 120 °C is outside the chamber's range -40..110 °C; choose a set point within it",
      "steps[0].chamber: 120 °C is outside cell NMC-1's temperature range -20..60 °C (li-ion-nmc); choose a set point within it",
    ],
  ],
  [
    "chamber outside the profile's safety temperature",
    "name: t\nsafety: { temperature: [10, 45] }\nsteps: [{ chamber: 0 °C }, Rest for 1 h]\n",
    [
      "steps[0].chamber: 0 °C is outside the profile's safety.temperature 10..45 °C; the run would fault at this set point — widen safety.temperature (within the cell's range) or change the set point",
    ],
  ],
  [
    "chamber step on a channel without chamber",
    steps("- { chamber: 25 °C }", "- Rest for 1 s"),
    [
      "steps[0].chamber: sets the chamber to 25 °C but this channel sits in no chamber; remove the chamber step or use a channel in a chamber",
    ],
    NMC,
    { cycler: CYCLER },
  ],
  [
    "charging below 0 °C",
    steps("- { chamber: -10 °C, soak: 1 h }", "- Charge at C/5 until 4.2 V"),
    [
      'steps[1]: "Charge at C/5 until 4.2 V" charges with the chamber at -10 °C (steps[0]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ],
  ],
  [
    "regenerative points of a discharge drive cycle when cold",
    steps("- { chamber: -10 °C }", "- Discharge following trace.csv"),
    [
      'steps[1]: "Discharge following trace.csv" charges at 4 A at its peak, more than cell NMC-1 (3 A) allows; lower the value',
      'steps[1]: "Discharge following trace.csv" charges with the chamber at -10 °C (steps[0]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ],
  ],
  [
    "drive cycle above the cell's currents",
    steps("- Charge following trace.csv"),
    [
      'steps[0]: "Charge following trace.csv" charges at 2 A at its peak, more than cell SSB-1 (1 A) allows; lower the value',
      'steps[0]: "Charge following trace.csv" discharges at 4 A at its peak, more than cell SSB-1 (3 A) allows; lower the value',
    ],
    ASSLB,
  ],
  [
    "charge at a temperature reached through a goto",
    steps(
      "- { chamber: 50 °C, label: hot }",
      '- { step: "Discharge at 1C until 2.5 V", limits: [{ when: "> 55 °C", then: goto cool }] }',
      "- { chamber: 25 °C }",
      "- { step: Charge at 1C for 1 min, label: cool }",
    ),
    [
      'steps[3]: "Charge at 1C for 1 min" charges with the chamber at 50 °C (steps[0]), but li-ion-nmc cell NMC-1 may be charged only at 0..45 °C; move the step to a temperature within that window or use a cell rated for it',
    ],
  ],
  [
    "a cycler mode the channel lacks",
    steps("- Discharge at 2 W for 1 min"),
    [
      'steps[0]: "Discharge at 2 W for 1 min" needs the cycler\'s "cp" mode, which this channel lacks (it has rest, cc, cv); use another step type or channel',
    ],
    NMC,
    { cycler: { ...CYCLER, modes: ["rest", "cc", "cv"] }, chamber: { temperatureC: [-40, 110] } },
  ],
];

describe("invalid profiles", () => {
  it("has at least 40 cases with a message each", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)("%s", (_title, yaml, expected, cell, bench) => {
    expect(problems(yaml, cell, bench)).toEqual(expected);
  });
});
