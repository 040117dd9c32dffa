/**
 * Issue 11, finding 9: no log line carries a stream ticket, a token or a secret header, however the
 * client encodes the query string (percent-encoded key or value, `+`, `;`, repeated keys, mixed case)
 * and at every log level (the bench logs at trace).
 */
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auth, type HttpBench, openHttpBench, TOKENS } from "../../support/http-bench.js";

let h: HttpBench;
beforeAll(async () => {
  h = await openHttpBench();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.logs.length = 0;
});

/** Every form in which `secret` could show in a JSON log line. */
function forms(secret: string, sent: readonly string[] = []): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).toLowerCase(),
    JSON.stringify(secret).slice(1, -1),
    ...sent,
  ];
}

function expectNotLogged(secret: string, sent: readonly string[] = []): void {
  const logged = h.logs.join("");
  for (const form of forms(secret, sent)) expect(logged, `"${form}" is in the log`).not.toContain(form);
}

/** The URLs the request lines logged ("incoming request" carries req.url). */
function loggedUrls(): string[] {
  return h.logs
    .map((line) => JSON.parse(line) as { req?: { url?: string } })
    .flatMap((entry) => (entry.req?.url === undefined ? [] : [entry.req.url]));
}

const TICKET = "Zm9vYmFyYmF6cXV4Y29yZ2VncmF1bHQx";

describe("request URLs in the log", () => {
  it.each([
    ["?%74icket=", `/api/v1/events?%74icket=${TICKET}`],
    ["?%74%69%63%6b%65%74=", `/api/v1/events?%74%69%63%6b%65%74=${TICKET}`],
    [
      "a percent-encoded value",
      `/api/v1/events?ticket=${[...TICKET].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")}`,
    ],
    ["a repeated key", `/api/v1/events?ticket=x&ticket=${TICKET}`],
    ["`;` separators", `/api/v1/events?state=running;ticket=${TICKET}`],
    ["a mixed-case key", `/api/v1/events?TiCkEt=${TICKET}`],
    ["an unknown key", `/api/v1/events?tiket=${TICKET}`],
    ["a key alone", `/api/v1/events?${TICKET}`],
    ["a `;` in the path", `/api/v1/events;ticket=${TICKET}`],
    ["a fragment", `/api/v1/events#ticket=${TICKET}`],
  ])("keeps a ticket sent with %s out of every log line", async (_what, url) => {
    const res = await h.app.inject({ method: "GET", url });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(h.logs.length).toBeGreaterThan(0);
    expectNotLogged(TICKET, [url.slice(url.search(/[?;#]/) + 1)]);
  });

  it("logs the path, the names of secret parameters and the values of known, harmless ones", async () => {
    await h.app.inject({ method: "GET", url: "/api/v1/runs?state=running", headers: auth("viewer") });
    await h.app.inject({ method: "GET", url: `/api/v1/events?%74icket=${TICKET}&state=x` });
    await h.app.inject({ method: "GET", url: "/api/v1/runs/R1/data?format=bdf-csv&from=1&x" });
    expect(loggedUrls()).toEqual([
      "/api/v1/runs?state=running",
      "/api/v1/events?ticket=[redacted]&state=x",
      "/api/v1/runs/R1/data?format=bdf-csv&[redacted]&[redacted]",
    ]);
  });

  it("bounds what one URL writes to the log", async () => {
    const url = `/api/v1/runs?${"state=running&".repeat(500)}x`;
    await h.app.inject({ method: "GET", url, headers: auth("viewer") });
    const [logged] = loggedUrls();
    expect(logged?.length).toBeLessThan(1000);
    expect(logged).toMatch(/\[…\d+ more\]$/);
  });
});

describe("request headers in the log", () => {
  const SECRET = "hdr-secret-0123456789abcdefXYZ";
  it.each([
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "x-client-secret",
    "api-key",
    "x-session-id",
  ])("redacts %s in the debug line of a failed authentication", async (name) => {
    const res = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs",
      headers: { [name]: name === "authorization" ? `Bearer ${SECRET}` : SECRET },
    });
    expect(res.statusCode).toBe(401);
    const failed = h.logs.find((line) => line.includes("authentication failed"));
    expect(failed, "the debug line is still written").toBeDefined();
    expect(JSON.parse(failed as string).headers[name]).toBe("[redacted]");
    expectNotLogged(SECRET);
  });

  it("keeps harmless headers for debugging", async () => {
    await h.app.inject({ method: "GET", url: "/api/v1/runs", headers: { "user-agent": "probe/1.0" } });
    const failed = h.logs.find((line) => line.includes("authentication failed"));
    expect(JSON.parse(failed as string).headers["user-agent"]).toBe("probe/1.0");
  });

  it("never logs the configured tokens of a successful request", async () => {
    for (const role of ["viewer", "operator", "admin"] as const) {
      await h.app.inject({ method: "GET", url: "/api/v1/runs", headers: auth(role) });
      expectNotLogged(TOKENS[role]);
    }
  });
});

/** Percent-encodes one character (UTF-8), in upper or lower case hex. */
function pct(char: string, lower: boolean): string {
  const hex = [...Buffer.from(char, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  return lower ? hex : hex.toUpperCase();
}

/** Each character raw (where the URL allows it), `+` for a space, or percent-encoded either case. */
const encoded = (text: string, allowRaw: boolean) =>
  fc
    .array(fc.constantFrom("raw", "upper", "lower", "plus"), {
      minLength: text.length,
      maxLength: text.length,
    })
    .map((how) =>
      [...text]
        .map((c, i) => {
          const mode = how[i];
          if (c === " " && mode === "plus") return "+";
          if (allowRaw && (mode === "raw" || mode === "plus") && /[A-Za-z0-9._~-]/.test(c)) return c;
          return pct(c, mode === "lower");
        })
        .join(""),
    );

const secretArb = fc
  .array(fc.constantFrom(..."ABCXYZabcxyz0123456789-_.~:/+=&;%#? ".split("")), {
    minLength: 16,
    maxLength: 40,
  })
  .map((chars) => `K7${chars.join("")}q`);

const keyArb = fc.constantFrom(
  "ticket",
  "Ticket",
  "TICKET",
  "token",
  "access_token",
  "api_key",
  "password",
  "state",
  "format",
  "note",
);

const pairArb = fc
  .record({ key: keyArb, secret: secretArb })
  .chain(({ key, secret }) =>
    fc
      .record({ key: encoded(key, true), value: encoded(secret, true) })
      .map((p) => ({ secret, text: `${p.key}=${p.value}`, value: p.value })),
  );

const requestArb = fc.record({
  path: fc.constantFrom("/api/v1/events", "/api/v1/runs", "/api/v1/runs/R1/events", "/api/v1/runs/R1/data"),
  pairs: fc.array(pairArb, { minLength: 1, maxLength: 3 }),
  extra: fc.array(fc.constantFrom("state=running", "format=bdf-csv", "x", "", "a=b"), { maxLength: 3 }),
  separators: fc.array(fc.constantFrom("&", ";", "&&", ";&"), { minLength: 6, maxLength: 6 }),
  lead: fc.constantFrom("?", "?&", ";", "?;"),
  withAuth: fc.boolean(),
});

describe("log redaction under fuzzing", () => {
  it("writes no secret of the query string, in any encoding, to any log line", async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        h.logs.length = 0;
        const parts = [...r.extra, ...r.pairs.map((p) => p.text)];
        const query = parts.map((p, i) => (i === 0 ? p : `${r.separators[i % 6]}${p}`)).join("");
        const url = `${r.path}${r.lead}${query}`;
        // With a token an event stream would open and never end: only the other routes get one.
        const authorised = r.withAuth && !r.path.endsWith("/events");
        await h.app.inject({ method: "GET", url, ...(authorised ? { headers: auth("viewer") } : {}) });
        expect(h.logs.length).toBeGreaterThan(0);
        for (const p of r.pairs) expectNotLogged(p.secret, [p.value]);
      }),
      { numRuns: 300 },
    );
  });

  it("writes no secret header value to any log line", async () => {
    const nameArb = fc.constantFrom(
      "proxy-authorization",
      "x-api-key",
      "cookie",
      "set-cookie",
      "x-token",
      "x-secret-thing",
      "private-key",
      "X-Api-Key",
      "Authorization",
    );
    const valueArb = fc
      .array(fc.constantFrom(..."ABCXYZabcxyz0123456789-_.~:/+=;%".split("")), {
        minLength: 16,
        maxLength: 40,
      })
      .map((chars) => `K7${chars.join("")}q`);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(nameArb, valueArb), {
          minLength: 1,
          maxLength: 4,
          selector: (t) => t[0].toLowerCase(),
        }),
        async (headers) => {
          h.logs.length = 0;
          await h.app.inject({ method: "GET", url: "/api/v1/runs", headers: Object.fromEntries(headers) });
          expect(h.logs.some((line) => line.includes("authentication failed"))).toBe(true);
          for (const [, value] of headers) expectNotLogged(value);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("API tokens at startup", () => {
  it("logs where the tokens came from and how many per role, never the tokens", async () => {
    const bench = await openHttpBench({
      config: { tokenSource: { from: "CELLBENCH_TOKENS", fileTokensReplaced: 2 } },
    });
    try {
      const line = bench.logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith("API tokens"));
      expect(line).toMatchObject({
        tokenSource: "CELLBENCH_TOKENS",
        fileTokensReplaced: 2,
        tokenRoles: { viewer: 1, operator: 1, admin: 1 },
      });
      for (const token of Object.values(TOKENS)) expect(bench.logs.join("")).not.toContain(token);
    } finally {
      await bench.close();
    }
  });
});
