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

describe("no type coercion in JSON profile objects", () => {
  const withSteps = (...steps: unknown[]) => ({ name: "p", steps });
  const store = (profile: unknown): InjectOptions => ({
    method: "POST",
    url: "/api/v1/profiles",
    headers: OP,
    payload: { profile } as InjectOptions["payload"],
  });

  it('refuses chamber: "25" and safety voltage ["2.5", "4.2"] with a 400 naming the field and what to send', async () => {
    const chamber = await refused(run(NMC_CELL_BODY, withSteps({ chamber: "25" }, "Rest for 1 s")));
    expect(chamber).toEqual([
      {
        path: "body.profile.steps[0].chamber",
        message:
          '"25" is a number in quotes; send the number 25 (in °C) or a string with its unit such as "25 °C"',
      },
    ]);
    const safety = await refused(
      check(NMC_CELL_BODY, { name: "p", safety: { voltage: ["2.5", "4.2"] }, steps: ["Rest for 1 s"] }),
    );
    expect(safety.map((i) => i.path)).toEqual([
      "body.profile.safety.voltage[0]",
      "body.profile.safety.voltage[1]",
    ]);
    expect(safety[1]?.message).toMatch(
      /send the number 4\.2 \(in V\) or a string with its unit such as "4\.2 V"/,
    );
    expect(h.runs.list()).toEqual([]);
  });

  it("refuses numbers in quotes, booleans and null in every quantity, on every route taking a profile object", async () => {
    const cases: [unknown, string][] = [
      [
        { name: "p", safety: { current: [-3, "3"] }, steps: ["Rest for 1 s"] },
        "body.profile.safety.current[1]",
      ],
      [
        { name: "p", safety: { temperature: [null, 45] }, steps: ["Rest for 1 s"] },
        "body.profile.safety.temperature[0]",
      ],
      [{ name: "p", log: { every: "1" }, steps: ["Rest for 1 s"] }, "body.profile.log.every"],
      [{ name: "p", log: { dV: true }, steps: ["Rest for 1 s"] }, "body.profile.log.dV"],
      [withSteps({ step: "Rest for 1 s", log: { dI: "0.01" } }), "body.profile.steps[0].log.dI"],
      [withSteps({ chamber: "25 °C", soak: "600" }, "Rest for 1 s"), "body.profile.steps[0].soak"],
      [withSteps({ chamber: true }, "Rest for 1 s"), "body.profile.steps[0].chamber"],
      [withSteps({ chamber: null }, "Rest for 1 s"), "body.profile.steps[0].chamber"],
      [withSteps({ chamber: 25, tolerance: "0.5" }, "Rest for 1 s"), "body.profile.steps[0].tolerance"],
      [
        withSteps({ sweep: { chamber: ["25"] }, steps: ["Rest for 1 s"] }),
        "body.profile.steps[0].sweep.chamber[0]",
      ],
      [
        withSteps({ repeat: 2, steps: ["Rest for 1 s", { chamber: "30" }] }),
        "body.profile.steps[0].steps[1].chamber",
      ],
    ];
    for (const [profile, path] of cases) {
      for (const request of [run(NMC_CELL_BODY, profile), check(NMC_CELL_BODY, profile), store(profile)]) {
        const issues = await refused(request);
        expect(
          issues.map((i) => i.path),
          `${request.url} ${JSON.stringify(profile)}`,
        ).toEqual([path]);
        expect(issues[0]?.message).toMatch(
          /number in quotes|a number in (°C|V|A|s) or a string with its unit/,
        );
      }
    }
    expect(h.runs.list()).toEqual([]);
    expect(h.profiles.list()).toEqual([]);
  });

  it("refuses a number as a label and a goto that is not a string", async () => {
    const label = await refused(
      check(
        NMC_CELL_BODY,
        withSteps(
          { step: "Rest for 1 s", label: 1 },
          { step: "Rest for 1 s", limits: [{ when: "4.3 V", then: "goto 1" }] },
        ),
      ),
    );
    expect(label).toEqual([
      {
        path: "body.profile.steps[0].label",
        message: 'must be a string such as "1"; put the label in quotes',
      },
    ]);
    const then = await refused(
      store(withSteps({ step: "Rest for 1 s", label: "top", limits: [{ when: "4.3 V", then: 1 }] })),
    );
    expect(then.map((i) => i.path)).toEqual(["body.profile.steps[0].limits[0].then"]);
    expect(then[0]?.message).toMatch(/next, abort or "goto <label>"/);
    expect(h.profiles.list()).toEqual([]);
  });

  it("still takes quantities with their units, SI numbers, string labels and step strings", async () => {
    const profile = {
      name: "units",
      safety: { voltage: ["2.5 V", 4.2], current: [-3, "3000 mA"], temperature: ["0 °C", 45] },
      log: { every: "10 s", dV: "5 mV" },
      steps: [
        { chamber: "25 °C", soak: "1 s", tolerance: 1 },
        { step: "Charge at 1C until 4.2 V", label: "top", limits: [{ when: "4.25 V", then: "abort" }] },
        { repeat: 1, steps: ["Rest for 10 minutes"] },
      ],
    };
    const res = await h.app.inject(check(NMC_CELL_BODY, profile));
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const stored = await h.app.inject(store(profile));
    expect(stored.statusCode, stored.body.slice(0, 300)).toBe(201);
    const byId = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles/check",
      headers: OP,
      payload: { cell: NMC_CELL_BODY, profile_id: stored.json().id },
    });
    expect(byId.statusCode, byId.body.slice(0, 300)).toBe(200);
  });

  it("keeps YAML text as it was: a number in quotes is a number there", async () => {
    const yaml =
      'name: yaml\nsafety: { voltage: ["2.5", "4.2"] }\nsteps:\n  - { chamber: "25", soak: "1" }\n  - { step: Rest for 1 s, label: 7 }\n';
    const res = await h.app.inject(check(NMC_CELL_BODY, yaml));
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const stored = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: { ...OP, "content-type": "application/yaml" },
      payload: yaml.replace("name: yaml", "name: yaml-stored"),
    });
    expect(stored.statusCode, stored.body.slice(0, 300)).toBe(201);
  });

  it("keeps meaningless text in a profile a profile problem (422), as before", async () => {
    const res = await h.app.inject(check(NMC_CELL_BODY, withSteps({ chamber: "warm" })));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("PROFILE_INVALID");
    expect(res.json().issues[0].path).toBe("body.profile.steps[0].chamber");
  });
});
