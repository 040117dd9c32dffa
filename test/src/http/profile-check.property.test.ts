/**
 * Property: whatever is posted to /api/v1/profiles/check, the answer is never a 5xx; errors are
 * problem+json with a code, and a 200 carries an estimate. Inputs mix arbitrary JSON, near-valid
 * profiles with mutated step strings and cells with arbitrary numbers.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

const verb = fc.constantFrom("Charge", "Discharge", "Rest", "Hold", "charge", "Run", "");
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom("0", "1e309", "-0", "NaN", "C/3", "1/0"),
);
const unit = fc.constantFrom(
  "A",
  "mA",
  "C",
  "W",
  "V",
  "mV",
  "°C",
  "oC",
  "Ah",
  "s",
  "min",
  "h",
  "Q",
  "",
  "Ohm",
);
const tail = fc.constantFrom("until", "for", "or until", "to", ", hold until", "following", "(", "");
const validStep = fc.constantFrom(
  "Rest for 10 seconds",
  "Discharge at 1C for 20 seconds",
  "Charge at C/2 until 4.1 V",
  "Charge at 1 A to 4.2 V, hold until C/20",
  "Hold at 4.2 V for 10 s",
  "Rest until 3.7 V",
);
const stepString = fc.oneof(
  fc
    .tuple(
      verb,
      fc.constantFrom(" at ", " for ", " until ", " "),
      number,
      unit,
      fc.constantFrom(" ", ""),
      tail,
      number,
      unit,
    )
    .map((parts) => parts.join(" ").replace(/\s+/g, " ").trim()),
  validStep,
  fc.string({ maxLength: 60 }),
);
const stepNode = fc.oneof(
  { weight: 4, arbitrary: stepString },
  { weight: 1, arbitrary: fc.record({ step: stepString, label: fc.string({ maxLength: 8 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      repeat: fc.integer({ min: -2, max: 3 }),
      steps: fc.array(stepString, { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      chamber: fc.oneof(number, fc.double()),
      soak: fc.constantFrom("1 s", "0 s", "-1 s", 5),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const profile = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      name: fc.constant("valid"),
      steps: fc.array(validStep, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      name: fc.oneof(fc.string({ maxLength: 20 }), fc.constant("p")),
      steps: fc.array(stepNode, { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);
const range = fc.oneof(
  fc.tuple(fc.double(), fc.double()),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 })),
  fc.jsonValue({ maxDepth: 1 }),
);
const cell = fc.oneof(
  { weight: 3, arbitrary: fc.constant(NMC_CELL_BODY) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
        chemistry: fc.constantFrom("li-ion-nmc", "li-ion-lfp", "asslb-sulfide", "lead-acid", ""),
        capacity_ah: fc.oneof(fc.double(), fc.string({ maxLength: 6 }), fc.constant(3)),
        current: range,
        voltage: range,
        temperature: range,
      },
      { requiredKeys: ["id", "chemistry", "capacity_ah", "current"] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const body = fc.oneof(
  { weight: 6, arbitrary: fc.record({ profile, cell }, { requiredKeys: ["cell"] }) },
  {
    weight: 1,
    arbitrary: fc.record({
      profile,
      cell,
      channel: fc.constantFrom("ch1", "ch2", "", "../x"),
      initial_soc: fc.oneof(fc.double(), fc.constant(0.5)),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

let h: HttpBench;
beforeAll(async () => {
  h = await openHttpBench({ http: { dryRun: { maxSamples: 300, maxQueued: 100 } } });
});
afterAll(async () => {
  await h?.close();
});

describe("POST /api/v1/profiles/check under fuzzing", () => {
  it("never answers 5xx; errors are problems with a code, successes carry an estimate", async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await h.app.inject({
          method: "POST",
          url: "/api/v1/profiles/check",
          headers: { ...auth("viewer"), "content-type": "application/json" },
          payload: JSON.stringify(payload),
        });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, res.body.slice(0, 500)).toBeLessThan(500);
        if (res.statusCode === 200) {
          const estimate = res.json().estimate;
          expect(estimate.duration_s).toBeGreaterThanOrEqual(0);
          expect(Number.isFinite(estimate.charge_ah)).toBe(true);
        } else {
          expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
          const problem = res.json();
          expect(problem.code).toMatch(/^[A-Z_]+$/);
          expect(problem.status).toBe(res.statusCode);
          expect(problem.detail.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
    // The generators reach both the schema (400), the parsers (422) and the simulator (200).
    expect(seen.get(400)).toBeGreaterThan(0);
    expect(seen.get(422)).toBeGreaterThan(0);
    expect(seen.get(200)).toBeGreaterThan(0);
  }, 120_000);
});
