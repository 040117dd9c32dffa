/** Live events over a real socket (127.0.0.1, ephemeral port). */
import { afterEach, describe, expect, it } from "vitest";
import type { SseMessage } from "../../../src/cli/client/sse-parser.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";
import { openSse } from "../../support/http-sse.js";

const PROFILE = {
  name: "short",
  steps: ["Rest for 5 seconds", "Discharge at 1C for 10 seconds", "Rest for 5 seconds"],
};

let h: HttpBench;
let base: string;
afterEach(async () => {
  await h?.close();
});

async function listen(options: Parameters<typeof openHttpBench>[0]) {
  h = await openHttpBench(options);
  const address = await h.app.listen({ host: "127.0.0.1", port: 0 });
  base = address;
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
}

async function startRun(profile: unknown = PROFILE): Promise<string> {
  const res = await fetch(`${base}/api/v1/runs`, {
    method: "POST",
    headers: { ...auth("operator"), "content-type": "application/json" },
    body: JSON.stringify({ channel: "ch1", cell: NMC_CELL_BODY, profile }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("live events over a socket", () => {
  it("streams a run's snapshot, samples, steps and states to the end, then closes", async () => {
    await listen({ auto: false, http: { sampleRateHz: 0, heartbeatMs: 20 } });
    const id = await startRun();
    const sse = await openSse(`${base}/api/v1/runs/${id}/events`, auth("viewer"));
    expect(sse.status).toBe(200);
    const first = await sse.next();
    expect(first?.event).toBe("snapshot");
    expect(JSON.parse(first?.data ?? "{}")).toMatchObject({ id, state: "running" });

    const events: SseMessage[] = [];
    for (let second = 0; second < 120 && !sse.ended(); second++) {
      await h.clock.advanceBy(1000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(...sse.take());
    }
    await waitFor(() => sse.ended(), "the server to end the stream");
    events.push(...sse.take());
    const ended = sse.ended();
    expect(ended).toBe(true);
    const kinds = events.map((e) => e.event);
    expect(kinds.filter((k) => k === "step").length).toBe(2);
    expect(kinds[kinds.length - 1]).toBe("state");
    const last = JSON.parse(events[events.length - 1]?.data ?? "{}");
    expect(last).toMatchObject({ run: id, state: "completed", terminal: true });
    const samples = events.filter((e) => e.event === "sample").map((e) => JSON.parse(e.data));
    expect(samples.length).toBeGreaterThanOrEqual(19);
    const discharging = samples.filter((s) => s.current_a < -1);
    expect(discharging.length).toBeGreaterThanOrEqual(9);
    expect(discharging[0].current_a).toBeCloseTo(-3, 1);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(sse.raw()).toContain(": heartbeat");
    await waitFor(() => h.app.liveClients() === 0, "the stream to be released");
  });

  it("resumes with Last-Event-ID without losing or repeating events", async () => {
    await listen({ auto: false, http: { sampleRateHz: 0 } });
    const id = await startRun({ name: "long", steps: ["Rest for 1 hour"] });
    const a = await openSse(`${base}/api/v1/runs/${id}/events`, auth("viewer"));
    expect((await a.next())?.event).toBe("snapshot");
    await h.clock.advanceBy(3000);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push(Number((await a.next())?.id));
    a.close();
    await waitFor(() => h.app.liveClients() === 0, "the first connection to be released");
    await h.clock.advanceBy(5000);
    const b = await openSse(`${base}/api/v1/runs/${id}/events`, {
      ...auth("viewer"),
      "last-event-id": String(seen[2]),
    });
    for (let i = 0; i < 5; i++) seen.push(Number((await b.next())?.id));
    b.close();
    const start = seen[0] as number;
    expect(seen).toEqual(Array.from({ length: 8 }, (_, i) => start + i));
  });

  it("says where a resumed stream lost events the buffer no longer holds, then carries on", async () => {
    await listen({ auto: false, periodMs: 100, http: { sampleRateHz: 0 } });
    const id = await startRun({ name: "long", steps: ["Rest for 1 hour"] });
    const a = await openSse(`${base}/api/v1/runs/${id}/events`, auth("viewer"));
    expect((await a.next())?.event).toBe("snapshot");
    await h.clock.advanceBy(1000);
    const last = Number((await a.next())?.id);
    a.close();
    await waitFor(() => h.app.liveClients() === 0, "the first connection to be released");
    // 1200 samples: far more events than the 512 a run's buffer keeps.
    await h.clock.advanceBy(120_000);
    const b = await openSse(`${base}/api/v1/runs/${id}/events`, {
      ...auth("viewer"),
      "last-event-id": String(last),
    });
    const gap = await b.next();
    expect(gap?.event).toBe("gap");
    expect(JSON.parse(gap?.data ?? "{}")).toMatchObject({ after: last });
    const resumed = [Number((await b.next())?.id), Number((await b.next())?.id)];
    b.close();
    expect(resumed[0]).toBeGreaterThan(last + 512);
    expect(resumed[1]).toBe((resumed[0] as number) + 1);
  });

  it("streams every run on the bench-wide stream and removes the listener when the client goes", async () => {
    await listen({ auto: false, http: { sampleRateHz: 0, heartbeatMs: 1000 } });
    const sse = await openSse(`${base}/api/v1/events`, auth("viewer"));
    const snapshot = await sse.next();
    expect(snapshot?.event).toBe("channels");
    expect(JSON.parse(snapshot?.data ?? "{}").channels[0].channel).toBe("ch1");
    const id = await startRun();
    await h.clock.advanceBy(2000);
    const got: SseMessage[] = [];
    while (got.filter((e) => e.event === "sample").length < 2) {
      const e = await sse.next();
      if (e) got.push(e);
    }
    expect(got.some((e) => e.event === "state" && JSON.parse(e.data).run === id)).toBe(true);
    expect(h.app.liveClients()).toBe(1);
    sse.close();
    await waitFor(() => h.app.liveClients() === 0, "the bench stream to be released");
  });

  it("ends open streams when the server closes", async () => {
    await listen({ auto: false });
    const id = await startRun({ name: "long", steps: ["Rest for 1 hour"] });
    const sse = await openSse(`${base}/api/v1/runs/${id}/events`, auth("viewer"));
    expect((await sse.next())?.event).toBe("snapshot");
    const closing = h.app.close();
    expect(await sse.next()).toBeUndefined();
    await closing;
  });

  it("answers oversized headers with a problem", async () => {
    await listen({ auto: false });
    const res = await fetch(`${base}/api/v1/runs`, { headers: { "x-junk": "j".repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe("HEADERS_TOO_LARGE");
  });
});
