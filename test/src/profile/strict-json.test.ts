/**
 * Strict documents (ParseProfileOptions.strict: objects from JSON request bodies): JSON types are
 * taken as sent. YAML text keeps its leniency, since YAML authors get 25 from `25` anyway.
 */
import { describe, expect, it } from "vitest";
import type { ChamberNode, StepNode, SweepNode } from "../../../src/profile/ast.js";
import { ProfileTypeError, parseProfile } from "../../../src/profile/document.js";
import { formatIssue, ProfileError, type ProfileIssue } from "../../../src/profile/profile-error.js";
import { isNumberText, parseQuantity, QuantityError } from "../../../src/profile/units.js";

const strict = (doc: unknown) => parseProfile(doc, { sourceName: "body.profile", strict: true });

function typeIssues(doc: unknown): ProfileIssue[] {
  try {
    strict(doc);
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ProfileTypeError);
    return (e as ProfileTypeError).issues;
  }
  throw new Error("profile parsed but should not");
}

const withSteps = (...steps: unknown[]) => ({ name: "p", steps });

describe("strict documents: no type coercion", () => {
  it("refuses a number in quotes where a quantity is expected, naming the path and what to send", () => {
    expect(typeIssues(withSteps({ chamber: "25" }))).toEqual([
      {
        path: "steps[0].chamber",
        message:
          '"25" is a number in quotes; send the number 25 (in °C) or a string with its unit such as "25 °C"',
      },
    ]);
    const issues = typeIssues({ name: "p", safety: { voltage: ["2.5", "4.2"] }, steps: ["Rest for 1 s"] });
    expect(issues.map(formatIssue)).toEqual([
      'safety.voltage[0]: "2.5" is a number in quotes; send the number 2.5 (in V) or a string with its unit such as "2.5 V"',
      'safety.voltage[1]: "4.2" is a number in quotes; send the number 4.2 (in V) or a string with its unit such as "4.2 V"',
    ]);
  });

  it("refuses it in every quantity of the language", () => {
    const cases: [unknown, string, RegExp][] = [
      [
        { name: "p", safety: { current: [-3, " 3 "] }, steps: ["Rest for 1 s"] },
        "safety.current[1]",
        /"3 A"/,
      ],
      [
        { name: "p", safety: { temperature: ["0", 45] }, steps: ["Rest for 1 s"] },
        "safety.temperature[0]",
        /"0 °C"/,
      ],
      [{ name: "p", log: { every: "1" }, steps: ["Rest for 1 s"] }, "log.every", /"1 s"/],
      [{ name: "p", log: { dV: "0.005" }, steps: ["Rest for 1 s"] }, "log.dV", /"0.005 V"/],
      [{ name: "p", log: { dI: "1e-2" }, steps: ["Rest for 1 s"] }, "log.dI", /"1e-2 A"/],
      [withSteps({ step: "Rest for 1 s", log: { every: "10" } }), "steps[0].log.every", /"10 s"/],
      [withSteps({ chamber: "25 °C", soak: "600" }), "steps[0].soak", /"600 s"/],
      [withSteps({ chamber: 25, tolerance: "0.5" }), "steps[0].tolerance", /"0.5 °C"/],
      [
        withSteps({ sweep: { chamber: [0, "25"] }, steps: ["Rest for 1 s"] }),
        "steps[0].sweep.chamber[1]",
        /"25 °C"/,
      ],
      [withSteps({ repeat: 2, steps: [{ chamber: "-10" }] }), "steps[0].steps[0].chamber", /"-10 °C"/],
    ];
    for (const [doc, path, example] of cases) {
      const issues = typeIssues(doc);
      expect(
        issues.map((i) => i.path),
        JSON.stringify(doc),
      ).toEqual([path]);
      expect(issues[0]?.message).toMatch(/is a number in quotes/);
      expect(issues[0]?.message).toMatch(example);
    }
  });

  it("refuses booleans, null, lists and objects where a quantity is expected", () => {
    for (const value of [true, false, null, [25], { value: 25 }]) {
      const issues = typeIssues(withSteps({ chamber: value }));
      expect(
        issues.map((i) => i.path),
        JSON.stringify(value),
      ).toEqual(["steps[0].chamber"]);
      expect(issues[0]?.message).toMatch(/a number in °C or a string with its unit such as "25 °C"/);
    }
    expect(typeIssues({ name: "p", safety: { voltage: [false, 4.2] }, steps: ["Rest for 1 s"] })).toEqual([
      { path: "safety.voltage[0]", message: expect.stringContaining("got false") },
    ]);
  });

  it("refuses a number as a label, and anything but a string as a limit's action", () => {
    expect(
      typeIssues(
        withSteps(
          { step: "Rest for 1 s", label: 5 },
          { step: "Rest for 1 s", limits: [{ when: "4 V", then: "goto 5" }] },
        ),
      ),
    ).toEqual([{ path: "steps[0].label", message: 'must be a string such as "5"; put the label in quotes' }]);
    for (const label of [true, null, ["a"]]) {
      expect(typeIssues(withSteps({ repeat: 2, label, steps: ["Rest for 1 s"] })).map((i) => i.path)).toEqual(
        ["steps[0].label"],
      );
    }
    for (const then of [5, true, null, { goto: "top" }]) {
      const issues = typeIssues(withSteps({ step: "Rest for 1 s", limits: [{ when: "4 V", then }] }));
      expect(
        issues.map((i) => i.path),
        JSON.stringify(then),
      ).toEqual(["steps[0].limits[0].then"]);
      expect(issues[0]?.message).toMatch(/next, abort or "goto <label>"/);
    }
  });

  it("reports only the type problems when there are others too (they are the sender's bug)", () => {
    const issues = typeIssues(withSteps("Charge at 1 Q until 4.2 V", { chamber: "25" }));
    expect(issues.map((i) => i.path)).toEqual(["steps[1].chamber"]);
  });

  it("keeps quantities with units, SI numbers and step strings", () => {
    const p = strict({
      name: "p",
      safety: { voltage: ["2.5 V", 4.2], current: [-3, "3000 mA"], temperature: ["-20 °C", "60 oC"] },
      log: { every: "10 minutes", dV: "5 mV" },
      steps: [
        "Charge at 1C until 4.2 V",
        { step: "Rest for 10 minutes", label: "rest", limits: [{ when: "4.25 V", then: "goto rest" }] },
        { chamber: "25 °C", soak: "2 h", tolerance: 0.5 },
        { sweep: { chamber: [0, "25 °C"] }, soak: 60, steps: ["Rest for 1 s"] },
      ],
    });
    expect(p.safety).toEqual({ voltageV: [2.5, 4.2], currentA: [-3, 3], temperatureC: [-20, 60] });
    expect(p.log).toEqual({ everyS: 600, dV: 0.005 });
    expect((p.steps[1] as StepNode).label).toBe("rest");
    expect(p.steps[2]).toMatchObject({
      setpointC: 25,
      soakS: 7200,
      toleranceC: 0.5,
    } satisfies Partial<ChamberNode>);
    expect((p.steps[3] as SweepNode).chamberC).toEqual([0, 25]);
  });

  it("keeps meaningless text a profile problem, as before", () => {
    try {
      strict(withSteps({ chamber: "warm" }));
      throw new Error("parsed");
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
      expect(e).not.toBeInstanceOf(ProfileTypeError);
      expect((e as ProfileError).issues.map((i) => i.path)).toEqual(["steps[0].chamber"]);
    }
  });
});

describe("lenient documents (YAML text, and objects without strict)", () => {
  it("still read a number in quotes as a number and a number as a label", () => {
    const yaml = [
      "name: p",
      'safety: { voltage: ["2.5", "4.2"] }',
      "steps:",
      '  - { chamber: "25", soak: "60" }',
      "  - { step: Rest for 1 s, label: 5, limits: [{ when: 4 V, then: goto 5 }] }",
    ].join("\n");
    const fromText = parseProfile(yaml, { sourceName: "p.yaml" });
    expect(fromText.safety).toEqual({ voltageV: [2.5, 4.2] });
    expect(fromText.steps[0]).toMatchObject({ setpointC: 25, soakS: 60 });
    expect((fromText.steps[1] as StepNode).label).toBe("5");
    const fromObject = parseProfile(
      {
        name: "p",
        safety: { voltage: ["2.5", "4.2"] },
        steps: [{ chamber: "25", soak: "60" }, "Rest for 1 s"],
      },
      { sourceName: "body" },
    );
    expect(fromObject.steps[0]).toMatchObject({ setpointC: 25, soakS: 60 });
  });
});

describe("the number-in-quotes rule", () => {
  it("is one number and nothing else", () => {
    for (const text of ["25", " 4.2 ", "-10", "+5", ".5", "3e0", "1E-3", "−20", "1e999"]) {
      expect(isNumberText(text), text).toBe(true);
    }
    for (const text of ["25 °C", "4.2V", "C/3", "", " ", "lots", "1.2.3", "NaN", "25 25"]) {
      expect(isNumberText(text), text).toBe(false);
    }
  });

  it("is what parseQuantity refuses when strict", () => {
    expect(() => parseQuantity("4.2", "voltage", { strict: true })).toThrow(QuantityError);
    expect(parseQuantity("4.2", "voltage")).toBe(4.2);
    expect(parseQuantity("4.2 V", "voltage", { strict: true })).toBe(4.2);
  });
});
