/** GET /, GET /assets/:name and GET /api/v1/session over HTTP (the browser test drives the page itself). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { auth, type HttpBench, openHttpBench } from "../../../support/http-bench.js";

const pageDir = join(import.meta.dirname, "..", "..", "..", "..", "src", "http", "live-page");
const require = createRequire(import.meta.url);

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

describe("the live page's files", () => {
  it("serves the page at / without a token, with a strict content security policy", async () => {
    h = await openHttpBench();
    const res = await h.app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toBe(readFileSync(join(pageDir, "index.html"), "utf8"));
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'self'; script-src 'self';/);
    expect(res.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it.each([
    ["live-page.js", "text/javascript; charset=utf-8", join(pageDir, "live-page.js")],
    ["live-page.css", "text/css; charset=utf-8", join(pageDir, "live-page.css")],
    ["uplot.js", "text/javascript; charset=utf-8", require.resolve("uplot/dist/uPlot.iife.min.js")],
    ["uplot.css", "text/css; charset=utf-8", require.resolve("uplot/dist/uPlot.min.css")],
  ])("serves /assets/%s as %s, the file itself", async (name, type, file) => {
    h = await openHttpBench();
    const res = await h.app.inject({ method: "GET", url: `/assets/${name}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.rawPayload.equals(readFileSync(file))).toBe(true);
  });

  it("answers 304 to a client that has the file (ETag), and revalidates (no-cache)", async () => {
    h = await openHttpBench();
    const first = await h.app.inject({ method: "GET", url: "/assets/live-page.js" });
    expect(first.headers["cache-control"]).toBe("no-cache");
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await h.app.inject({
      method: "GET",
      url: "/assets/live-page.js",
      headers: { "if-none-match": etag },
    });
    expect([again.statusCode, again.body]).toEqual([304, ""]);
    const other = await h.app.inject({ method: "GET", url: "/assets/live-page.css" });
    expect(other.headers.etag).not.toBe(etag);
  });

  it.each([
    "/assets/nope.js",
    "/assets/",
    "/assets/..%2Fserver.ts",
    "/assets/..%2F..%2F..%2Fpackage.json",
    "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json",
    "/assets/..%5C..%5Cpackage.json",
    "/assets/../../package.json",
    "/assets/%2Fetc%2Fpasswd",
    "/assets/uPlot.iife.min.js",
    "/assets/live-page.js%00.css",
  ])("answers 404 problem+json for %s and reads no file outside the page's", async (url) => {
    h = await openHttpBench();
    const res = await h.app.inject({ method: "GET", url });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe("NOT_FOUND");
    expect(res.body).not.toMatch(/"name": "cellbench"|root:|registerPageRoutes/);
  });

  it("serves only GET: a POST to the page is 404", async () => {
    h = await openHttpBench();
    const res = await h.app.inject({ method: "POST", url: "/assets/live-page.js", headers: auth("admin") });
    expect(res.statusCode).toBe(404);
  });
});

describe("GET /api/v1/session", () => {
  it("needs a token unless anonymous viewers are admitted, and tells the page the role and Grafana's URL", async () => {
    h = await openHttpBench();
    expect((await h.app.inject({ method: "GET", url: "/api/v1/session" })).statusCode).toBe(401);
    const operator = await h.app.inject({ method: "GET", url: "/api/v1/session", headers: auth("operator") });
    expect(operator.json()).toEqual({ bench: "test", role: "operator", anonymous: false, grafana_url: null });
    await h.close();

    h = await openHttpBench({
      config: { anonymousRole: "viewer", grafana: { url: "http://grafana.lab:3000" } },
    });
    const anonymous = await h.app.inject({ method: "GET", url: "/api/v1/session" });
    expect(anonymous.json()).toEqual({
      bench: "test",
      role: "viewer",
      anonymous: true,
      grafana_url: "http://grafana.lab:3000",
    });
    const admin = await h.app.inject({ method: "GET", url: "/api/v1/session", headers: auth("admin") });
    expect(admin.json()).toMatchObject({ role: "admin", anonymous: false });
  });
});
