import { afterEach, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, TOKENS } from "../../support/http-bench.js";
import { openSse } from "../../support/http-sse.js";

const RUN = { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "p", steps: ["Rest for 1000 hours"] } };

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

describe("bearer tokens and roles", () => {
  it("refuses requests without a token (401), lets a viewer read but not start runs (403), lets an operator start them", async () => {
    h = await openHttpBench();
    const anonymous = await h.app.inject({ method: "POST", url: "/api/v1/runs", payload: RUN });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="cellbench"');
    expect(anonymous.json().code).toBe("UNAUTHORIZED");

    const viewer = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("viewer"),
      payload: RUN,
    });
    expect([viewer.statusCode, viewer.json().code]).toEqual([403, "FORBIDDEN"]);
    expect(viewer.json().detail).toMatch(/operator/);
    expect(h.runs.list()).toHaveLength(0);

    const operator = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: RUN,
    });
    expect(operator.statusCode).toBe(201);
    const id = operator.json().id;

    for (const url of ["/api/v1/runs", `/api/v1/runs/${id}`, "/api/v1/bench", "/api/v1/profiles"]) {
      expect((await h.app.inject({ method: "GET", url, headers: auth("viewer") })).statusCode, url).toBe(200);
      expect((await h.app.inject({ method: "GET", url })).statusCode, url).toBe(401);
    }
    const pause = await h.app.inject({
      method: "POST",
      url: `/api/v1/runs/${id}/pause`,
      headers: auth("viewer"),
    });
    expect(pause.statusCode).toBe(403);
    const stop = await h.app.inject({
      method: "POST",
      url: "/api/v1/emergency-stop",
      headers: auth("viewer"),
    });
    expect(stop.statusCode).toBe(403);
    const admin = await h.app.inject({
      method: "POST",
      url: `/api/v1/runs/${id}/stop`,
      headers: auth("admin"),
    });
    expect([admin.statusCode, admin.json().state]).toEqual([200, "stopped"]);
    const wrong = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { authorization: "Bearer not-a-valid-token-at-all" },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it("keeps /health, /metrics and /docs/json public", async () => {
    h = await openHttpBench();
    for (const url of ["/health", "/metrics", "/docs/json"]) {
      expect((await h.app.inject({ method: "GET", url })).statusCode, url).toBe(200);
    }
  });

  it("never writes a token to the log, whatever happens to the request", async () => {
    h = await openHttpBench();
    const wrong = "wrong-token-that-must-not-be-logged-42";
    await h.app.inject({ method: "POST", url: "/api/v1/runs", headers: auth("operator"), payload: RUN });
    await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: { ...RUN, channel: 5 },
    });
    await h.app.inject({ method: "POST", url: "/api/v1/runs", headers: auth("viewer"), payload: RUN });
    await h.app.inject({ method: "GET", url: "/api/v1/runs", headers: { authorization: `Bearer ${wrong}` } });
    await h.app.inject({ method: "GET", url: "/api/v1/runs/R20990101-0001", headers: auth("admin") });
    await h.app.inject({ method: "POST", url: "/api/v1/emergency-stop", headers: auth("operator") });
    const logged = h.logs.join("");
    expect(h.logs.length).toBeGreaterThan(10);
    expect(logged).toContain("incoming request");
    expect(logged).toContain("UNAUTHORIZED");
    expect(logged).toContain("authentication failed");
    expect(logged).toContain("[redacted]");
    for (const token of [...Object.values(TOKENS), wrong]) expect(logged).not.toContain(token);
    expect(logged.toLowerCase()).not.toMatch(/bearer [a-z0-9-]{8,}/);
  });

  it("explains how to configure tokens when none are, and can admit anonymous viewers when told to", async () => {
    h = await openHttpBench({ tokens: [] });
    const res = await h.app.inject({ method: "GET", url: "/api/v1/runs" });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/CELLBENCH_TOKENS/);
    await h.close();

    h = await openHttpBench({ tokens: [], http: { anonymousRole: "viewer" } });
    expect((await h.app.inject({ method: "GET", url: "/api/v1/runs" })).statusCode).toBe(200);
    expect((await h.app.inject({ method: "POST", url: "/api/v1/runs", payload: RUN })).statusCode).toBe(401);
  });
});

describe("anonymous viewers (auth.anonymous: viewer)", () => {
  it("are refused without it: 401 on reads, writes and the event stream", async () => {
    h = await openHttpBench();
    for (const [method, url] of [
      ["GET", "/api/v1/bench"],
      ["GET", "/api/v1/runs"],
      ["GET", "/api/v1/events"],
      ["POST", "/api/v1/runs"],
    ] as const) {
      const res = await h.app.inject({ method, url, ...(method === "POST" ? { payload: RUN } : {}) });
      expect([res.statusCode, res.json().code], `${method} ${url}`).toEqual([401, "UNAUTHORIZED"]);
    }
  });

  it("with it, read every GET route and the live stream without a token, and may not write (401, asking for a token)", async () => {
    h = await openHttpBench({ config: { anonymousRole: "viewer" } });
    for (const url of ["/api/v1/bench", "/api/v1/runs", "/api/v1/profiles", "/api/v1/session"]) {
      const res = await h.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
    }
    const address = await h.app.listen({ host: "127.0.0.1", port: 0 });
    const stream = await openSse(`${address}/api/v1/events`, {});
    try {
      expect(stream.status).toBe(200);
      expect((await stream.next(10_000))?.event).toBe("channels");
    } finally {
      stream.close();
    }

    for (const [url, payload] of [
      ["/api/v1/runs", RUN],
      ["/api/v1/emergency-stop", undefined],
      ["/api/v1/profiles", { profile: RUN.profile }],
    ] as const) {
      const res = await h.app.inject({ method: "POST", url, ...(payload ? { payload } : {}) });
      expect([res.statusCode, res.json().code], url).toEqual([401, "UNAUTHORIZED"]);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="cellbench"');
      expect(res.json().detail).toMatch(
        /may only read .*needs operator or higher: send Authorization: Bearer/,
      );
    }
    expect(h.runs.list()).toHaveLength(0);
    // Admin routes stay shut too, and a token still counts: a viewer's is refused with 403.
    expect((await h.app.inject({ method: "GET", url: "/api/v1/config" })).statusCode).toBe(401);
    const viewer = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      payload: RUN,
      headers: auth("viewer"),
    });
    expect(viewer.statusCode).toBe(403);
    const wrong = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { authorization: "Bearer not-a-token-of-this-daemon" },
    });
    expect(wrong.statusCode).toBe(401);
    const operator = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      payload: RUN,
      headers: auth("operator"),
    });
    expect(operator.statusCode).toBe(201);
  });

  it("warns at start-up when anonymous viewers may reach the API from the network", async () => {
    const warnings = (b: HttpBench) =>
      b.logs
        .map((l) => JSON.parse(l))
        .filter((l) => l.level === 40 && /requests without a token/.test(l.msg));
    h = await openHttpBench({ config: { anonymousRole: "viewer" } });
    expect(warnings(h)).toEqual([]);
    await h.close();
    h = await openHttpBench({ config: { anonymousRole: "viewer", http: { host: "0.0.0.0", port: 0 } } });
    expect(warnings(h)).toHaveLength(1);
    expect(warnings(h)[0]).toMatchObject({ host: "0.0.0.0", anonymousRole: "viewer" });
  });

  it("takes CORS origins and rate limits from the configuration", async () => {
    h = await openHttpBench({
      config: {
        http: {
          host: "127.0.0.1",
          port: 0,
          corsOrigins: ["http://grafana.lab"],
          rateLimit: { check: { max: 1, windowMs: 60_000 } },
        },
      },
      // The test bench's own generous check limit would win over the configuration's.
      http: { checkRateLimit: undefined },
    });
    const cors = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { ...auth("viewer"), origin: "http://grafana.lab" },
    });
    expect(cors.headers["access-control-allow-origin"]).toBe("http://grafana.lab");
    const tickets = [];
    for (let i = 0; i < 2; i++)
      tickets.push(
        (await h.app.inject({ method: "POST", url: "/api/v1/stream-tickets", headers: auth("viewer") }))
          .statusCode,
      );
    expect(tickets).toEqual([201, 429]);
  });
});

describe("limits", () => {
  it("rate-limits control routes per client with a 429 problem and Retry-After", async () => {
    h = await openHttpBench({ http: { controlRateLimit: { max: 2, windowMs: 60_000 } } });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.app.inject({
        method: "POST",
        url: "/api/v1/runs/R20990101-0001/pause",
        headers: auth("operator"),
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json().code).toBe("RATE_LIMITED");
        expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      }
    }
    expect(codes).toEqual([404, 404, 429]);
    // Reading is not limited, and another client has its own budget.
    expect(
      (await h.app.inject({ method: "GET", url: "/api/v1/runs", headers: auth("operator") })).statusCode,
    ).toBe(200);
    const admin = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs/R20990101-0001/pause",
      headers: auth("admin"),
    });
    expect(admin.statusCode).toBe(404);
  });

  it("refuses bodies above the limit with 413", async () => {
    h = await openHttpBench({ http: { bodyLimitBytes: 1024 } });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: { ...RUN, profile: `name: p\nsteps:\n${"  - Rest for 1 s\n".repeat(100)}` },
    });
    expect([res.statusCode, res.json().code]).toEqual([413, "BODY_TOO_LARGE"]);
  });

  it("leaves CORS off unless origins are configured", async () => {
    h = await openHttpBench();
    const off = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { ...auth("viewer"), origin: "http://evil.example" },
    });
    expect(off.headers["access-control-allow-origin"]).toBeUndefined();
    await h.close();
    h = await openHttpBench({ http: { corsOrigins: ["http://grafana.lab"] } });
    const on = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { ...auth("viewer"), origin: "http://grafana.lab" },
    });
    expect(on.headers["access-control-allow-origin"]).toBe("http://grafana.lab");
    const other = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { ...auth("viewer"), origin: "http://evil.example" },
    });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
