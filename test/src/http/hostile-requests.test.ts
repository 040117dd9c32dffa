/**
 * Malformed and hostile requests: every one gets a 4xx problem+json with a stable code and a detail,
 * never a 5xx, and the bench keeps sampling throughout.
 */
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";

const OP = auth("operator");
const RUN = { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "p", steps: ["Rest for 10 seconds"] } };
const withProfile = (profile: unknown) => ({ ...RUN, profile });
const withCell = (cell: unknown) => ({ ...RUN, cell });
const post = (payload: unknown, headers: Record<string, string> = {}): InjectOptions => ({
  method: "POST",
  url: "/api/v1/runs",
  headers: { ...OP, ...headers },
  payload: payload as InjectOptions["payload"],
});
const raw = (body: string, contentType = "application/json"): InjectOptions => ({
  method: "POST",
  url: "/api/v1/runs",
  headers: { ...OP, "content-type": contentType },
  body,
});
const check = (payload: unknown): InjectOptions => ({
  method: "POST",
  url: "/api/v1/profiles/check",
  headers: OP,
  payload: payload as InjectOptions["payload"],
});

const ALIAS_BOMB = [
  "a: &a [x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
  "name: bomb",
  "steps: [Rest for 1 s]",
].join("\n");

function nested(depth: number): unknown {
  let node: unknown = "Rest for 1 s";
  for (let i = 0; i < depth; i++) node = { repeat: 2, steps: [node] };
  return { name: "deep", steps: [node] };
}

let h: HttpBench;
let completed: string;
let running: string;

/** [name, request, expected status, expected code] — each filled in once the runs exist. */
function cases(): [string, InjectOptions, number, string][] {
  return [
    ["empty object", post({}), 400, "REQUEST_INVALID"],
    ["channel is a number", post({ ...RUN, channel: 5 }), 400, "REQUEST_INVALID"],
    ["channel is null", post({ ...RUN, channel: null }), 400, "REQUEST_INVALID"],
    ["channel is an array", post({ ...RUN, channel: ["ch1"] }), 400, "REQUEST_INVALID"],
    ["channel is empty", post({ ...RUN, channel: "" }), 400, "REQUEST_INVALID"],
    ["channel path traversal", post({ ...RUN, channel: "../../etc/passwd" }), 400, "REQUEST_INVALID"],
    ["channel SQL injection", post({ ...RUN, channel: "ch1'; DROP TABLE runs;--" }), 400, "REQUEST_INVALID"],
    ["channel script tag", post({ ...RUN, channel: "<script>alert(1)</script>" }), 400, "REQUEST_INVALID"],
    ["channel unknown", post({ ...RUN, channel: "ch9" }), 404, "UNKNOWN_CHANNEL"],
    ["channel 10k characters", post({ ...RUN, channel: "c".repeat(10_000) }), 400, "REQUEST_INVALID"],
    // Without cell a run uses the cell mounted on the channel; ch1 has none.
    ["cell missing, none mounted", post({ channel: "ch1", profile: RUN.profile }), 409, "NO_CELL_MOUNTED"],
    ["cell is a string", post(withCell("NMC-0042")), 400, "REQUEST_INVALID"],
    ["cell is an array", post(withCell([1, 2, 3])), 400, "REQUEST_INVALID"],
    ["cell is empty", post(withCell({})), 400, "REQUEST_INVALID"],
    [
      "cell chemistry unknown",
      post(withCell({ ...NMC_CELL_BODY, chemistry: "unobtainium" })),
      422,
      "CELL_INVALID",
    ],
    ["cell capacity negative", post(withCell({ ...NMC_CELL_BODY, capacity_ah: -3 })), 422, "CELL_INVALID"],
    ["cell capacity text", post(withCell({ ...NMC_CELL_BODY, capacity_ah: "lots" })), 422, "CELL_INVALID"],
    ["cell capacity NaN text", post(withCell({ ...NMC_CELL_BODY, capacity_ah: "NaN" })), 422, "CELL_INVALID"],
    [
      "cell id 70k characters",
      post(withCell({ ...NMC_CELL_BODY, id: "N".repeat(70_000) })),
      400,
      "REQUEST_INVALID",
    ],
    [
      "cell id with a line break",
      post(withCell({ ...NMC_CELL_BODY, id: "NMC\n0042" })),
      400,
      "REQUEST_INVALID",
    ],
    [
      "cell id ending in a backslash",
      post(withCell({ ...NMC_CELL_BODY, id: "NMC\\" })),
      400,
      "REQUEST_INVALID",
    ],
    [
      "cell capacity as numeric text",
      post(withCell({ ...NMC_CELL_BODY, capacity_ah: "3" })),
      400,
      "REQUEST_INVALID",
    ],
    ["cell capacity true", post(withCell({ ...NMC_CELL_BODY, capacity_ah: true })), 400, "REQUEST_INVALID"],
    [
      "profile name 70k characters",
      post(withProfile({ name: "p".repeat(70_000), steps: ["Rest for 1 s"] })),
      400,
      "REQUEST_INVALID",
    ],
    ["cell current excludes 0", post(withCell({ ...NMC_CELL_BODY, current: [1, 6] })), 422, "CELL_INVALID"],
    [
      "cell voltage wider than chemistry",
      post(withCell({ ...NMC_CELL_BODY, voltage: [2.5, 4.6] })),
      422,
      "CELL_INVALID",
    ],
    ["cell unknown key", post(withCell({ ...NMC_CELL_BODY, capacity: 3 })), 422, "CELL_INVALID"],
    [
      "cell __proto__ pollution",
      raw(`{"channel":"ch1","cell":{"__proto__":{"admin":true}},"profile":"x"}`),
      400,
      "REQUEST_INVALID",
    ],
    [
      "cell constructor.prototype pollution",
      raw(`{"channel":"ch1","cell":{"constructor":{"prototype":{"admin":true}}},"profile":"x"}`),
      400,
      "REQUEST_INVALID",
    ],
    [
      "profile and profile_id both missing",
      post({ channel: "ch1", cell: NMC_CELL_BODY }),
      400,
      "REQUEST_INVALID",
    ],
    [
      "profile and profile_id both given",
      post({ ...RUN, profile_id: "P000000000000" }),
      400,
      "REQUEST_INVALID",
    ],
    ["profile is a number", post(withProfile(42)), 400, "REQUEST_INVALID"],
    ["profile is an empty string", post(withProfile("")), 400, "REQUEST_INVALID"],
    ["profile is broken YAML", post(withProfile("name: [unclosed\nsteps: {")), 422, "PROFILE_INVALID"],
    ["profile is a YAML alias bomb", post(withProfile(ALIAS_BOMB)), 422, "PROFILE_INVALID"],
    ["profile has no steps", post(withProfile({ name: "x" })), 422, "PROFILE_INVALID"],
    [
      "profile steps is a string",
      post(withProfile({ name: "x", steps: "Rest for 1 s" })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "step with unknown unit",
      post(withProfile({ name: "x", steps: ["Charge at 1 Q until 4.2 V"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "step with SQL injection",
      post(withProfile({ name: "x", steps: ["Rest for 1 s'; DROP TABLE runs;--"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "step with a script tag",
      post(withProfile({ name: "x", steps: ["<img src=x onerror=alert(1)>"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "step in another alphabet",
      post(withProfile({ name: "x", steps: ["Réstе for 1 ѕ"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "current above the cell's envelope",
      post(withProfile({ name: "x", steps: ["Discharge at 10 A for 1 s"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "1000C charge",
      post(withProfile({ name: "x", steps: ["Charge at 1000C for 1 s"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "voltage above the cell's envelope",
      post(withProfile({ name: "x", steps: ["Charge at 1 A until 4.5 V"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "charging outside the cell's charge temperatures",
      post(withProfile({ name: "x", steps: [{ chamber: "50 °C" }, "Charge at 1 A for 10 s"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "profile safety wider than the cell",
      post(withProfile({ name: "x", safety: { voltage: [0, 10] }, steps: ["Rest for 1 s"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "drive cycle from /etc/passwd",
      post(withProfile({ name: "x", steps: ["Discharge following /etc/passwd"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "drive cycle path traversal",
      post(withProfile({ name: "x", steps: ["Discharge following ../../../etc/shadow.csv"] })),
      422,
      "PROFILE_INVALID",
    ],
    ["profile nested 100 deep", post(withProfile(nested(100))), 400, "REQUEST_INVALID"],
    [
      "repeat count negative",
      post(withProfile({ name: "x", steps: [{ repeat: -1, steps: ["Rest for 1 s"] }] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "period shorter than 10 ms",
      post(withProfile({ name: "x", steps: ["Rest for 1 s (0.1 ms period)"] })),
      422,
      "PROFILE_INVALID",
    ],
    [
      "goto an unknown label",
      post(
        withProfile({
          name: "x",
          steps: [{ step: "Rest for 1 s", limits: [{ when: "4 V", then: "goto nowhere" }] }],
        }),
      ),
      422,
      "PROFILE_INVALID",
    ],
    [
      "profile_id malformed",
      post({ channel: "ch1", cell: NMC_CELL_BODY, profile_id: "P123" }),
      400,
      "REQUEST_INVALID",
    ],
    [
      "profile_id unknown",
      post({ channel: "ch1", cell: NMC_CELL_BODY, profile_id: "P000000000000" }),
      404,
      "UNKNOWN_PROFILE",
    ],
    ["misspelt field", post({ ...RUN, chanel: "ch1" }), 400, "REQUEST_INVALID"],
    ["body of 2 MiB", post({ ...RUN, padding: "x".repeat(2 * 1024 * 1024) }), 413, "BODY_TOO_LARGE"],
    ["body not JSON", raw("{not json"), 400, "REQUEST_INVALID"],
    [
      "body is XML",
      raw("<run><channel>ch1</channel></run>", "application/xml"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    ["body empty with JSON type", raw(""), 400, "REQUEST_INVALID"],
    ["body is a JSON array", raw("[]"), 400, "REQUEST_INVALID"],
    ["body is a JSON string", raw('"ch1"'), 400, "REQUEST_INVALID"],
    ["body is null", raw("null"), 400, "REQUEST_INVALID"],
    [
      "Idempotency-Key with spaces",
      post(RUN, { "idempotency-key": "a key with spaces" }),
      400,
      "REQUEST_INVALID",
    ],
    [
      "Idempotency-Key of 300 characters",
      post(RUN, { "idempotency-key": "k".repeat(300) }),
      400,
      "REQUEST_INVALID",
    ],
    ["channel busy", post({ ...RUN, profile: { name: "x", steps: ["Rest for 1 s"] } }), 409, "CHANNEL_BUSY"],
    [
      "list with an unknown state",
      { method: "GET", url: "/api/v1/runs?state=exploded", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "list with an array state",
      { method: "GET", url: "/api/v1/runs?state[]=running", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "list with an unknown parameter",
      { method: "GET", url: "/api/v1/runs?limit=1;DROP", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "run id malformed",
      { method: "GET", url: "/api/v1/runs/not-a-run", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "run id unknown",
      { method: "GET", url: "/api/v1/runs/R20990101-0001", headers: OP },
      404,
      "UNKNOWN_RUN",
    ],
    [
      "run id with SQL injection",
      { method: "GET", url: "/api/v1/runs/R20260101-0001%27%20OR%201%3D1", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "run id 300 characters",
      { method: "GET", url: `/api/v1/runs/${"R".repeat(300)}`, headers: OP },
      414,
      "URI_TOO_LONG",
    ],
    [
      "URL with a broken escape",
      { method: "GET", url: "/api/v1/runs/%E0%A4%A", headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    [
      "pause a completed run",
      { method: "POST", url: `/api/v1/runs/${completed}/pause`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "resume a completed run",
      { method: "POST", url: `/api/v1/runs/${completed}/resume`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "stop a completed run",
      { method: "POST", url: `/api/v1/runs/${completed}/stop`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "clear a completed run",
      { method: "POST", url: `/api/v1/runs/${completed}/clear`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "resume a running run",
      { method: "POST", url: `/api/v1/runs/${running}/resume`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "clear a running run",
      { method: "POST", url: `/api/v1/runs/${running}/clear`, headers: OP },
      409,
      "RUN_INVALID_TRANSITION",
    ],
    [
      "unknown action",
      { method: "POST", url: `/api/v1/runs/${running}/explode`, headers: OP },
      404,
      "NOT_FOUND",
    ],
    [
      "stop an unknown run",
      { method: "POST", url: "/api/v1/runs/R20990101-0001/stop", headers: OP },
      404,
      "UNKNOWN_RUN",
    ],
    ["DELETE on runs", { method: "DELETE", url: "/api/v1/runs", headers: OP }, 404, "NOT_FOUND"],
    [
      "emergency stop with a numeric reason",
      { method: "POST", url: "/api/v1/emergency-stop", headers: OP, payload: { reason: 5 } },
      400,
      "REQUEST_INVALID",
    ],
    [
      "emergency stop with a 10k reason",
      { method: "POST", url: "/api/v1/emergency-stop", headers: OP, payload: { reason: "x".repeat(10_000) } },
      400,
      "REQUEST_INVALID",
    ],
    [
      "events with a non-numeric Last-Event-ID",
      { method: "GET", url: `/api/v1/runs/${running}/events`, headers: { ...OP, "last-event-id": "abc" } },
      400,
      "REQUEST_INVALID",
    ],
    [
      "events of an unknown run",
      { method: "GET", url: "/api/v1/runs/R20990101-0001/events", headers: OP },
      404,
      "UNKNOWN_RUN",
    ],
    [
      "bench events with a negative Last-Event-ID",
      { method: "GET", url: "/api/v1/events", headers: { ...OP, "last-event-id": "-1" } },
      400,
      "REQUEST_INVALID",
    ],
    [
      "export in a made-up format",
      { method: "GET", url: `/api/v1/runs/${completed}/data?format=../../x`, headers: OP },
      400,
      "REQUEST_INVALID",
    ],
    ["check without a cell", check({ profile: RUN.profile }), 400, "REQUEST_INVALID"],
    ["check with initial_soc 2", check({ ...RUN, initial_soc: 2 }), 400, "REQUEST_INVALID"],
    ["check with initial_soc as text", check({ ...RUN, initial_soc: "0.5" }), 400, "REQUEST_INVALID"],
    ["check on an unknown channel", check({ ...RUN, channel: "ch2" }), 404, "UNKNOWN_CHANNEL"],
    [
      "check a profile outside the envelope",
      check({ ...RUN, profile: { name: "x", steps: ["Charge at 4C until 4.2 V"] } }),
      422,
      "PROFILE_INVALID",
    ],
    [
      "store a numeric profile",
      { method: "POST", url: "/api/v1/profiles", headers: OP, payload: { profile: 123 } },
      400,
      "REQUEST_INVALID",
    ],
    [
      "store a profile as form data",
      {
        method: "POST",
        url: "/api/v1/profiles",
        headers: { ...OP, "content-type": "application/x-www-form-urlencoded" },
        body: "profile=x",
      },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    [
      "a 10k-character token",
      { method: "GET", url: "/api/v1/runs", headers: { authorization: `Bearer ${"t".repeat(10_000)}` } },
      401,
      "UNAUTHORIZED",
    ],
    [
      "basic auth",
      { method: "GET", url: "/api/v1/runs", headers: { authorization: "Basic YWRtaW46YWRtaW4=" } },
      401,
      "UNAUTHORIZED",
    ],
  ];
}

describe("hostile requests", () => {
  beforeAll(async () => {
    h = await openHttpBench();
    const first = await h.app.inject(post(RUN));
    completed = first.json().id;
    await waitFor(() => h.runs.get(completed).state === "completed", "the first run to complete");
    const second = await h.app.inject(post(withProfile({ name: "long", steps: ["Rest for 1000 hours"] })));
    running = second.json().id;
    expect(h.runs.get(running).state).toBe("running");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers each of at least 60 malformed or hostile requests with a 4xx problem, while the bench keeps sampling", async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(60);
    const ticksBefore = h.ticks();
    const failures: string[] = [];
    for (const [name, request, status, code] of all) {
      const ticks = h.ticks();
      const res = await h.app.inject(request);
      const body = res.headers["content-type"]?.toString().startsWith("application/problem+json")
        ? res.json()
        : undefined;
      const ok =
        res.statusCode === status &&
        body?.code === code &&
        body.status === res.statusCode &&
        typeof body.detail === "string" &&
        body.detail.length > 0 &&
        typeof body.type === "string" &&
        typeof body.title === "string";
      if (!ok)
        failures.push(`${name}: ${res.statusCode} ${res.headers["content-type"]} ${res.body.slice(0, 300)}`);
      expect(res.statusCode, name).toBeLessThan(500);
      await waitFor(() => h.ticks() > ticks, `sampling to go on after "${name}"`);
    }
    expect(failures).toEqual([]);
    expect(h.ticks()).toBeGreaterThan(ticksBefore + all.length);
    expect(h.runs.get(running).state).toBe("running");
  });

  it("names the offending field or profile step in the issues", async () => {
    const field = await h.app.inject(post({ ...RUN, channel: 5 }));
    expect(field.json().issues).toEqual([{ path: "body.channel", message: "must be a string" }]);
    const step = await h.app.inject(
      post(withProfile({ name: "x", steps: ["Rest for 1 s", "Discharge at 10 A for 1 s"] })),
    );
    expect(step.json().issues[0].path).toBe("body.profile.steps[1]");
    expect(step.json().issues[0].message).toMatch(/10 A/);
    const cell = await h.app.inject(post(withCell({ ...NMC_CELL_BODY, capacity_ah: -3 })));
    expect(cell.json().issues[0].path).toBe("body.cell.capacity_ah");
  });
});
