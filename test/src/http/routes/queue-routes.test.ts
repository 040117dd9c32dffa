/** Channel queues over HTTP on the simulated bench (virtual clock at full speed). */
import { afterEach, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, waitFor } from "../../../support/http-bench.js";

const SHORT = (name: string) => `name: ${name}
steps:
  - Rest for 30 s
  - Discharge at 1C for 2 minutes
  - Rest for 30 s
`;

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

interface RunJson {
  id: string;
  state: string;
  reason: string;
  history: { state: string; at: string; reason: string }[];
}

async function enqueue(profile: string, channel = "ch1", extra: Record<string, unknown> = {}) {
  return h.app.inject({
    method: "POST",
    url: `/api/v1/channels/${channel}/queue`,
    headers: auth("operator"),
    payload: { cell: NMC_CELL_BODY, profile, ...extra },
  });
}

const queue = async (channel = "ch1") =>
  (
    await h.app.inject({ method: "GET", url: `/api/v1/channels/${channel}/queue`, headers: auth("viewer") })
  ).json();
const run = async (id: string): Promise<RunJson> =>
  (await h.app.inject({ method: "GET", url: `/api/v1/runs/${id}`, headers: auth("viewer") })).json();
const at = (r: RunJson, state: string) => Date.parse(r.history.find((x) => x.state === state)?.at ?? "");

describe("channel queues", () => {
  it("runs two queued runs one after the other: the second starts after the first completed", async () => {
    h = await openHttpBench({ auto: true });
    const first = await enqueue(SHORT("first"));
    expect(first.statusCode).toBe(201);
    expect(first.json().state).toBe("running");
    const second = await enqueue(SHORT("second"));
    expect(second.statusCode).toBe(201);
    expect(second.json().state).toBe("queued");
    const a = first.json().id as string;
    const b = second.json().id as string;
    expect(second.headers.location).toBe(`/api/v1/runs/${b}`);

    // The queued run is a run in state queued, under the id it will keep.
    const listed = (
      await h.app.inject({ method: "GET", url: "/api/v1/runs?state=queued", headers: auth("viewer") })
    ).json();
    expect(listed.runs.map((r: RunJson) => r.id)).toEqual([b]);
    const q = await queue();
    expect(q).toMatchObject({ channel: "ch1", held: null, current: a });
    expect(q.runs.map((r: RunJson) => r.id)).toEqual([b]);

    await waitFor(
      () => h.runs.list().some((r) => r.id === b && r.state === "completed"),
      "both runs",
      60_000,
    );
    const [ra, rb] = [await run(a), await run(b)];
    expect(ra.state).toBe("completed");
    expect(rb.history.map((x) => x.state)).toEqual(["queued", "running", "completed"]);
    expect(at(rb, "running")).toBeGreaterThanOrEqual(at(ra, "completed"));
    expect((await queue()).runs).toEqual([]);
  });

  it("holds the queue when a run faults, says why, and starts the next only when resumed", async () => {
    h = await openHttpBench({ auto: true });
    const a = (await enqueue(`name: long\nsteps:\n  - Rest for 2 hours\n`)).json().id as string;
    const b = (await enqueue(SHORT("after"))).json().id as string;
    const stop = await h.app.inject({
      method: "POST",
      url: "/api/v1/emergency-stop",
      headers: auth("operator"),
      payload: { reason: "test" },
    });
    expect(stop.statusCode).toBe(200);
    await waitFor(() => h.runs.get(a).state === "faulted", "the first run to fault");
    const held = await queue();
    expect(held.held).toBe(`run ${a} ended faulted (emergency stop: test)`);
    expect(held.runs.map((r: RunJson) => r.id)).toEqual([b]);
    // Simulated time goes on; the held queue starts nothing.
    const t0 = h.clock.now();
    await waitFor(() => h.clock.now() > t0 + 600_000, "ten simulated minutes");
    expect((await run(b)).state).toBe("queued");

    // Resuming while the channel holds the uncleared fault is refused with its code; still held.
    const refused = await h.app.inject({
      method: "POST",
      url: "/api/v1/channels/ch1/queue/resume",
      headers: auth("operator"),
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("CHANNEL_FAULTED");
    expect((await queue()).held).toMatch(
      new RegExp(`^queued run ${b} could not start: channel ch1 holds the latched fault of run ${a}`),
    );

    await h.app.inject({ method: "POST", url: `/api/v1/runs/${a}/clear`, headers: auth("operator") });
    const resumed = await h.app.inject({
      method: "POST",
      url: "/api/v1/channels/ch1/queue/resume",
      headers: auth("operator"),
    });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ held: null, current: b, runs: [] });
    await waitFor(() => h.runs.get(b).state === "completed", "the second run", 60_000);
  });

  it("refuses a bad run when it is queued, not at its turn; cancels a queued run", async () => {
    h = await openHttpBench({ auto: true });
    const bad = await enqueue(`name: overcharge\nsteps:\n  - Charge at 1C until 4.5 V\n`);
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe("PROFILE_INVALID");
    expect(bad.json().issues[0].path).toMatch(/^body\.profile\.steps\[0\]/);
    const wrongChannel = await enqueue(SHORT("x"), "ch1", { channel: "ch2" });
    expect(wrongChannel.statusCode).toBe(400);
    expect(wrongChannel.json().issues[0].path).toBe("body.channel");
    const unknown = await enqueue(SHORT("x"), "ch9");
    expect(unknown.json().code).toBe("UNKNOWN_CHANNEL");
    expect((await queue()).runs).toEqual([]);

    const a = (await enqueue(`name: long\nsteps:\n  - Rest for 2 hours\n`)).json().id as string;
    const b = (await enqueue(SHORT("cancel-me"))).json().id as string;
    const cancel = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/queue/${b}`,
      headers: auth("operator"),
    });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({ id: b, state: "queued", reason: "cancelled by operator" });
    expect((await queue()).runs).toEqual([]);
    const again = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/queue/${b}`,
      headers: auth("operator"),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe("QUEUE_ENTRY_UNKNOWN");
    const started = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/queue/${a}`,
      headers: auth("operator"),
    });
    expect(started.statusCode).toBe(404);
    expect(started.json().detail).toBe(
      `run ${a} is no longer queued: it has started; stop it with POST /api/v1/runs/${a}/stop`,
    );
    const viewer = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/queue/${a}`,
      headers: auth("viewer"),
    });
    expect(viewer.statusCode).toBe(403);
  });
});
