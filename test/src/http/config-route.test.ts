import { afterEach, describe, expect, it } from "vitest";
import type { BenchConfig } from "../../../src/config/load-config.js";
import { configView, isSecretKey, redactUrl } from "../../../src/http/config-view.js";
import { DEFAULT_CHECK_RATE_LIMIT, DEFAULT_CONTROL_RATE_LIMIT } from "../../../src/http/rate-limits.js";
import { DEFAULT_REQUESTS_PER_SECOND } from "../../../src/http/turn-gate.js";
import { auth, type HttpBench, openHttpBench, TOKENS } from "../../support/http-bench.js";

const INFLUX_PASSWORD = "influx-password-1111";
const INFLUX_TOKEN = "influx-token-2222";
const URL_PASSWORD = "url-password-3333";
const INFLUX: NonNullable<BenchConfig["influx"]> = {
  url: `http://influx-user:${URL_PASSWORD}@influx.test:8086`,
  database: "cellbench",
  username: "influx-user",
  password: INFLUX_PASSWORD,
  token: INFLUX_TOKEN,
  catchUpPointsPerSecond: 40_000,
};
const SECRETS = [...Object.values(TOKENS), INFLUX_PASSWORD, INFLUX_TOKEN, URL_PASSWORD];

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

describe("GET /api/v1/config", () => {
  it("is for admins only: 401 without a token, 403 problem+json for viewer and operator", async () => {
    h = await openHttpBench({ config: { influx: INFLUX } });
    const anonymous = await h.app.inject({ method: "GET", url: "/api/v1/config" });
    expect([anonymous.statusCode, anonymous.json().code]).toEqual([401, "UNAUTHORIZED"]);
    for (const role of ["viewer", "operator"] as const) {
      const res = await h.app.inject({ method: "GET", url: "/api/v1/config", headers: auth(role) });
      expect(res.statusCode, role).toBe(403);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        code: "FORBIDDEN",
        status: 403,
        instance: "/api/v1/config",
        detail: `this token has role ${role}; the request needs admin or higher — use an admin token`,
      });
      for (const secret of SECRETS) expect(res.body).not.toContain(secret);
    }
  });

  it("shows an admin the effective configuration with every token and password redacted", async () => {
    h = await openHttpBench({ config: { influx: INFLUX, watchdogMs: 4000 } });
    const res = await h.app.inject({ method: "GET", url: "/api/v1/config", headers: auth("admin") });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["cache-control"]).toBe("no-store");
    for (const secret of SECRETS) expect(res.body).not.toContain(secret);
    expect(res.json()).toEqual({
      source: "test",
      bench: "test",
      http: {
        host: "127.0.0.1",
        port: 0,
        requestsPerSecond: DEFAULT_REQUESTS_PER_SECOND,
        rateLimit: { control: DEFAULT_CONTROL_RATE_LIMIT, check: DEFAULT_CHECK_RATE_LIMIT },
      },
      influx: {
        url: "http://influx-user:***@influx.test:8086",
        database: "cellbench",
        username: "influx-user",
        password: "***",
        token: "***",
        retention: { raw: "INF" },
        catchUpPointsPerSecond: 40_000,
      },
      store: ":memory:",
      devices: [
        {
          id: "cycler1",
          driver: "sim/cycler",
          transport: null,
          channels: ["ch1"],
          options: {
            cell: {
              id: "NMC-0042",
              chemistry: "li-ion-nmc",
              capacityAh: 3,
              voltageV: [2.5, 4.2],
              currentA: [-6, 6],
              temperatureC: [-20, 60],
            },
            initialSoc: 0.5,
          },
        },
        { id: "tc1", driver: "sim/chamber", transport: null, channels: [], options: { initialC: 25 } },
      ],
      chambers: [{ id: "tc1", device: "tc1", channels: ["ch1"] }],
      sampling: { period_ms: 1000, watchdog_ms: 4000, realtime_priority: null },
      auth: {
        tokens: [
          { role: "viewer", token: "***" },
          { role: "operator", token: "***" },
          { role: "admin", token: "***" },
        ],
      },
    });
    // The configuration the daemon runs with is untouched by the redaction.
    expect(INFLUX.password).toBe(INFLUX_PASSWORD);
  });

  it("reports the default watchdog and no influx when none is configured", async () => {
    h = await openHttpBench();
    const body = (
      await h.app.inject({ method: "GET", url: "/api/v1/config", headers: auth("admin") })
    ).json();
    expect(body.influx).toBeNull();
    expect(body.sampling).toEqual({ period_ms: 1000, watchdog_ms: 5000, realtime_priority: null });
  });

  it("appears in the OpenAPI document with its response schema, admin-only and with *** for secrets", async () => {
    h = await openHttpBench();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const op = doc.paths["/api/v1/config"].get;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op.responses).sort()).toEqual(["200", "401", "403"]);
    const schema = op.responses["200"].content["application/json"].schema;
    expect(Object.keys(schema.properties)).toEqual([
      "source",
      "bench",
      "http",
      "influx",
      "store",
      "devices",
      "chambers",
      "sampling",
      "auth",
    ]);
    expect(JSON.stringify(schema.properties.auth)).toContain('"***"');
  });
});

describe("configView", () => {
  const base: BenchConfig = {
    source: "/etc/cellbench/bench.yaml",
    bench: "b1",
    http: { host: "127.0.0.1", port: 8080 },
    store: "./var/cellbench.db",
    devices: [
      {
        id: "psb1",
        driver: "ea/psb-scpi",
        transport: "tcp://admin:device-pass-4444@10.0.0.5:5025?timeout=2&api_key=device-key-5555",
        channels: ["ch1"],
        options: {
          unit: 1,
          password: "option-password-6666",
          nested: { apiKey: "option-key-7777", list: [{ "auth-token": "option-token-8888" }] },
          backend: "http://svc-token-9999@backend.test/",
        },
      },
    ],
    chambers: [],
    samplingPeriodMs: 100,
    tokens: [{ role: "admin", token: "config-admin-token-0000" }],
  };

  it("shows the raw retention the storage layer applies: configured, or INF by default", () => {
    const influx = { url: "http://127.0.0.1:8086", database: "lab" };
    expect(configView({ ...base, influx }).influx?.retention).toEqual({ raw: "INF" });
    expect(
      configView({ ...base, influx: { ...influx, schema: { raw: { duration: "400d" } } } }).influx?.retention,
    ).toEqual({ raw: "400d" });
  });

  it("shows the API's pacing and per-token limits as configured, each default where none is", () => {
    const http = {
      ...base.http,
      requestsPerSecond: 500,
      rateLimit: { control: { max: 120, windowMs: 30_000 } },
    };
    expect(configView({ ...base, http }).http).toEqual({
      host: "127.0.0.1",
      port: 8080,
      requestsPerSecond: 500,
      rateLimit: { control: { max: 120, windowMs: 30_000 }, check: { max: 20, windowMs: 60_000 } },
    });
    expect(configView(base).http).toMatchObject({
      requestsPerSecond: 250,
      rateLimit: { control: { max: 60, windowMs: 60_000 } },
    });
  });

  it("redacts driver options under secret keys and credentials in transport URLs", () => {
    const text = JSON.stringify(configView(base));
    for (const secret of [
      "device-pass-4444",
      "device-key-5555",
      "option-password-6666",
      "option-key-7777",
      "option-token-8888",
      "svc-token-9999",
      "config-admin-token-0000",
    ]) {
      expect(text).not.toContain(secret);
    }
    const device = configView(base).devices[0];
    expect(device?.transport).toBe("tcp://admin:***@10.0.0.5:5025?timeout=2&api_key=***");
    expect(device?.options).toEqual({
      unit: 1,
      password: "***",
      nested: { apiKey: "***", list: [{ "auth-token": "***" }] },
      backend: "http://***@backend.test/",
    });
    expect(base.devices[0]?.options?.password).toBe("option-password-6666");
  });

  it("recognises secret keys and URL credentials", () => {
    for (const key of [
      "password",
      "Passwd",
      "token",
      "api_key",
      "apiKey",
      "client_secret",
      "credentials",
      "pass",
    ])
      expect(isSecretKey(key), key).toBe(true);
    for (const key of ["unit", "baudRate", "passive", "channels", "bypass", "initialSoc"])
      expect(isSecretKey(key), key).toBe(false);
    expect(redactUrl("http://127.0.0.1:8086")).toBe("http://127.0.0.1:8086");
    expect(redactUrl("http://u:p@h:8086/x?u=u&p=secret&db=d")).toBe("http://u:***@h:8086/x?u=u&p=***&db=d");
    expect(redactUrl("serial:///dev/serial/by-id/usb-EA?baud=115200")).toBe(
      "serial:///dev/serial/by-id/usb-EA?baud=115200",
    );
  });
});
