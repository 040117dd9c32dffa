import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import type { ChamberNode, RepeatNode, StepNode, SweepNode } from "../../../src/profile/ast.js";
import { parseProfile } from "../../../src/profile/document.js";
import { formatIssue, ProfileError } from "../../../src/profile/profile-error.js";

const UDDS = "# test trace\ntime_s,current_A\n0,0\n1,1.5\n2,-0.5\n3,0\n";
const POWER = "t [s], power [W]\n0, 2\n10, 4\n20, 0\n";

function files(map: Record<string, string>): { readFile: (path: string) => string; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: (path: string) => {
      reads.push(path);
      const content = map[path];
      if (content === undefined) throw Object.assign(new Error(`no such file ${path}`), { code: "ENOENT" });
      return content;
    },
  };
}

const parse = (yaml: string, extra: Record<string, string> = {}) =>
  parseProfile(yaml, { sourceName: "test.yaml", baseDir: "/lab/profiles", readFile: files(extra).readFile });

function issuesOf(yaml: string, extra: Record<string, string> = {}): string[] {
  try {
    parse(yaml, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    expect(hasErrorCode(e, "PROFILE_INVALID")).toBe(true);
    return (e as ProfileError).issues.map(formatIssue);
  }
  throw new Error("profile parsed but should not");
}

describe("parseProfile", () => {
  it("reads the DESIGN §4 example end to end", () => {
    const profile = parse(
      `
name: asslb-capacity-vs-temperature
safety: { voltage: [2.5, 4.3], current: [-5, 5], temperature: [-25, 110] }
log: { every: 1 s, dV: 5 mV, dI: 10 mA }
steps:
  - Rest for 10 minutes
  - chamber: 25 °C
    soak: 2 h
    tolerance: 0.5 °C
  - repeat: 3
    steps:
      - Charge at C/3 until 4.2 V
      - Hold at 4.2 V until C/20
      - Rest for 30 minutes
      - Discharge at C/3 until 2.5 V
  - sweep: { chamber: [-20, 0, 25, 60, 85, 105] }
    soak: 2 h
    steps:
      - Charge at C/3 to 4.2 V, hold until C/20
      - Discharge at 1C until 2.5 V or 60 °C
  - Discharge following drive-cycles/udds.csv
  - Charge at 2C for 10 seconds (100 ms period)
`,
      { "/lab/profiles/drive-cycles/udds.csv": UDDS },
    );
    expect(profile.name).toBe("asslb-capacity-vs-temperature");
    expect(profile.safety).toEqual({ voltageV: [2.5, 4.3], currentA: [-5, 5], temperatureC: [-25, 110] });
    expect(profile.log).toEqual({ everyS: 1, dV: 0.005, dI: 0.01 });
    expect(profile.steps.map((s) => [s.type, s.path])).toEqual([
      ["step", "steps[0]"],
      ["chamber", "steps[1]"],
      ["repeat", "steps[2]"],
      ["sweep", "steps[3]"],
      ["step", "steps[4]"],
      ["step", "steps[5]"],
    ]);
    const chamber = profile.steps[1] as ChamberNode;
    expect(chamber).toMatchObject({ setpointC: 25, soakS: 7200, toleranceC: 0.5 });
    const repeat = profile.steps[2] as RepeatNode;
    expect(repeat.count).toBe(3);
    expect(repeat.steps.map((s) => s.path)).toEqual([
      "steps[2].steps[0]",
      "steps[2].steps[1]",
      "steps[2].steps[2]",
      "steps[2].steps[3]",
    ]);
    const sweep = profile.steps[3] as SweepNode;
    expect(sweep).toMatchObject({ chamberC: [-20, 0, 25, 60, 85, 105], soakS: 7200, toleranceC: 1 });
    expect((sweep.steps[0] as StepNode).action).toMatchObject({ kind: "cccv", holdVolts: 4.2 });
    expect((sweep.steps[0] as StepNode).text).toBe("Charge at C/3 to 4.2 V, hold until C/20");
    const drive = profile.steps[4] as StepNode;
    expect(drive.action).toEqual({
      kind: "drive-cycle",
      direction: "discharge",
      file: "drive-cycles/udds.csv",
      unit: "A",
      points: [
        { tS: 0, value: 0 },
        { tS: 1, value: 1.5 },
        { tS: 2, value: -0.5 },
        { tS: 3, value: 0 },
      ],
    });
    expect((profile.steps[5] as StepNode).periodS).toBeCloseTo(0.1, 12);
  });

  it("accepts JSON text and already-parsed objects", () => {
    const json = '{"name": "j", "steps": ["Rest for 1 s", {"chamber": 30, "soak": 60}]}';
    const fromText = parseProfile(json, { sourceName: "j.json" });
    const fromObject = parseProfile(JSON.parse(json), { sourceName: "body" });
    expect(fromText).toEqual(fromObject);
    expect(fromObject.steps[1]).toMatchObject({ type: "chamber", setpointC: 30, soakS: 60, toleranceC: 1 });
  });

  it("defaults soak to 0 s and tolerance to 1 °C", () => {
    const p = parse("name: x\nsteps:\n  - chamber: -10 °C\n");
    expect(p.steps[0]).toMatchObject({ setpointC: -10, soakS: 0, toleranceC: 1 });
  });

  it("reads object steps with label, limits and log", () => {
    const p = parse(`
name: x
steps:
  - step: Charge at 1C until 4.2 V (1 s period)
    label: charge
    log: { every: 100 ms, dV: 2 mV }
    limits:
      - { when: "> 45 °C", then: abort }
      - { when: "dV/dt < -1 mV/s", then: next }
      - { when: "3.5 Ah", then: goto rest }
  - step: Rest for 1 hour
    label: rest
`);
    const step = p.steps[0] as StepNode;
    expect(step.label).toBe("charge");
    expect(step.log).toEqual({ everyS: 0.1, dV: 0.002 });
    expect(step.periodS).toBe(1);
    expect(step.limits).toEqual([
      { when: { kind: "temperature", op: ">", celsius: 45 }, then: { kind: "abort" } },
      { when: { kind: "dvdt", op: "<", mvPerS: -1, signed: true }, then: { kind: "next" } },
      { when: { kind: "capacity", ah: 3.5 }, then: { kind: "goto", label: "rest" } },
    ]);
    expect(p.steps[1]).toMatchObject({ label: "rest", text: "Rest for 1 hour" });
  });

  it("nests loops three deep with paths for every level", () => {
    const p = parse(`
name: nest
steps:
  - repeat: 2
    label: outer
    steps:
      - sweep: { chamber: [10, "20 °C"] }
        steps:
          - repeat: 3
            steps:
              - Rest for 1 s
              - step: Discharge at 1 A for 1 s
                limits: [{ when: "< 3 V", then: goto outer }]
`);
    const outer = p.steps[0] as RepeatNode;
    const sweep = outer.steps[0] as SweepNode;
    const inner = sweep.steps[0] as RepeatNode;
    expect(outer.label).toBe("outer");
    expect(sweep.chamberC).toEqual([10, 20]);
    expect(inner.count).toBe(3);
    expect(inner.steps[1]?.path).toBe("steps[0].steps[0].steps[0].steps[1]");
  });

  it("turns PyBaMM's per-step temperature into a chamber step before it", () => {
    const p = parse(`
name: pybamm
steps:
  - Discharge at C/10 for 10 hours or until 3.3 V at 15oC
  - step: Rest for 30 minutes at 35 °C
    label: warm
`);
    expect(p.steps.map((s) => [s.type, s.path, s.label])).toEqual([
      ["chamber", "steps[0].ambient", undefined],
      ["step", "steps[0]", undefined],
      ["chamber", "steps[1].ambient", "warm"],
      ["step", "steps[1]", undefined],
    ]);
    expect(p.steps[0]).toMatchObject({ setpointC: 15, soakS: 0, toleranceC: 1 });
  });

  it("loads drive cycles relative to baseDir, by name through drive_cycles, and loops them for a duration", () => {
    const fs = files({ "/lab/profiles/traces/us06.csv": UDDS, "/lab/power.csv": POWER });
    const p = parseProfile(
      `
name: drive
drive_cycles: { US06: traces/us06.csv }
steps:
  - Run US06 (A) for 10 seconds
  - Charge following /lab/power.csv
  - Run traces/us06.csv
`,
      { sourceName: "d.yaml", baseDir: "/lab/profiles", readFile: fs.readFile },
    );
    const looped = p.steps[0] as StepNode;
    expect(looped.termination.durationS).toBe(10);
    // The 3 s trace plus its last 1 s interval repeats every 4 s: points at 0..3, 4..7, 8..10.
    expect(looped.action.kind === "drive-cycle" && looped.action.points.map((q) => q.tS)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(looped.action.kind === "drive-cycle" && looped.action.points[5]?.value).toBe(1.5);
    expect((p.steps[1] as StepNode).action).toMatchObject({
      kind: "drive-cycle",
      direction: "charge",
      unit: "W",
    });
    expect((p.steps[2] as StepNode).action).toMatchObject({
      kind: "drive-cycle",
      direction: "discharge",
      unit: "A",
    });
    // Each file is read once.
    expect(fs.reads).toEqual(["/lab/profiles/traces/us06.csv", "/lab/power.csv"]);
  });

  it("collects every problem, each with its path", () => {
    expect(
      issuesOf(`
name: ""
safety: { voltage: [4.2, 2.5] }
steps:
  - Charge at 1 Q until 4.2 V
  - chamber: 25 F
    soke: 2 h
  - repeat: 0
    steps: [Rest for 1 s]
  - step: Rest for 1 s
    limits: [{ when: "4.5 Q", then: jump }]
`),
    ).toEqual([
      "name: must be a non-empty string",
      "safety.voltage: [4.2, 2.5]: min must be less than max",
      'steps[0]: "Charge at 1 Q until 4.2 V": unknown unit "Q" after 1; use A, mA, W, mW, Ohm, C or C/n',
      'steps[1].soke: unknown key "soke" (did you mean "soak"?); a chamber step takes chamber, soak, tolerance or label',
      'steps[1].chamber: unknown unit "F" after 25 in "25 F"; use °C or oC, e.g. "25 °C"',
      "steps[2].repeat: repeat count must be a positive integer, got 0",
      'steps[3].limits[0].when: "4.5 Q": unknown unit "Q" after 4.5; use V, mV, A, mA, C/n, Ah, mAh, Wh, °C, % SOC or dV/dt < n mV/s',
      'steps[3].limits[0].then: expected next, abort or "goto <label>", got "jump"',
    ]);
  });

  it("joins the issues into the error message, one per line", () => {
    try {
      parse("name: x\nsteps: [Rest, Charge at 1 Q for 1 s]\n");
      throw new Error("should have thrown");
    } catch (e) {
      expect((e as ProfileError).message).toBe(
        'steps[1]: "Charge at 1 Q for 1 s": unknown unit "Q" after 1; use A, mA, W, mW, Ohm, C or C/n',
      );
      expect((e as ProfileError).source).toBe("test.yaml");
    }
  });

  it("reports YAML syntax errors with the line", () => {
    const issues = issuesOf("name: x\nsteps:\n  - Rest for 1 s\n  bad: [\n");
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatch(/^test\.yaml: not valid YAML\/JSON: line \d+, column \d+: /);
  });
});
