import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import type { DriveValue } from "../../../src/profile/ast.js";
import {
  type ParsedStepString,
  parseCondition,
  parseDuration,
  parseLoopUntil,
  parseStepString,
  StepStringError,
} from "../../../src/profile/step-string.js";

const cRate = (c: number): DriveValue => ({ kind: "c-rate", c });
const amps = (a: number): DriveValue => ({ kind: "current", amps: a });
const watts = (w: number): DriveValue => ({ kind: "power", watts: w });

function parsed(text: string): ParsedStepString {
  return parseStepString(text);
}

function errorOf(text: string): string {
  try {
    parseStepString(text);
  } catch (e) {
    expect(e).toBeInstanceOf(StepStringError);
    expect(hasErrorCode(e, "STEP_STRING_INVALID")).toBe(true);
    return (e as StepStringError).detail;
  }
  throw new Error(`"${text}" parsed but should not`);
}

describe("PyBaMM's documented examples", () => {
  // pybamm.experiment.step.base_step._examples (current) and pybamm.Experiment examples (v22.x-23.x).
  const examples: [string, Partial<ParsedStepString>][] = [
    [
      "Discharge at 1C for 0.5 hours",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1) },
        termination: { durationS: 1800, conditions: [] },
      },
    ],
    [
      "Discharge at C/20 for 0.5 hours",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(0.05) },
        termination: { durationS: 1800, conditions: [] },
      },
    ],
    [
      "Charge at 0.5 C for 45 minutes",
      {
        action: { kind: "constant", direction: "charge", value: cRate(0.5) },
        termination: { durationS: 2700, conditions: [] },
      },
    ],
    [
      "Discharge at 1 A for 0.5 hours",
      {
        action: { kind: "constant", direction: "discharge", value: amps(1) },
        termination: { durationS: 1800, conditions: [] },
      },
    ],
    [
      "Discharge at 1 A for 90 seconds",
      {
        action: { kind: "constant", direction: "discharge", value: amps(1) },
        termination: { durationS: 90, conditions: [] },
      },
    ],
    [
      "Charge at 200 mA for 45 minutes",
      {
        action: { kind: "constant", direction: "charge", value: amps(0.2) },
        termination: { durationS: 2700, conditions: [] },
      },
    ],
    [
      "Charge at 200mA for 45 minutes (1 minute period)",
      {
        action: { kind: "constant", direction: "charge", value: amps(0.2) },
        termination: { durationS: 2700, conditions: [] },
        periodS: 60,
      },
    ],
    [
      "Discharge at 1W for 0.5 hours",
      {
        action: { kind: "constant", direction: "discharge", value: watts(1) },
        termination: { durationS: 1800, conditions: [] },
      },
    ],
    [
      "Discharge at 1 W for 0.5 hours",
      {
        action: { kind: "constant", direction: "discharge", value: watts(1) },
        termination: { durationS: 1800, conditions: [] },
      },
    ],
    [
      "Charge at 200mW for 45 minutes",
      {
        action: { kind: "constant", direction: "charge", value: watts(0.2) },
        termination: { durationS: 2700, conditions: [] },
      },
    ],
    [
      "Charge at 200 mW for 45 minutes",
      {
        action: { kind: "constant", direction: "charge", value: watts(0.2) },
        termination: { durationS: 2700, conditions: [] },
      },
    ],
    ["Rest for 10 minutes", { action: { kind: "rest" }, termination: { durationS: 600, conditions: [] } }],
    [
      "Rest for 10 minutes (5 minute period)",
      { action: { kind: "rest" }, termination: { durationS: 600, conditions: [] }, periodS: 300 },
    ],
    [
      "Hold at 1V for 20 seconds",
      { action: { kind: "hold", volts: 1 }, termination: { durationS: 20, conditions: [] } },
    ],
    [
      "Hold at 1 V for 20 seconds",
      { action: { kind: "hold", volts: 1 }, termination: { durationS: 20, conditions: [] } },
    ],
    [
      "Charge at 1 C until 4.1V",
      {
        action: { kind: "constant", direction: "charge", value: cRate(1) },
        termination: { conditions: [{ kind: "voltage", volts: 4.1 }] },
      },
    ],
    [
      "Hold at 4.1 V until 50mA",
      {
        action: { kind: "hold", volts: 4.1 },
        termination: { conditions: [{ kind: "current", amps: 0.05 }] },
      },
    ],
    [
      "Hold at 4.1 V until 50 mA",
      {
        action: { kind: "hold", volts: 4.1 },
        termination: { conditions: [{ kind: "current", amps: 0.05 }] },
      },
    ],
    [
      "Hold at 3V until C/50",
      { action: { kind: "hold", volts: 3 }, termination: { conditions: [{ kind: "c-rate", c: 0.02 }] } },
    ],
    [
      "Discharge at C/3 for 2 hours or until 2.5 V",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1 / 3) },
        termination: { durationS: 7200, conditions: [{ kind: "voltage", volts: 2.5 }] },
      },
    ],
    [
      "Discharge at 4 Ohm for 1 hour",
      {
        action: { kind: "constant", direction: "discharge", value: { kind: "resistance", ohms: 4 } },
        termination: { durationS: 3600, conditions: [] },
      },
    ],
    // Temperature after the termination, before the period (PyBaMM 23.x).
    [
      "Discharge at 1C for 0.5 hours at 27oC",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1) },
        termination: { durationS: 1800, conditions: [] },
        ambientC: 27,
      },
    ],
    [
      "Charge at 0.5 C for 45 minutes at -5oC",
      {
        action: { kind: "constant", direction: "charge", value: cRate(0.5) },
        termination: { durationS: 2700, conditions: [] },
        ambientC: -5,
      },
    ],
    [
      "Charge at 200 mA for 45 minutes at 10.2oC (1 minute period)",
      {
        action: { kind: "constant", direction: "charge", value: amps(0.2) },
        termination: { durationS: 2700, conditions: [] },
        ambientC: 10.2,
        periodS: 60,
      },
    ],
    [
      "Discharge at C/3 for 2 hours or until 2.5 V at 26oC",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1 / 3) },
        termination: { durationS: 7200, conditions: [{ kind: "voltage", volts: 2.5 }] },
        ambientC: 26,
      },
    ],
    [
      "Hold at 4.1 V until 5 A at 35oC (1 seconds period)",
      {
        action: { kind: "hold", volts: 4.1 },
        termination: { conditions: [{ kind: "current", amps: 5 }] },
        ambientC: 35,
        periodS: 1,
      },
    ],
    [
      "Discharge at 1C for 0.5 hours at 27oC [tag1]",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1) },
        termination: { durationS: 1800, conditions: [] },
        ambientC: 27,
        tags: ["tag1"],
      },
    ],
    [
      "Rest for 10 minutes (5 minute period) [tag1,tag3]",
      {
        action: { kind: "rest" },
        termination: { durationS: 600, conditions: [] },
        periodS: 300,
        tags: ["tag1", "tag3"],
      },
    ],
    // Drive cycles by name: a discharge following the named trace (PyBaMM: positive = discharge).
    [
      "Run US06 (A)",
      {
        action: { kind: "drive-cycle-file", direction: "discharge", file: "US06", byName: true, unit: "A" },
        termination: { conditions: [] },
      },
    ],
    [
      "Run US06 (A) for 20 seconds",
      {
        action: { kind: "drive-cycle-file", direction: "discharge", file: "US06", byName: true, unit: "A" },
        termination: { durationS: 20, conditions: [] },
      },
    ],
    [
      "Run US06 (W) for 2 hours",
      {
        action: { kind: "drive-cycle-file", direction: "discharge", file: "US06", byName: true, unit: "W" },
        termination: { durationS: 7200, conditions: [] },
      },
    ],
    [
      "Run US06 (A) at -5oC",
      {
        action: { kind: "drive-cycle-file", direction: "discharge", file: "US06", byName: true, unit: "A" },
        termination: { conditions: [] },
        ambientC: -5,
      },
    ],
    // From PyBaMM's guide and examples.
    [
      "Discharge at 1C for 1 hour or until 3.0V",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(1) },
        termination: { durationS: 3600, conditions: [{ kind: "voltage", volts: 3 }] },
      },
    ],
    [
      "Discharge at C/10 for 10 hours or until 3.3 V at 15oC",
      {
        action: { kind: "constant", direction: "discharge", value: cRate(0.1) },
        termination: { durationS: 36000, conditions: [{ kind: "voltage", volts: 3.3 }] },
        ambientC: 15,
      },
    ],
    [
      "Charge at 100 A until 4.1 V at 35oC (1 second period)",
      {
        action: { kind: "constant", direction: "charge", value: amps(100) },
        termination: { conditions: [{ kind: "voltage", volts: 4.1 }] },
        ambientC: 35,
        periodS: 1,
      },
    ],
    ["Rest for 3600 seconds", { action: { kind: "rest" }, termination: { durationS: 3600, conditions: [] } }],
  ];

  it.each(examples)("parses %j", (text, expected) => {
    expect(parsed(text)).toMatchObject(expected);
  });

  it("reports C/3 as one third", () => {
    const a = parsed("Discharge at C/3 for 2 hours or until 2.5 V").action;
    expect(a.kind === "constant" && a.value.kind === "c-rate" && a.value.c).toBeCloseTo(1 / 3, 12);
  });

  it("rejects PyBaMM's voltage drive cycle with what to use instead", () => {
    expect(errorOf("Run US06 (V) for 45 minutes")).toBe(
      'voltage drive cycles "(V)" are not supported; use (A) for current or (W) for power',
    );
  });
});

describe("the cellbench grammar (DESIGN §4)", () => {
  it("parses CC-CV as one step", () => {
    expect(parsed("Charge at C/3 to 4.2 V, hold until C/20")).toMatchObject({
      action: { kind: "cccv", direction: "charge", value: { kind: "c-rate" }, holdVolts: 4.2 },
      termination: { conditions: [{ kind: "c-rate", c: 0.05 }] },
    });
  });

  it("parses CC-CV without the comma, with a repeated hold voltage and with a time limit", () => {
    expect(parsed("Charge at 1.5 A to 4200 mV hold at 4.2 V until 50 mA or for 3 hours")).toMatchObject({
      action: { kind: "cccv", value: amps(1.5), holdVolts: 4.2 },
      termination: { durationS: 10_800, conditions: [{ kind: "current", amps: 0.05 }] },
    });
  });

  it("parses PyBaMM's two-step CC-CV spelled with then", () => {
    expect(parsed("Charge at 1 A until 4.1 V then hold at 4.1 V until 50 mA")).toMatchObject({
      action: { kind: "cccv", direction: "charge", value: amps(1), holdVolts: 4.1 },
      termination: { conditions: [{ kind: "current", amps: 0.05 }] },
    });
  });

  it("parses a discharge CC-CV", () => {
    expect(parsed("Discharge at 1C to 3.0 V, hold until C/50").action).toMatchObject({
      kind: "cccv",
      direction: "discharge",
      holdVolts: 3,
    });
  });

  it("parses several conditions joined by or, including temperature", () => {
    expect(parsed("Discharge at 1C until 2.5 V or 60 °C").termination.conditions).toEqual([
      { kind: "voltage", volts: 2.5 },
      { kind: "temperature", celsius: 60 },
    ]);
    expect(parsed("Discharge at 1C until 2.5 V or until 60oC or 2 Ah").termination.conditions).toEqual([
      { kind: "voltage", volts: 2.5 },
      { kind: "temperature", celsius: 60 },
      { kind: "capacity", ah: 2 },
    ]);
  });

  it("parses a duration after the conditions and conditions without 'or'", () => {
    expect(parsed("Charge at 1C until 4.2 V or for 2 h").termination).toEqual({
      durationS: 7200,
      conditions: [{ kind: "voltage", volts: 4.2 }],
    });
    expect(parsed("Charge at 1C for 2 h until 4.2 V").termination).toEqual({
      durationS: 7200,
      conditions: [{ kind: "voltage", volts: 4.2 }],
    });
  });

  it("parses every condition form", () => {
    expect(parseCondition("4.2 V")).toEqual({ kind: "voltage", volts: 4.2 });
    expect(parseCondition("< 2500 mV")).toEqual({ kind: "voltage", op: "<", volts: 2.5 });
    expect(parseCondition(">4.25V")).toEqual({ kind: "voltage", op: ">", volts: 4.25 });
    expect(parseCondition("50 mA")).toEqual({ kind: "current", amps: 0.05 });
    expect(parseCondition("> 2 A")).toEqual({ kind: "current", op: ">", amps: 2 });
    expect(parseCondition("C/20")).toEqual({ kind: "c-rate", c: 0.05 });
    expect(parseCondition("0.05C")).toEqual({ kind: "c-rate", c: 0.05 });
    expect(parseCondition("1.5 Ah")).toEqual({ kind: "capacity", ah: 1.5 });
    expect(parseCondition("300 mAh")).toEqual({ kind: "capacity", ah: 0.3 });
    expect(parseCondition("4 Wh")).toEqual({ kind: "energy", wh: 4 });
    expect(parseCondition("60 °C")).toEqual({ kind: "temperature", celsius: 60 });
    expect(parseCondition("-10oC")).toEqual({ kind: "temperature", celsius: -10 });
    expect(parseCondition("> 45 ° C")).toEqual({ kind: "temperature", op: ">", celsius: 45 });
    expect(parseCondition("dV/dt < 0.1 mV/s")).toEqual({ kind: "dvdt", op: "<", mvPerS: 0.1 });
    expect(parseCondition("dV/dt>-5mV/s")).toEqual({ kind: "dvdt", op: ">", mvPerS: -5, signed: true });
    expect(parseCondition("dV/dt <= 6 mV/min")).toEqual({ kind: "dvdt", op: "<", mvPerS: 0.1 });
  });

  it("records whether a dV/dt threshold was written with a sign (signed) or without (a magnitude)", () => {
    expect(parseCondition("dV/dt < 0.0017 mV/s")).toEqual({ kind: "dvdt", op: "<", mvPerS: 0.0017 });
    expect(parseCondition("dV/dt < -0.5 mV/s")).toEqual({
      kind: "dvdt",
      op: "<",
      mvPerS: -0.5,
      signed: true,
    });
    expect(parseCondition("dV/dt > +0.1 mV/s")).toEqual({ kind: "dvdt", op: ">", mvPerS: 0.1, signed: true });
    expect(parseCondition("dV/dt < −0.5 mV/s")).toEqual({
      kind: "dvdt",
      op: "<",
      mvPerS: -0.5,
      signed: true,
    });
    expect(parseCondition("dV/dt < -0 mV/s")).toMatchObject({ kind: "dvdt", op: "<", signed: true });
    expect(parsed("Rest for 1 hour or until dV/dt < 0.0017 mV/s").termination.conditions).toEqual([
      { kind: "dvdt", op: "<", mvPerS: 0.0017 },
    ]);
    expect(parsed("Rest until dV/dt > +6 mV/min").termination.conditions).toEqual([
      { kind: "dvdt", op: ">", mvPerS: 0.1, signed: true },
    ]);
  });

  it("parses every value unit", () => {
    const value = (text: string) => {
      const a = parsed(`Discharge at ${text} for 1 s`).action;
      return a.kind === "constant" ? a.value : undefined;
    };
    expect(value("2 A")).toEqual(amps(2));
    expect(value("250mA")).toEqual(amps(0.25));
    expect(value("3 W")).toEqual(watts(3));
    expect(value("500 mW")).toEqual(watts(0.5));
    expect(value("4 Ohm")).toEqual({ kind: "resistance", ohms: 4 });
    expect(value("2Ω")).toEqual({ kind: "resistance", ohms: 2 });
    expect(value("2C")).toEqual(cRate(2));
    expect(value("C/5")).toEqual(cRate(0.2));
    expect(value("1.5e-1 C")).toEqual(cRate(0.15));
  });

  it("parses every duration unit", () => {
    const cases: [string, number][] = [
      ["100 ms", 0.1],
      ["5 s", 5],
      ["5 sec", 5],
      ["1 second", 1],
      ["5 seconds", 5],
      ["2 m", 120],
      ["2 min", 120],
      ["1 minute", 60],
      ["2 minutes", 120],
      ["1.5 h", 5400],
      ["1 hr", 3600],
      ["1 hour", 3600],
      ["2 hours", 7200],
      ["2 Hours", 7200],
    ];
    for (const [text, seconds] of cases) expect(parseDuration(text)).toBeCloseTo(seconds, 9);
  });

  it("parses rest until a condition, drive cycles from files and periods", () => {
    expect(parsed("Rest until dV/dt < 0.1 mV/s")).toMatchObject({
      action: { kind: "rest" },
      termination: { conditions: [{ kind: "dvdt", op: "<", mvPerS: 0.1 }] },
    });
    expect(parsed("Discharge following drive-cycles/udds.csv").action).toEqual({
      kind: "drive-cycle-file",
      direction: "discharge",
      file: "drive-cycles/udds.csv",
      byName: false,
    });
    expect(parsed('Charge following "my traces/regen.csv" for 10 minutes (1 s period)')).toMatchObject({
      action: { kind: "drive-cycle-file", direction: "charge", file: "my traces/regen.csv" },
      termination: { durationS: 600 },
      periodS: 1,
    });
    expect(parsed("Charge at 2C for 10 seconds (100 ms period)").periodS).toBeCloseTo(0.1, 12);
  });

  it("is case and whitespace tolerant in keywords", () => {
    expect(parsed("  discharge   AT 1C  FOR 0.5 Hours  ")).toMatchObject(
      parsed("Discharge at 1C for 0.5 hours") as object,
    );
    expect(parsed("REST for 1 MINUTE").termination.durationS).toBe(60);
  });

  it("accepts temperatures in °C, oC and K after at", () => {
    expect(parsed("Rest for 1 hour at 25 °C").ambientC).toBe(25);
    expect(parsed("Rest for 1 hour at 25°C").ambientC).toBe(25);
    expect(parsed("Rest for 1 hour at 25oC").ambientC).toBe(25);
    expect(parsed("Rest for 1 hour at 298.15 K").ambientC).toBeCloseTo(25, 9);
  });
});

describe("bad step strings say what was expected at which word", () => {
  const cases: [string, string][] = [
    ["Charge at 1 Q until 4.2 V", 'unknown unit "Q" after 1; use A, mA, W, mW, Ohm, C or C/n'],
    ["", 'empty step; write e.g. "Rest for 10 minutes"'],
    [
      "Dischrge at 1C for 1 h",
      'unknown instruction "Dischrge"; start with Charge, Discharge, Rest, Hold, Ramp or Run',
    ],
    ["42 A for 1 h", 'expected an instruction (Charge, Discharge, Rest, Hold, Ramp or Run) at "42"'],
    ["Charge with 1C for 1 h", 'expected "at" or "following" after "Charge", found "with"'],
    ["Charge at fast for 1 h", 'expected a value after "at", found "fast"; write e.g. "Charge at 1 A"'],
    ["Charge at 1 for 1 h", 'expected a unit after 1, found "for"; use A, mA, W, mW, Ohm, C or C/n'],
    ["Charge at 1", "expected a unit after 1, found the end; use A, mA, W, mW, Ohm, C or C/n"],
    ["Charge at -1 A for 1 h", "-1 A must be greater than 0; Charge/Discharge gives the direction"],
    ["Charge at C/0 for 1 h", "C/0 is not a rate; the divisor must be greater than 0"],
    [
      "Charge at 4.2 V for 1 h",
      '4.2 V is a voltage; use "Hold at 4.2 V" or a CC-CV step "... to 4.2 V, hold until C/20"',
    ],
    ["Charge at 4 Ohm for 1 h", 'a resistance (4 Ohm) can only discharge; write "Discharge at 4 Ohm"'],
    [
      "Charge at 1C for 2 fortnights",
      'unknown time unit "fortnights" after 2; use ms, s, min or h (or seconds, minutes, hours)',
    ],
    ["Charge at 1C for ever", 'expected a duration after "for", found "ever"; write e.g. "for 10 minutes"'],
    [
      "Charge at 1C for 2",
      "expected a time unit after 2, found the end; use ms, s, min or h (or seconds, minutes, hours)",
    ],
    ["Rest for 0 s", "the duration 0 s must be greater than 0"],
    [
      "Charge at 1C fo 2 h",
      'unexpected "fo" after "Charge at 1C"; expected "for <duration>", "until <condition>", "at <temperature>", "(<duration> period)" or the end',
    ],
    ["Charge at 1C for 1 h for 2 h", 'a second duration at "for" (position 22); give one "for"'],
    [
      "Charge at 1C until 4.2 Q",
      'unknown unit "Q" after 4.2; use V, mV, A, mA, C/n, Ah, mAh, Wh, °C, % SOC or dV/dt < n mV/s',
    ],
    [
      "Charge at 1C until full",
      'expected a condition after "until", found "full"; write e.g. "4.2 V", "C/20", "80% SOC" or "60 °C"',
    ],
    ["Charge at 1C until 4.2 V or 5 h", '5 h is a duration, not a condition; write "for 5 h"'],
    [
      "Charge at 1C until 4.2",
      "expected a unit after 4.2, found the end; use V, mV, A, mA, C/n, Ah, mAh, Wh, °C, % SOC or dV/dt < n mV/s",
    ],
    ["Hold at 4.2 A for 1 h", 'unknown unit "A" after 4.2; Hold takes a voltage: use V or mV'],
    ["Hold 4.2 V for 1 h", 'expected "at" after "Hold", found "4.2"'],
    [
      "Rest until dV/dt 0.1 mV/s",
      'expected "<" or ">" after "dV/dt", found "0.1"; write e.g. "dV/dt < 0.1 mV/s"',
    ],
    ["Rest until dV/dt < 0.1 mV", "expected a slope unit such as mV/s after 0.1"],
    ["Rest for 1 h at 25 F", 'unknown temperature unit "F" after 25; use °C, oC or K'],
    ["Rest for 1 h (1 s)", 'expected "period)" after "(1 ...", found ")"'],
    ["Rest for 1 h (1 s period", 'expected ")" after "period", found the end'],
    [
      "Charge at 2 W to 4.2 V, hold until C/20",
      'a CC-CV step needs a current or C-rate, not power (2 W); e.g. "Charge at C/3 to 4.2 V, hold until C/20"',
    ],
    ["Charge at C/3 to 4.2 V, until C/20", 'expected ", hold until" after "to 4.2 V", found "until"'],
    [
      "Charge at C/3 to 4.2 V, hold at 4.1 V until C/20",
      "the hold voltage 4.1 V differs from the CC target 4.2 V; use one voltage",
    ],
    [
      "Charge at 1 A until 4.1 V or 2 Ah then hold until 50 mA",
      '"then hold" needs exactly one voltage condition before it, e.g. "until 4.2 V then hold until C/20"',
    ],
    ["Discharge following", 'expected a file after "Discharge following", e.g. "drive-cycles/udds.csv"'],
    ["Run (A)", 'expected a drive cycle name after "Run", e.g. "Run US06 (A)"'],
    ["Run US06 (X)", 'expected the drive cycle unit (A) or (W) after "Run US06", found "X"'],
  ];
  it.each(cases)("%j", (text, detail) => {
    expect(errorOf(text)).toBe(detail);
  });

  it("quotes the step in the error message", () => {
    expect(() => parseStepString("Charge at 1 Q until 4.2 V")).toThrow(
      '"Charge at 1 Q until 4.2 V": unknown unit "Q" after 1; use A, mA, W, mW, Ohm, C or C/n',
    );
  });
});

describe("issue 14: CV current limit, ramps, SOC and loop retention", () => {
  it("reads a CV hold's own current limit, as a current or a C-rate", () => {
    expect(parsed("Hold at 4.2 V at most 1 A for 2 hours or until C/50")).toMatchObject({
      action: { kind: "hold", volts: 4.2, currentLimit: amps(1) },
      termination: { durationS: 7200, conditions: [{ kind: "c-rate", c: 1 / 50 }] },
    });
    expect(parsed("Hold at 4.2 V at most 0.5C until C/50").action).toEqual({
      kind: "hold",
      volts: 4.2,
      currentLimit: cRate(0.5),
    });
    expect(parsed("hold at 4200 mV at most C/2 until 50 mA").action).toEqual({
      kind: "hold",
      volts: 4.2,
      currentLimit: cRate(0.5),
    });
    // The PyBaMM form is unchanged: no limit.
    expect(parsed("Hold at 4.2 V until C/50").action).toEqual({ kind: "hold", volts: 4.2 });
  });

  it.each([
    [
      "Hold at 4.2 V at most 2 W until C/50",
      '"at most" takes a current or C-rate, not 2 W; write e.g. "at most 1 A" or "at most 0.5C"',
    ],
    [
      "Hold at 4.2 V until C/50 at most 1 A",
      '"at most <current>" limits a CV hold and goes right after its voltage: "Hold at 4.2 V at most 1 A for 2 hours or until C/50"',
    ],
    [
      "Hold at 4.2 V at most 0 A until C/50",
      "0 A must be greater than 0; Charge/Discharge gives the direction",
    ],
  ])("refuses %j", (text, detail) => {
    expect(errorOf(text)).toBe(detail);
  });

  it("reads current, C-rate and power ramps whose start may be zero", () => {
    expect(parsed("Charge at 0.1C to 1C over 10 minutes")).toMatchObject({
      action: { kind: "ramp", direction: "charge", from: cRate(0.1), to: cRate(1), overS: 600 },
      termination: { durationS: 600, conditions: [] },
    });
    expect(parsed("Discharge at 0 A to 2 A over 10 minutes until 2.5 V")).toMatchObject({
      action: { kind: "ramp", direction: "discharge", from: amps(0), to: amps(2), overS: 600 },
      termination: { durationS: 600, conditions: [{ kind: "voltage", volts: 2.5 }] },
    });
    expect(parsed("Discharge at 2 A to C/2 over 30 s").action).toMatchObject({
      from: amps(2),
      to: cRate(0.5),
    });
    expect(parsed("Discharge at 1 W to 5 W over 1 h or until 3 V").action).toMatchObject({
      kind: "ramp",
      from: watts(1),
      to: watts(5),
      overS: 3600,
    });
  });

  it("keeps CC-CV when the value after to is a voltage", () => {
    expect(parsed("Charge at C/3 to 4.2 V, hold until C/20").action).toMatchObject({ kind: "cccv" });
  });

  it("reads a voltage ramp as a CV hold moving its set point, with an optional current limit", () => {
    expect(parsed("Ramp voltage from 3.6 V to 4.1 V over 10 minutes at most 1 A until C/50")).toMatchObject({
      action: { kind: "hold", volts: 3.6, toVolts: 4.1, overS: 600, currentLimit: amps(1) },
      termination: { durationS: 600, conditions: [{ kind: "c-rate", c: 1 / 50 }] },
    });
  });

  it.each([
    [
      "Charge at 0.1C to 1C until 4.2 V",
      'a ramp needs its duration: write "0.1C to 1C over 10 minutes" (found "until"); to drive to a voltage write "to 4.2 V, hold until C/20"',
    ],
    [
      "Charge at 0.1C to 1C over 10 minutes for 1 h",
      'a ramp lasts its "over" duration; drop the "for ...", or hold the end value in a step of its own',
    ],
    [
      "Charge at 1 A to 2 W over 1 min",
      "a ramp goes from one current to another or one power to another, not from 1 A to 2 W; give both ends in A, C or W",
    ],
    ["Charge at 0 A to 0 A over 1 min", "a ramp from 0 A to 0 A never moves; give an end greater than 0"],
    ["Charge at 0 A for 1 min", "0 A must be greater than 0; Charge/Discharge gives the direction"],
    [
      "Discharge at 1 Ohm to 2 Ohm over 1 min",
      'a ramp moves a current, C-rate or power, not a resistance; e.g. "Discharge at 1 A to 3 A over 10 minutes"',
    ],
    [
      "Ramp current from 0 A to 2 A over 10 minutes",
      'unexpected "current" after "Ramp"; "Ramp" moves a voltage: "Ramp voltage from 3.6 V to 4.1 V over 10 minutes"; a current, C-rate or power ramps in a Charge or Discharge step: "Charge at 0.1C to 1C over 10 minutes"',
    ],
    [
      "Ramp voltage from 3.6 V to 4.1 V",
      'a ramp needs its duration: write "from 3.6 V to 4.1 V over 10 minutes" (found the end); to drive to a voltage write "to 4.2 V, hold until C/20"',
    ],
  ])("refuses the ramp %j", (text, detail) => {
    expect(errorOf(text)).toBe(detail);
  });

  it("reads SOC conditions, with or without a space or a comparison", () => {
    expect(parsed("Charge at 1C until 80% SOC").termination.conditions).toEqual([
      { kind: "soc", fraction: 0.8 },
    ]);
    expect(parsed("Discharge at 1C until 20 % soc or 2.5 V").termination.conditions).toEqual([
      { kind: "soc", fraction: 0.2 },
      { kind: "voltage", volts: 2.5 },
    ]);
    expect(parseCondition("< 20% SOC")).toEqual({ kind: "soc", op: "<", fraction: 0.2 });
  });

  it.each([
    ["Charge at 1C until 120% SOC", '120 % SOC is outside 0-100 %; write e.g. "until 80% SOC"'],
    ["Charge at 1C until 80%", 'expected "SOC" after 80 %, found the end; write e.g. "until 80% SOC"'],
    ["Charge at 1C until 0.8 SOC", 'write the SOC as a percentage: "until 80% SOC"'],
    [
      "Discharge at 1C until capacity < 80 % of cycle 1",
      'capacity retention ends a repeat loop, not a step: put until: "capacity < 80 % of cycle 1" on the repeat; a step ends on the charge it moves with e.g. "until 2 Ah"',
    ],
  ])("refuses %j", (text, detail) => {
    expect(errorOf(text)).toBe(detail);
  });

  it("reads a loop's retention", () => {
    expect(parseLoopUntil("capacity < 80 % of cycle 1")).toEqual({
      kind: "retention",
      op: "<",
      fraction: 0.8,
      ofCycle: 1,
    });
    expect(parseLoopUntil("Capacity <= 70% of cycle 3")).toEqual({
      kind: "retention",
      op: "<",
      fraction: 0.7,
      ofCycle: 3,
    });
  });

  it.each([
    [
      "capacity < 0.8 of cycle 1",
      'give the retention as a percentage of a cycle\'s capacity, found "of" after 0.8; write "capacity < 80 % of cycle 1"',
    ],
    [
      "capacity 80 % of cycle 1",
      'expected "<" or ">" after "capacity", found "80"; write e.g. "capacity < 80 % of cycle 1"',
    ],
    ["capacity < 80 % of cycle 0", "cycle 0 is not a cycle number; cycles count from 1"],
    ["capacity < 180 % of cycle 1", "180 % is not a retention; use more than 0 and at most 100 %"],
    [
      "2.5 V",
      'a loop ends on the capacity retention, found "2.5"; write e.g. "capacity < 80 % of cycle 1" (to end a step on a condition, put "until ..." in the step string)',
    ],
  ])("refuses the loop until %j", (text, detail) => {
    try {
      parseLoopUntil(text);
    } catch (e) {
      expect(e).toBeInstanceOf(StepStringError);
      expect((e as StepStringError).detail).toBe(detail);
      return;
    }
    throw new Error(`"${text}" parsed`);
  });
});

describe("ramps and CC-CV after to", () => {
  it.each([
    ["Charge at C/3 to 4.2, hold until C/20", 'expected a unit after 4.2, found ","; use V or mV'],
    [
      "Charge at 1 A to 4.2 Q, hold until C/20",
      'unknown unit "Q" after 4.2; CC-CV takes a voltage: use V or mV',
    ],
    [
      "Charge at 0 A to 4.2 V, hold until C/20",
      "0 A must be greater than 0; Charge/Discharge gives the direction",
    ],
  ])("reads %j as a CC-CV with its errors", (text, detail) => {
    expect(errorOf(text)).toBe(detail);
  });
});
