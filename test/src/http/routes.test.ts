import { afterEach, describe, expect, it, vi } from "vitest";
import { buildStorageStatus } from "../../../src/storage/storage-status.js";
import type { HttpBench } from "../../support/http-bench.js";
import { auth, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";
import { forwarderStatus, outboxStats } from "../../support/storage-status-parts.js";

const PROFILE = {
  name: "rest-then-discharge",
  steps: ["Rest for 10 seconds", "Discharge at 1C for 60 seconds", "Rest for 10 seconds"],
};
const PROFILE_YAML = `name: rest-then-discharge
steps:
  - Rest for 10 seconds
  - Discharge at 1C for 60 seconds
  - Rest for 10 seconds
`;

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

async function startRun(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: "POST",
    url: "/api/v1/runs",
    headers: { ...auth("operator"), ...headers },
    payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: PROFILE, ...body },
  });
}

describe("system routes", () => {
  it("GET /health reports devices and is public", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const res = await h.app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe("ok");
    expect(body.devices.map((d: { id: string; fresh: boolean }) => [d.id, d.fresh])).toEqual([
      ["cycler1", true],
      ["tc1", true],
    ]);
    expect(body.storage).toBeNull();
  });

  it("GET /health reports the storage backlog, and whether it is being sent at the catch-up rate", async () => {
    const status = buildStorageStatus({
      bench: "b1",
      url: "http://127.0.0.1:8086/write",
      database: "cellbench",
      nowMs: 1_764_100_060_000,
      forwarder: forwarderStatus({ reachable: true, catchingUp: true, catchUpPointsPerSecond: 25_000 }),
      backlog: { rows: 40, points: 200_000, oldestCreatedMs: 1_764_100_000_000 },
      outbox: outboxStats(),
      deadLetterTotal: 0,
      lastDeadLetterMessage: null,
      unencodable: { sinceStart: 0, lastMessage: null },
    });
    h = await openHttpBench({ auto: false, storage: { status: () => status } });
    await h.clock.advanceBy(1000);
    const res = await h.app.inject({ method: "GET", url: "/health" });
    expect(res.json().storage).toEqual({
      influx_reachable: true,
      backlog_rows: 40,
      backlog_points: 200_000,
      oldest_unsent_age_s: 60,
      catching_up: true,
      dead_letters: 0,
      unencodable: 0,
    });
  });

  it("GET /health fails (503) when no device has sampled recently", async () => {
    h = await openHttpBench({ auto: false });
    await h.bench.shutdown();
    await h.clock.advanceBy(60_000);
    const res = await h.app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(503);
    expect(res.json().status).toBe("failing");
    expect(res.json().problems[0]).toMatch(/no fresh sample/);
  });

  it("GET /metrics exposes channel gauges, lateness and run states without run ids", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(2000);
    expect((await startRun()).statusCode).toBe(201);
    await h.clock.advanceBy(3000);
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = res.body;
    const voltage = /cellbench_channel_voltage_volts\{channel="ch1"\} ([0-9.]+)/.exec(text);
    expect(Number(voltage?.[1])).toBeCloseTo(h.bench.channel("ch1").latest?.voltageV ?? Number.NaN, 6);
    expect(text).toMatch(/cellbench_channel_run_state\{channel="ch1",state="running"\} 1/);
    expect(text).toMatch(/cellbench_channel_temperature_celsius\{channel="ch1"\}/);
    expect(text).toMatch(/cellbench_runs\{state="running"\} 1/);
    expect(text).not.toMatch(/R2026\d{4}-\d{4}/);
  });

  it("GET /docs/json is serialised once: every request gets the same text", async () => {
    h = await openHttpBench({ auto: false });
    const swagger = vi.spyOn(h.app, "swagger");
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await h.app.inject({ method: "GET", url: "/docs/json" })).body);
    expect(swagger.mock.calls.length).toBeLessThanOrEqual(1);
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0] as string)).toEqual(h.app.swagger());
  });

  it("GET /docs/json is an OpenAPI document with request and response schemas for every route", async () => {
    h = await openHttpBench();
    const res = await h.app.inject({ method: "GET", url: "/docs/json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths).sort();
    expect(paths).toEqual(
      [
        "/api/v1/batches",
        "/api/v1/batches/{id}",
        "/api/v1/batches/{id}/resume",
        "/api/v1/batches/{id}/stop",
        "/api/v1/bench",
        "/api/v1/cells",
        "/api/v1/cells/{id}",
        "/api/v1/chambers/{id}/clear",
        "/api/v1/channels/{id}/cell",
        "/api/v1/channels/{id}/queue",
        "/api/v1/channels/{id}/queue/resume",
        "/api/v1/config",
        "/api/v1/emergency-stop",
        "/api/v1/events",
        "/api/v1/profiles",
        "/api/v1/profiles/check",
        "/api/v1/profiles/{id}",
        "/api/v1/queue/{entry}",
        "/api/v1/runs",
        "/api/v1/runs/{id}",
        "/api/v1/runs/{id}/abort",
        "/api/v1/runs/{id}/clear",
        "/api/v1/runs/{id}/cycles",
        "/api/v1/runs/{id}/data",
        "/api/v1/runs/{id}/events",
        "/api/v1/runs/{id}/metadata",
        "/api/v1/runs/{id}/pause",
        "/api/v1/runs/{id}/resume",
        "/api/v1/runs/{id}/steps",
        "/api/v1/runs/{id}/stop",
        "/api/v1/session",
        "/api/v1/stream-tickets",
        "/health",
        "/metrics",
      ].sort(),
    );
    for (const [path, methods] of Object.entries(
      doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>,
    )) {
      for (const [method, op] of Object.entries(methods)) {
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(doc.components.schemas).sort()).toEqual(["Problem", "Run"]);
    expect(doc.paths["/api/v1/runs"].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"].get.security).toBeUndefined();
    expect(doc.paths["/api/v1/runs"].post.requestBody).toBeDefined();
    expect(doc.paths["/api/v1/runs"].post.responses["201"]).toBeDefined();
    expect(doc.paths["/api/v1/runs"].post.responses["422"]).toBeDefined();
    const html = await h.app.inject({ method: "GET", url: "/docs" });
    expect(html.body).toContain("/docs/json");
  });

  it("GET /api/v1/bench lists channels, chambers and devices with their last samples", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const res = await h.app.inject({ method: "GET", url: "/api/v1/bench", headers: auth("viewer") });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.bench).toBe("test");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(body.channels).toHaveLength(1);
    expect(body.channels[0]).toMatchObject({
      id: "ch1",
      device: "cycler1",
      chamber: "tc1",
      run: null,
      read_errors: 0,
    });
    expect(body.channels[0].last_sample.voltage_v).toBeCloseTo(
      h.bench.channel("ch1").latest?.voltageV ?? 0,
      9,
    );
    expect(body.chambers[0]).toMatchObject({ id: "tc1", channels: ["ch1"], owner: null });
    expect(body.chambers[0].last_reading.temperature_c).toBeGreaterThan(20);
    expect(body.devices.map((d: { driver: string }) => d.driver)).toEqual(["sim/cycler", "sim/chamber"]);
    expect(JSON.stringify(body)).not.toContain("transport");
  });
});

describe("profiles", () => {
  it("stores a profile (JSON or YAML), returns the same id for the same document, lists and shows it", async () => {
    h = await openHttpBench();
    const first = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: auth("operator"),
      payload: { profile: PROFILE_YAML },
    });
    expect(first.statusCode).toBe(201);
    const stored = first.json();
    expect(stored).toMatchObject({
      name: "rest-then-discharge",
      steps: 3,
      format: "yaml",
      source: PROFILE_YAML,
    });
    expect(first.headers.location).toBe(`/api/v1/profiles/${stored.id}`);
    const again = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: { ...auth("operator"), "content-type": "application/yaml" },
      payload: PROFILE_YAML,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(stored.id);
    const json = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: auth("operator"),
      payload: { profile: PROFILE },
    });
    expect(json.statusCode).toBe(201);
    expect(json.json().format).toBe("json");

    const list = await h.app.inject({ method: "GET", url: "/api/v1/profiles", headers: auth("viewer") });
    expect(
      list
        .json()
        .profiles.map((p: { id: string }) => p.id)
        .sort(),
    ).toEqual([stored.id, json.json().id].sort());
    const one = await h.app.inject({
      method: "GET",
      url: `/api/v1/profiles/${stored.id}`,
      headers: auth("viewer"),
    });
    expect(one.json().source).toBe(PROFILE_YAML);
    const missing = await h.app.inject({
      method: "GET",
      url: "/api/v1/profiles/P000000000000",
      headers: auth("viewer"),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("UNKNOWN_PROFILE");
  });

  it("refuses an invalid profile with the step path", async () => {
    h = await openHttpBench();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: auth("operator"),
      payload: { profile: { name: "x", steps: ["Rest for 10 seconds", "Charge at 1 Q until 4.2 V"] } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe("PROFILE_INVALID");
    expect(res.json().issues[0].path).toBe("body.profile.steps[1]");
  });

  it("checks a profile against a cell with a dry-run estimate of duration and capacity", async () => {
    h = await openHttpBench();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles/check",
      headers: auth("viewer"),
      payload: { profile: PROFILE, cell: NMC_CELL_BODY, channel: "ch1" },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.valid).toBe(true);
    expect(body.profile).toEqual({ name: "rest-then-discharge", steps: 3 });
    expect(body.estimate.state).toBe("completed");
    expect(body.estimate.complete).toBe(true);
    expect(body.estimate.duration_s).toBeCloseTo(80, 0);
    // 1C of a 3 Ah cell for 60 s moves 0.05 Ah.
    expect(body.estimate.discharge_ah).toBeCloseTo(0.05, 3);
    expect(body.estimate.steps.map((s: { path: string }) => s.path)).toEqual([
      "steps[0]",
      "steps[1]",
      "steps[2]",
    ]);
  });

  it("refuses checks beyond the dry-run queue with 503 and Retry-After", async () => {
    h = await openHttpBench({ http: { dryRun: { maxConcurrent: 1, maxQueued: 0 } } });
    const check = () =>
      h.app.inject({
        method: "POST",
        url: "/api/v1/profiles/check",
        headers: auth("viewer"),
        payload: { profile: PROFILE, cell: NMC_CELL_BODY },
      });
    const [a, b] = await Promise.all([check(), check()]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 503]);
    const busy = a.statusCode === 503 ? a : b;
    expect(busy.json().code).toBe("DRY_RUN_BUSY");
    expect(busy.headers["retry-after"]).toBe("5");
    expect((await check()).statusCode).toBe(200);
  });

  it("estimates beyond the fine budget on 30 s samples, cuts at the coarse budget and says so", async () => {
    h = await openHttpBench({ http: { dryRun: { maxSamples: 100 } } });
    const check = (step: string) =>
      h.app.inject({
        method: "POST",
        url: "/api/v1/profiles/check",
        headers: auth("viewer"),
        payload: { profile: { name: "long", steps: [step] }, cell: NMC_CELL_BODY },
      });
    // 40 min is beyond 100 samples at 1 s but within 100 samples at 30 s.
    const sized = (await check("Rest for 40 minutes")).json().estimate;
    expect(sized.complete).toBe(true);
    expect(sized.sample_period_s).toBe(30);
    expect(sized.duration_s).toBeGreaterThanOrEqual(2400);
    expect(sized.duration_s).toBeLessThanOrEqual(2430);
    const cut = await check("Rest for 10 hours");
    expect(cut.statusCode).toBe(200);
    expect(cut.json().estimate.complete).toBe(false);
    expect(cut.json().estimate.duration_s).toBeGreaterThanOrEqual(3000);
    expect(cut.json().estimate.duration_s).toBeLessThan(3100);
  });

  it("checks a stored profile by id, and refuses a profile outside the cell's envelope with its step path", async () => {
    h = await openHttpBench();
    const stored = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: auth("operator"),
      payload: { profile: { name: "hot", steps: ["Charge at 3C until 4.2 V"] } },
    });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles/check",
      headers: auth("viewer"),
      payload: { profile_id: stored.json().id, cell: { ...NMC_CELL_BODY, current: [-6, 3] } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("PROFILE_INVALID");
    expect(res.json().issues[0].path).toMatch(new RegExp(`^profile ${stored.json().id}\\.steps\\[0\\]`));
  });
});

describe("runs", () => {
  it("starts a run (201 + Location) and shows its detail: step, cycle, elapsed, Ah/Wh, last sample", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const res = await startRun();
    expect(res.statusCode).toBe(201);
    const run = res.json();
    expect(run.id).toMatch(/^R20260101-0001$/);
    expect(res.headers.location).toBe(`/api/v1/runs/${run.id}`);
    expect(run).toMatchObject({
      channel: "ch1",
      cell: "NMC-0042",
      profile: "rest-then-discharge",
      state: "running",
    });

    await h.clock.advanceBy(25_000);
    const detail = (
      await h.app.inject({ method: "GET", url: res.headers.location as string, headers: auth("viewer") })
    ).json();
    expect(detail.state).toBe("running");
    expect(detail.step).toMatchObject({ index: 2, path: "steps[1]", text: "Discharge at 1C for 60 seconds" });
    expect(detail.step.elapsed_s).toBeGreaterThan(10);
    expect(detail.step.elapsed_s).toBeLessThan(20);
    expect(detail.cycle_index).toBe(1);
    expect(detail.test_time_s).toBeGreaterThanOrEqual(24);
    expect(detail.discharge_ah).toBeCloseTo((3 * detail.step.elapsed_s) / 3600, 3);
    expect(detail.discharge_wh).toBeGreaterThan(detail.discharge_ah * 3);
    expect(detail.last_sample.current_a).toBeCloseTo(-3, 1);
    expect(detail.history.map((x: { state: string }) => x.state)).toEqual(["queued", "running"]);

    const list = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs?state=running",
      headers: auth("viewer"),
    });
    expect(list.json().runs.map((r: { id: string }) => r.id)).toEqual([run.id]);
    const none = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs?state=completed",
      headers: auth("viewer"),
    });
    expect(none.json().runs).toEqual([]);
  });

  it("accepts the profile as YAML text or as a stored profile_id", async () => {
    h = await openHttpBench();
    const yaml = await startRun({ profile: PROFILE_YAML });
    expect(yaml.statusCode).toBe(201);
    await waitFor(() => h.runs.get(yaml.json().id).state === "completed", "the YAML run to complete");
    const stored = await h.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: auth("operator"),
      payload: { profile: PROFILE },
    });
    const byId = await startRun({ profile: undefined, profile_id: stored.json().id });
    expect(byId.statusCode).toBe(201);
    expect(byId.json().profile_id).toBe(stored.json().id);
    expect(byId.json().id).toMatch(/-0002$/);
  });

  it("gives progress and an ETA once the estimate is in", async () => {
    h = await openHttpBench({ auto: false, estimate: true });
    await h.clock.advanceBy(1000);
    const run = (await startRun()).json();
    await waitFor(() => h.runs.get(run.id).progress !== null, "the dry-run estimate");
    await h.clock.advanceBy(40_000);
    const detail = (
      await h.app.inject({ method: "GET", url: `/api/v1/runs/${run.id}`, headers: auth("viewer") })
    ).json();
    expect(detail.progress.estimated_total_s).toBeCloseTo(80, 0);
    expect(detail.progress.fraction).toBeGreaterThan(0.4);
    expect(detail.progress.fraction).toBeLessThan(0.6);
    expect(Date.parse(detail.progress.eta) - Date.parse(detail.last_sample.time)).toBeGreaterThan(30_000);
  });

  it("pauses, resumes and stops a run, answering 409 for transitions its state does not allow", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const id = (await startRun()).json().id;
    const control = (action: string) =>
      h.app.inject({ method: "POST", url: `/api/v1/runs/${id}/${action}`, headers: auth("operator") });

    expect((await control("resume")).statusCode).toBe(409);
    const paused = await control("pause");
    expect([paused.statusCode, paused.json().state]).toEqual([200, "paused"]);
    const resumed = await control("resume");
    expect([resumed.statusCode, resumed.json().state]).toEqual([200, "running"]);
    const stopped = await control("stop");
    expect([stopped.statusCode, stopped.json().state]).toEqual([200, "stopped"]);
    const again = await control("pause");
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "RUN_INVALID_TRANSITION", status: 409 });
    expect(again.json().detail).toMatch(/stopped/);
    expect((await control("clear")).statusCode).toBe(409);
  });

  it("aborts a run", async () => {
    h = await openHttpBench({ auto: false });
    const id = (await startRun()).json().id;
    const res = await h.app.inject({
      method: "POST",
      url: `/api/v1/runs/${id}/abort`,
      headers: auth("operator"),
    });
    expect(res.json().state).toBe("aborted");
  });

  it("emergency stop faults every active run; the channel then needs a clear before the next run", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const id = (await startRun()).json().id;
    const stop = await h.app.inject({
      method: "POST",
      url: "/api/v1/emergency-stop",
      headers: auth("operator"),
      payload: { reason: "smoke in the lab" },
    });
    expect(stop.statusCode).toBe(200);
    expect(stop.json().faulted.map((r: { id: string; state: string }) => [r.id, r.state])).toEqual([
      [id, "faulted"],
    ]);
    expect(stop.json().faulted[0].reason).toContain("smoke in the lab");

    const blocked = await startRun();
    expect([blocked.statusCode, blocked.json().code]).toEqual([409, "CHANNEL_FAULTED"]);
    const cleared = await h.app.inject({
      method: "POST",
      url: `/api/v1/runs/${id}/clear`,
      headers: auth("operator"),
    });
    expect([cleared.statusCode, cleared.json().cleared]).toEqual([200, true]);
    expect((await startRun()).statusCode).toBe(201);

    const empty = await h.app.inject({
      method: "POST",
      url: "/api/v1/emergency-stop",
      headers: auth("operator"),
    });
    expect(empty.statusCode).toBe(200);
  });

  it("answers 409 CHANNEL_BUSY and 404 UNKNOWN_CHANNEL / UNKNOWN_RUN", async () => {
    h = await openHttpBench({ auto: false });
    expect((await startRun()).statusCode).toBe(201);
    const busy = await startRun();
    expect([busy.statusCode, busy.json().code]).toEqual([409, "CHANNEL_BUSY"]);
    const unknown = await startRun({ channel: "ch9" });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, "UNKNOWN_CHANNEL"]);
    const missing = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs/R20990101-0001",
      headers: auth("viewer"),
    });
    expect([missing.statusCode, missing.json().code]).toEqual([404, "UNKNOWN_RUN"]);
  });

  it("honours Idempotency-Key: a retry gets the first response, another body with the key gets 422", async () => {
    h = await openHttpBench({ auto: false });
    const key = { "idempotency-key": "start-ch1-2026-01-01" };
    const first = await startRun({}, key);
    const retry = await startRun({}, key);
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers.location).toBe(first.headers.location);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(h.runs.list()).toHaveLength(1);
    const other = await startRun({ channel: "ch2" }, key);
    expect([other.statusCode, other.json().code]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
    // An error response is remembered too: the retry does not run the request again.
    const failKey = { "idempotency-key": "will-be-busy" };
    const busy = await startRun({}, failKey);
    await h.app.inject({
      method: "POST",
      url: `/api/v1/runs/${first.json().id}/stop`,
      headers: auth("operator"),
    });
    const busyAgain = await startRun({}, failKey);
    expect([busy.statusCode, busyAgain.statusCode]).toEqual([409, 409]);
    expect(busyAgain.json()).toEqual(busy.json());
    expect(busyAgain.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("exports a run as BDF CSV through the storage, 503 without storage, 502 when the query fails", async () => {
    h = await openHttpBench();
    const id = (await startRun()).json().id;
    const res = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/data?format=bdf-csv`,
      headers: auth("viewer"),
    });
    expect([res.statusCode, res.json().code]).toEqual([503, "STORAGE_UNAVAILABLE"]);
    await h.close();

    const calls: unknown[] = [];
    h = await openHttpBench({
      storage: {
        async *exportRunCsv(options: { run: string; chamber?: string }) {
          calls.push(options);
          yield "Test Time / s,Voltage / V\n";
          yield "0,3.7\n1,3.6\n";
          yield "2,3.5\n";
        },
      },
    });
    const id2 = (await startRun()).json().id;
    const csv = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id2}/data?format=bdf-csv`,
      headers: auth("viewer"),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.headers["content-disposition"]).toBe(`attachment; filename="${id2}.csv"`);
    expect(csv.body).toBe("Test Time / s,Voltage / V\n0,3.7\n1,3.6\n2,3.5\n");
    expect(calls).toMatchObject([{ run: id2, chamber: "tc1" }]);
    const badFormat = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id2}/data?format=xlsx`,
      headers: auth("viewer"),
    });
    expect(badFormat.statusCode).toBe(400);
    await h.close();

    h = await openHttpBench({
      storage: {
        // biome-ignore lint/correctness/useYield: fails before the first chunk, like an unreachable InfluxDB
        async *exportRunCsv() {
          const { ExportQueryError } = await import("../../../src/storage/errors.js");
          throw new ExportQueryError("export query failed (ECONNREFUSED)");
        },
      },
    });
    const id3 = (await startRun()).json().id;
    const failed = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id3}/data`,
      headers: auth("viewer"),
    });
    expect([failed.statusCode, failed.json().code]).toEqual([502, "EXPORT_QUERY_FAILED"]);
  });
});

describe("live events through inject", () => {
  it("a finished run's stream sends its snapshot and terminal event and ends; after that id it is 204", async () => {
    h = await openHttpBench();
    const id = (await startRun()).json().id;
    await waitFor(() => h.runs.get(id).state === "completed", "the run to complete");
    const res = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/events`,
      headers: auth("viewer"),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = [...res.body.matchAll(/(?:id: (\d+)\n)?event: (\w+)\ndata: (.*)\n\n/g)];
    expect(events.map((m) => m[2])).toEqual(["snapshot", "state"]);
    const terminal = events[1] as RegExpMatchArray;
    expect(JSON.parse(terminal[3] as string)).toMatchObject({ state: "completed", terminal: true });
    const done = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/events`,
      headers: { ...auth("viewer"), "last-event-id": terminal[1] as string },
    });
    expect(done.statusCode).toBe(204);
    const replay = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/events`,
      headers: { ...auth("viewer"), "last-event-id": "0" },
    });
    const replayed = [...replay.body.matchAll(/id: (\d+)\nevent: (\w+)/g)];
    expect(replayed.map((m) => m[2])).toContain("step");
    expect(replayed[replayed.length - 1]?.[2]).toBe("state");
  });
});
