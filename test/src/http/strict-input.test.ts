/**
 * Bounded, strict input: every identity that becomes an InfluxDB tag is bounded and checked before a
 * run starts (a 70,000-character cell id used to be accepted and every line of its run dead-lettered),
 * and JSON bodies are not coerced ("3" is not the number 3).
 */
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TAG_VALUE_MAX_CHARS } from "../../../src/storage/tag-values.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

const OP = auth("operator");
const PROFILE = { name: "p", steps: ["Rest for 1 s"] };
const run = (cell: unknown, profile: unknown = PROFILE): InjectOptions => ({
  method: "POST",
  url: "/api/v1/runs",
  headers: OP,
  payload: { channel: "ch1", cell, profile } as InjectOptions["payload"],
});
const check = (cell: unknown, profile: unknown = PROFILE): InjectOptions => ({
  method: "POST",
  url: "/api/v1/profiles/check",
  headers: OP,
  payload: { cell, profile } as InjectOptions["payload"],
});

let h: HttpBench;

beforeAll(async () => {
  h = await openHttpBench();
});
afterAll(async () => {
  await h?.close();
});

interface Issue {
  path: string;
  message: string;
}

async function refused(request: InjectOptions): Promise<Issue[]> {
  const res = await h.app.inject(request);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body.code).toBe("REQUEST_INVALID");
  expect(body.detail).toEqual(expect.any(String));
  return body.issues as Issue[];
}

describe("identities that become InfluxDB tags", () => {
  it("refuses a 70,000-character cell id with a 400 naming the field and the limit, and starts nothing", async () => {
    const issues = await refused(run({ ...NMC_CELL_BODY, id: "N".repeat(70_000) }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("body.cell.id");
    expect(issues[0]?.message).toContain(`${TAG_VALUE_MAX_CHARS} characters`);
    expect(issues[0]?.message).toMatch(/70000 characters long; shorten it/);
    expect(h.runs.list()).toEqual([]);
  });

  it.each([
    ["a line break", "NMC\n0042", /line break|U\+000A/],
    ["a carriage return", "NMC\r0042", /U\+000D/],
    ["a tab", "NMC\t0042", /U\+0009/],
    ["a NUL", "NMC\u00000042", /U\+0000/],
    ["a backslash", "NMC\\0042", /backslash/],
    ["a trailing backslash", "NMC-0042\\", /backslash/],
    ["a lone surrogate", "NMC\ud8000042", /U\+D800/],
    ["only spaces", "   ", /empty/],
  ])("refuses a cell id with %s", async (_what, id, message) => {
    const issues = await refused(run({ ...NMC_CELL_BODY, id }));
    expect(issues[0]?.path).toBe("body.cell.id");
    expect(issues[0]?.message).toMatch(message);
  });

  it("accepts a cell id of exactly the limit, with spaces, commas and equals signs (escaped in line protocol)", async () => {
    const id = `A, b=c ${"x".repeat(TAG_VALUE_MAX_CHARS - 7)}`;
    expect([...id]).toHaveLength(TAG_VALUE_MAX_CHARS);
    const res = await h.app.inject(check({ ...NMC_CELL_BODY, id }));
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().cell.id).toBe(id);
    // Counted in characters, not UTF-16 units: 64 emoji are 64 characters.
    const emoji = await h.app.inject(check({ ...NMC_CELL_BODY, id: "🔋".repeat(TAG_VALUE_MAX_CHARS) }));
    expect(emoji.statusCode, emoji.body.slice(0, 300)).toBe(200);
  });

  it("refuses an over-long profile name wherever a profile is accepted", async () => {
    const name = "p".repeat(TAG_VALUE_MAX_CHARS + 1);
    const inline = await refused(run(NMC_CELL_BODY, { name, steps: ["Rest for 1 s"] }));
    expect(inline[0]?.path).toBe("body.profile.name");
    expect(inline[0]?.message).toContain(`${TAG_VALUE_MAX_CHARS} characters`);
    const text = await refused(check(NMC_CELL_BODY, `name: ${name}\nsteps: [Rest for 1 s]\n`));
    expect(text[0]?.path).toBe("body.profile.name");
    const stored = await refused({
      method: "POST",
      url: "/api/v1/profiles",
      headers: OP,
      payload: { profile: { name: "tab\there", steps: ["Rest for 1 s"] } },
    });
    expect(stored[0]?.path).toBe("body.profile.name");
    expect(h.profiles.list()).toEqual([]);
  });
});

describe("no type coercion in JSON bodies", () => {
  it('refuses "capacity_ah": "3" with a 400 naming the field, like true', async () => {
    for (const capacity of ["3", " 3.0 ", "3e0", true]) {
      const issues = await refused(run({ ...NMC_CELL_BODY, capacity_ah: capacity }));
      expect(issues).toEqual([{ path: "body.cell.capacity_ah", message: expect.any(String) }]);
      expect(issues[0]?.message, String(capacity)).toMatch(/3 Ah|number/);
    }
    expect(h.runs.list()).toEqual([]);
  });

  it("refuses numbers in quotes in every range of the cell, and a number as the cell id", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ voltage: ["2.5", 4.2] }, "body.cell.voltage[0]"],
      [{ current: [-6, "6"] }, "body.cell.current[1]"],
      [{ temperature: [-20, true] }, "body.cell.temperature[1]"],
      [{ charge_temperature: ["0", "45"] }, "body.cell.charge_temperature[0]"],
      [{ discharge_temperature: "-20..60" }, "body.cell.discharge_temperature"],
      [{ override: { reason: "datasheet", voltage: [2.5, "4.3"] } }, "body.cell.override.voltage[1]"],
      [{ override: { reason: 42, voltage: [2.5, 4.3] } }, "body.cell.override.reason"],
      [{ override: "wider" }, "body.cell.override"],
      [{ id: 42 }, "body.cell.id"],
      [{ chemistry: 1 }, "body.cell.chemistry"],
      [{ description: 5 }, "body.cell.description"],
    ];
    for (const [change, path] of cases) {
      const issues = await refused(run({ ...NMC_CELL_BODY, ...change }));
      expect(
        issues.map((i) => i.path),
        JSON.stringify(change),
      ).toContain(path);
    }
    expect(h.runs.list()).toEqual([]);
  });

  it("still takes quantities written with their units, as the cell format documents", async () => {
    const res = await h.app.inject(
      check({
        ...NMC_CELL_BODY,
        capacity_ah: "3000 mAh",
        voltage: ["2.5 V", "4200 mV"],
        current: ["-6 A", 6],
      }),
    );
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().cell.capacity_ah).toBeCloseTo(3);
  });

  it("keeps meaningless text a cell problem (422), as before", async () => {
    const res = await h.app.inject(run({ ...NMC_CELL_BODY, capacity_ah: "lots" }));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("CELL_INVALID");
  });
});
