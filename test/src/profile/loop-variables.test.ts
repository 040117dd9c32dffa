import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Profile, ProfileNode, RepeatNode, TemplateNode } from "../../../src/profile/ast.js";
import { ProfileTypeError, parseProfile } from "../../../src/profile/document.js";
import {
  forEachInstance,
  instancePath,
  instantiate,
  substitute,
  TemplateSyntaxError,
  variablesIn,
} from "../../../src/profile/loop-variables.js";
import { formatIssue, ProfileError } from "../../../src/profile/profile-error.js";
import { StepStringError } from "../../../src/profile/step-string.js";

const profile = (yaml: string): Profile => parseProfile(yaml, { sourceName: "t.yaml" });

function problems(yaml: string): string[] {
  try {
    profile(yaml);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    return e.issues.map(formatIssue);
  }
  throw new Error("the profile parsed");
}

const template = (text: string): TemplateNode => ({
  type: "template",
  path: "steps[0].steps[0]",
  text,
  template: text,
  limits: [],
});

describe("variablesIn and substitute", () => {
  it("lists the names used, once each, in order", () => {
    expect(variablesIn("Discharge at {c} for {n} hours or until {c}")).toEqual(["c", "n"]);
    expect(variablesIn("Rest for 1 h")).toEqual([]);
    expect(
      substitute(
        "Discharge at {c} for { n } hours",
        new Map([
          ["c", "2C"],
          ["n", "3"],
        ]),
      ),
    ).toBe("Discharge at 2C for 3 hours");
  });

  it.each([
    ["Rest for {n hours", '"Rest for {n hours": a "{" without its "}"; write a loop variable as {name}'],
    ["Rest for n} hours", '"Rest for n} hours": a "}" without its "{"; write a loop variable as {name}'],
    [
      "Rest for {1n} hours",
      '"Rest for {1n} hours": {1n} is not a loop variable; write {name} with the name of a counter or sweep value, e.g. {c}',
    ],
    [
      "Rest for {} hours",
      '"Rest for {} hours": {} is not a loop variable; write {name} with the name of a counter or sweep value, e.g. {c}',
    ],
  ])("refuses %j", (text, message) => {
    expect(() => variablesIn(text)).toThrow(TemplateSyntaxError);
    expect(() => variablesIn(text)).toThrow(message);
  });
});

describe("instantiate", () => {
  it("gives the step of one iteration, keeping the template's path and label", () => {
    const node = { ...template("Discharge at {c} until 2.5 V"), label: "dis" };
    const step = instantiate(node, new Map([["c", "0.5C"]]));
    expect(step).toMatchObject({
      type: "step",
      path: "steps[0].steps[0]",
      label: "dis",
      text: "Discharge at 0.5C until 2.5 V",
      action: { kind: "constant", direction: "discharge", value: { kind: "c-rate", c: 0.5 } },
    });
    expect(
      instancePath(
        node,
        new Map([
          ["c", "0.5C"],
          ["n", "2"],
        ]),
      ),
    ).toBe("steps[0].steps[0] (c = 0.5C)");
  });

  it.each([
    [
      "Discharge following {f}",
      "a drive-cycle step cannot use loop variables (its file is read when the profile is loaded); write the step out for each file",
    ],
    [
      "Rest for {n} hours at 25oC",
      'a step that uses loop variables cannot set the chamber ("at 25oC"); sweep the temperature with sweep: { chamber: [...] }',
    ],
  ])("refuses %j, which only the document could give", (text, detail) => {
    try {
      instantiate(
        template(text),
        new Map([
          ["f", "udds.csv"],
          ["n", "1"],
        ]),
      );
    } catch (e) {
      expect(e).toBeInstanceOf(StepStringError);
      expect((e as StepStringError).detail).toBe(detail);
      return;
    }
    throw new Error("instantiated");
  });
});

describe("loops with variables in a document", () => {
  it("reads a sweep of values (no chamber) as a repeat over them, with a counter and a cycle mark", () => {
    const p = profile(`
name: rate
steps:
  - sweep: { c: [0.1C, 0.5C, 1C, 2C] }
    counter: k
    cycle: true
    steps:
      - Charge at C/2 to 4.2 V, hold until C/20
      - Discharge at {c} until 2.5 V
      - Rest for {k} minutes
`);
    const loop = p.steps[0] as RepeatNode;
    expect(loop).toMatchObject({
      type: "repeat",
      count: 4,
      cycle: true,
      variables: { counter: "k", values: { c: ["0.1C", "0.5C", "1C", "2C"] } },
      text: "sweep c = 0.1C, 0.5C, 1C, 2C",
    });
    expect(loop.steps.map((n) => n.type)).toEqual(["step", "template", "template"]);
  });

  it("keeps a chamber sweep a sweep, with values alongside its temperatures", () => {
    const p = profile(`
name: temp-rate
steps:
  - sweep: { chamber: [0, 25], c: [0.2C, 1C] }
    soak: 1 h
    steps: ["Discharge at {c} until 2.5 V"]
`);
    expect(p.steps[0]).toMatchObject({
      type: "sweep",
      chamberC: [0, 25],
      variables: { values: { c: ["0.2C", "1C"] } },
      text: "sweep chamber 0, 25 °C, soak 1 h, tolerance 1 °C; c = 0.2C, 1C",
    });
  });

  it("reads a repeat's counter and until", () => {
    const p = profile(`
name: life
steps:
  - repeat: 1000
    counter: n
    until: capacity < 80 % of cycle 1
    steps: [Charge at 1C until 4.2 V, Discharge at 1C until 2.5 V, "Rest for {n} s"]
`);
    expect(p.steps[0]).toMatchObject({
      variables: { counter: "n" },
      until: [{ kind: "retention", op: "<", fraction: 0.8, ofCycle: 1 }],
    });
  });

  it.each([
    [
      "a variable no loop defines",
      `  - repeat: 2
    steps: ["Rest for {n} s"]`,
      [
        'steps[0].steps[0]: "Rest for {n} s": {n} is not defined: no loop around this step defines variables; add counter: n to an enclosing repeat or sweep: { n: [values] }',
      ],
    ],
    [
      "a variable of another loop",
      `  - repeat: 2
    counter: n
    steps: [Rest for 1 s]
  - sweep: { c: [1C] }
    steps: ["Discharge at {c} for {n} s"]`,
      [
        'steps[1].steps[0]: "Discharge at {c} for {n} s": {n} is not defined in this loop; the variables here are {c}',
      ],
    ],
    [
      "lists of different lengths",
      `  - sweep: { c: [1C, 2C], t: [1, 2, 3] }
    steps: ["Discharge at {c} for {t} s"]`,
      [
        "steps[0].sweep.t: has 3 values but the sweep runs 2 times; give every list of the sweep the same length",
      ],
    ],
    [
      "a list longer than the chamber's",
      `  - sweep: { chamber: [0, 25], c: [1C, 2C, 3C] }
    steps: ["Discharge at {c} until 2.5 V"]`,
      [
        "steps[0].sweep.c: has 3 values but the sweep has 2 chamber temperatures; give one value per temperature",
      ],
    ],
    [
      "a name an outer loop uses",
      `  - repeat: 2
    counter: n
    steps:
      - repeat: 3
        counter: n
        steps: ["Rest for {n} s"]`,
      [
        "steps[0].steps[0]: {n} is already defined by the loop at steps[0]; give this loop's variable another name",
      ],
    ],
    [
      "an instance that does not parse, named with its iteration",
      `  - sweep: { c: [1C, 2 Q] }
    steps: ["Discharge at {c} until 2.5 V"]`,
      [
        'steps[0].steps[0] (c = 2 Q): "Discharge at 2 Q until 2.5 V": unknown unit "Q" after 2; use A, mA, W, mW, Ohm, C or C/n',
      ],
    ],
    [
      "a bad counter name",
      `  - repeat: 2
    counter: 2n
    steps: [Rest for 1 s]`,
      [
        'steps[0].counter: "2n" is not a variable name; use a letter or "_" followed by letters, digits or "_", e.g. n',
      ],
    ],
    [
      "a list value with braces",
      `  - sweep: { c: ["{x}"] }
    steps: ["Discharge at {c} until 2.5 V"]`,
      [
        'steps[0].sweep.c[0]: "{x}" is not a value; give a number or a quantity such as "1C" or "2 A" (no braces)',
      ],
    ],
    [
      "a variable in a limit",
      `  - repeat: 2
    counter: n
    steps: [{ step: "Rest for {n} s", limits: [{ when: "{n} V", then: abort }] }]`,
      [
        'steps[0].steps[0].limits[0].when: "{n} V": loop variables may be used in the step string only; give the limit as a value',
      ],
    ],
    [
      "until on a sweep",
      `  - sweep: { c: [1C] }
    until: capacity < 80 % of cycle 1
    steps: ["Discharge at {c} until 2.5 V"]`,
      [
        "steps[0].until: until ends repeat loops only; put the sweep inside a repeat with until:, or make the sweep a repeat with counter:",
      ],
    ],
    [
      "soak without a chamber",
      `  - sweep: { c: [1C] }
    soak: 1 h
    steps: ["Discharge at {c} until 2.5 V"]`,
      [
        "steps[0].soak: soak and tolerance belong to a chamber sweep; add chamber: [temperatures] to sweep, or drop them",
      ],
    ],
    [
      "a loop until that is not a retention",
      `  - repeat: 2
    until: 2.5 V
    steps: [Rest for 1 s]`,
      [
        'steps[0].until: "2.5 V": a loop ends on the capacity retention, found "2.5"; write e.g. "capacity < 80 % of cycle 1" (to end a step on a condition, put "until ..." in the step string)',
      ],
    ],
    [
      "a loop until without cycles",
      `  - repeat: 2
    until: capacity < 80 % of cycle 1
    steps:
      - repeat: 2
        cycle: true
        steps: [Rest for 1 s]
  - repeat: 500
    until: capacity < 80 % of cycle 1
    steps: [Rest for 1 s]`,
      [
        "steps[1].until: the loop holds no cycles, so its capacity is never measured; mark this loop (or one inside it) cycle: true",
      ],
    ],
    [
      "cycle loops inside cycle loops",
      `  - repeat: 2
    cycle: true
    steps:
      - repeat: 2
        cycle: true
        steps: [Rest for 1 s]`,
      [
        "steps[0].steps[0].cycle: this loop is inside steps[0], also marked cycle: true; a cycle cannot hold cycles — mark one of them",
      ],
    ],
  ])("refuses %s", (_name, body, expected) => {
    expect(problems(`name: bad\nsteps:\n${body}\n`)).toEqual(expected);
  });
});

describe("forEachInstance", () => {
  it("visits each combination of the values a template uses, and only those", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (outer, inner, unusedCount, usesOuter) => {
          const body: ProfileNode[] = [
            template(usesOuter ? "Rest for {a} s or until {b} V" : "Rest for {b} s"),
          ];
          const innerLoop: RepeatNode = {
            type: "repeat",
            path: "steps[0].steps[0]",
            text: "",
            count: inner,
            steps: body,
            variables: { values: { b: Array.from({ length: inner }, (_v, i) => String(3 + i / 10)) } },
          };
          const unused: RepeatNode = {
            type: "repeat",
            path: "steps[0].steps[0].steps[0]",
            text: "",
            count: unusedCount,
            steps: [innerLoop],
            variables: { counter: "z" },
          };
          const outerLoop: RepeatNode = {
            type: "repeat",
            path: "steps[0]",
            text: "",
            count: outer,
            steps: [unused],
            variables: { counter: "a" },
          };
          const seen = new Set<string>();
          let visits = 0;
          forEachInstance([outerLoop], ({ bindings }) => {
            visits++;
            seen.add(JSON.stringify([...bindings].sort()));
            expect(bindings.has("z")).toBe(false);
          });
          const expected = (usesOuter ? outer : 1) * inner;
          expect(visits).toBe(expected);
          expect(seen.size).toBe(expected);
        },
      ),
    );
  });

  it("stops at its budget and says so", () => {
    const loop = (name: string, steps: ProfileNode[]): RepeatNode => ({
      type: "repeat",
      path: "steps[0]",
      text: "",
      count: 200,
      steps,
      variables: { counter: name },
    });
    let visits = 0;
    const complete = forEachInstance(
      [loop("a", [loop("b", [template("Rest for {a} s or until {b} V")])])],
      () => {
        visits++;
      },
    );
    expect(complete).toBe(false);
    expect(visits).toBe(0);
    expect(
      problems(`name: big
steps:
  - repeat: 200
    counter: a
    steps:
      - repeat: 200
        counter: b
        steps: ["Rest for {a} s or until {b} V"]
`),
    ).toEqual([
      "steps: the loop variables give more than 5000 different steps; use fewer sweep values or counters in step strings",
    ]);
  });
});

describe("loop keys in strict JSON", () => {
  it("refuses a counter, cycle or until of the wrong JSON type as the sender's error", () => {
    const body = {
      name: "strict",
      steps: [{ repeat: 2, counter: 5, cycle: "true", until: 80, steps: ["Rest for 1 s"] }],
    };
    try {
      parseProfile(body, { sourceName: "request body", strict: true });
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileTypeError);
      expect((e as ProfileError).issues.map(formatIssue)).toEqual([
        'steps[0].counter: expected the counter\'s name, such as "n", got 5',
        'steps[0].cycle: expected true or false (true: each iteration of this loop is a cycle), got "true"',
        'steps[0].until: expected a retention such as "capacity < 80 % of cycle 1", got 80',
      ]);
      return;
    }
    throw new Error("parsed");
  });
});
