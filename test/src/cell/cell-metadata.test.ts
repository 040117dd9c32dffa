import { describe, expect, it } from "vitest";
import { CellError, type CellIssue, parseCell } from "../../../src/cell/cell.js";

const BASE = { id: "NMC-1", chemistry: "li-ion-nmc", capacity_ah: 3, current: [-6, 3] };

function issuesOf(doc: Record<string, unknown>): CellIssue[] {
  try {
    parseCell({ ...BASE, ...doc }, "test");
  } catch (err) {
    if (err instanceof CellError) return err.issues;
    throw err;
  }
  return [];
}

describe("cell metadata", () => {
  it("reads maker, lot, format, mass, operator, project and notes; numbers in YAML are labels", () => {
    const cell = parseCell(
      {
        ...BASE,
        maker: " LG Chem ",
        lot: 7,
        format: 18650,
        mass_g: "0.0465 kg",
        operator: "J. Doe",
        project: "ageing",
        notes: "line one\n\tline two",
      },
      "test",
    );
    expect(cell.metadata).toEqual({
      maker: "LG Chem",
      lot: "7",
      format: "18650",
      massG: 46.5,
      operator: "J. Doe",
      project: "ageing",
      notes: "line one\n\tline two",
    });
    expect(parseCell({ ...BASE, mass_g: 46.5 }, "t").metadata).toEqual({ massG: 46.5 });
    expect(parseCell({ ...BASE, mass_g: "500 mg" }, "t").metadata?.massG).toBeCloseTo(0.5, 12);
    expect(parseCell(BASE, "t").metadata).toBeUndefined();
  });

  it("says what to change for bad metadata, alongside the other problems", () => {
    expect(
      issuesOf({
        maker: "",
        lot: "a\nb",
        format: ["18650"],
        mass_g: "46.5",
        operator: "x".repeat(201),
        notes: "bell\u0007",
        current: [1, 3],
      }),
    ).toEqual([
      {
        path: "current",
        message: "[1, 3] must include 0: min is the largest discharge (≤ 0), max the largest charge (≥ 0)",
      },
      { path: "maker", message: "is empty; leave the key out instead" },
      {
        path: "lot",
        message: "contains a control character or line break; keep it to one line (put longer text in notes)",
      },
      { path: "format", message: "must be text, got a list" },
      { path: "operator", message: "is 201 characters long; shorten it to at most 200" },
      { path: "notes", message: "contains a control character; only line breaks and tabs are allowed" },
      {
        path: "mass_g",
        message:
          'must be a positive mass in grams: a number (46.5) or a string with its unit ("46.5 g", "0.0465 kg"), got "46.5"',
      },
    ]);
    expect(issuesOf({ mass_g: -3 })[0]?.path).toBe("mass_g");
  });
});
