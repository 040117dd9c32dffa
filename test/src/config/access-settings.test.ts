/** auth.anonymous, http.cors, http.rateLimit and grafana.url: read, normalised, and refused with what to change. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, normaliseConfig } from "../../../src/config/load-config.js";

const root = join(import.meta.dirname, "..", "..", "..");
const minimal = { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] };

function issuesOf(extra: Record<string, unknown>): string[] {
  try {
    normaliseConfig({ ...minimal, ...extra }, "bench.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("access settings in the bench configuration", () => {
  it("reads anonymous viewers, CORS origins, rate limits and Grafana's URL", () => {
    const config = normaliseConfig(
      {
        ...minimal,
        http: {
          port: 8081,
          cors: { origins: ["https://grafana.lab:3000", "http://[::1]:3000"] },
          rateLimit: { control: { max: 30, window: "1 min" }, check: { max: 5, window: 10_000 } },
          requestsPerSecond: 100,
        },
        auth: { anonymous: "viewer" },
        grafana: { url: "https://lab.example/grafana/" },
      },
      "bench.yaml",
    );
    expect(config.http).toEqual({
      host: "127.0.0.1",
      port: 8081,
      corsOrigins: ["https://grafana.lab:3000", "http://[::1]:3000"],
      rateLimit: { control: { max: 30, windowMs: 60_000 }, check: { max: 5, windowMs: 10_000 } },
      requestsPerSecond: 100,
    });
    expect(config.anonymousRole).toBe("viewer");
    expect(config.tokens).toEqual([]);
    expect(config.grafana).toEqual({ url: "https://lab.example/grafana" });
  });

  it("leaves them out when the file does", () => {
    const config = normaliseConfig(minimal, "bench.yaml");
    expect(config.anonymousRole).toBeUndefined();
    expect(config.grafana).toBeUndefined();
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8080 });
  });

  it.each(["operator", "admin", "Viewer", ""])("refuses anonymous %j: only viewer, and says why", (role) => {
    const issues = issuesOf({ auth: { anonymous: role } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^auth\.anonymous: ".*" is not allowed; only viewer may be given/);
    expect(issues[0]).toMatch(/could otherwise start and stop runs/);
  });

  it.each([
    [
      { http: { cors: { origins: ["https://grafana.lab/dashboards"] } } },
      /^http\.cors\.origins\[0\]: .* is not an origin; write scheme, host and port only/,
    ],
    [{ http: { cors: { origins: ["*"] } } }, /^http\.cors\.origins\[0\]: "\*" is not an origin/],
    [{ http: { rateLimit: { control: { max: 0, window: "1 min" } } } }, /^http\.rateLimit\.control\.max: /],
    [
      { http: { rateLimit: { check: { max: 5, window: "soon" } } } },
      /http\.rateLimit\.check\.window: "soon" is not a duration/,
    ],
    [
      { http: { rateLimit: { check: { max: 5, window: "100 ms" } } } },
      /^http\.rateLimit\.check\.window: use at least 1 s/,
    ],
    [{ http: { rateLimit: { burst: 5 } } }, /^http\.rateLimit\.burst: unknown key/],
    [{ http: { requestsPerSecond: 5 } }, /^http\.requestsPerSecond: /],
    [{ http: { requestsPerSecond: 12.5 } }, /^http\.requestsPerSecond: /],
    [
      { grafana: { url: "grafana.lab:3000" } },
      /^grafana\.url: .* is not an http or https URL|^grafana\.url: .* is not a URL/,
    ],
    [{ grafana: { url: "http://admin:secret@grafana.lab" } }, /^grafana\.url: the URL carries credentials/],
    [{ grafana: { url: "http://grafana.lab/?orgId=1" } }, /^grafana\.url: the URL has a query or fragment/],
  ])("refuses %j with what to change", (extra, message) => {
    const issues = issuesOf(extra);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(message);
  });

  it("turns on anonymous viewers, an admin token and a Grafana link in the loopback-only demo configuration", () => {
    const config = loadConfig(join(root, "examples", "sim-bench.yaml"), {});
    expect(config.http.host).toBe("127.0.0.1");
    expect(config.anonymousRole).toBe("viewer");
    expect(config.tokens.map((t) => t.role).sort()).toEqual(["admin", "operator", "viewer"]);
    expect(config.grafana?.url).toBe("http://127.0.0.1:3000");
  });
});
