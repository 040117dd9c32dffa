/**
 * Issue 11, finding 9: CELLBENCH_TOKENS entries are split at their first colon only, the variable
 * replaces the file's auth.tokens (as the README says), and no message repeats a token.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, normaliseConfig } from "../../../src/config/load-config.js";

const minimal = { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] };
const withFileTokens = {
  ...minimal,
  auth: {
    tokens: [
      { role: "admin", token: "file-admin-token-0123456789" },
      { role: "viewer", token: "file-viewer-token-0123456789" },
    ],
  },
};

function issuesOf(env: NodeJS.ProcessEnv, raw: unknown = minimal): string[] {
  try {
    normaliseConfig(raw, "bench.yaml", env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("CELLBENCH_TOKENS", () => {
  it("splits each entry at its first colon: the token keeps its own colons", () => {
    const config = normaliseConfig(minimal, "x", {
      CELLBENCH_TOKENS: "operator:abc:def:0123456789abcdef,viewer:urn:x:0123456789abcdef",
    });
    expect(config.tokens).toEqual([
      { role: "operator", token: "abc:def:0123456789abcdef" },
      { role: "viewer", token: "urn:x:0123456789abcdef" },
    ]);
  });

  it("replaces the file's tokens, and records that it did", () => {
    const config = normaliseConfig(withFileTokens, "x", {
      CELLBENCH_TOKENS: "operator:env-operator-token-0123",
    });
    expect(config.tokens).toEqual([{ role: "operator", token: "env-operator-token-0123" }]);
    expect(config.tokenSource).toEqual({ from: "CELLBENCH_TOKENS", fileTokensReplaced: 2 });
  });

  it("leaves the file's tokens when unset or empty", () => {
    for (const env of [{}, { CELLBENCH_TOKENS: "" }]) {
      const config = normaliseConfig(withFileTokens, "x", env);
      expect(config.tokens.map((t) => t.role)).toEqual(["admin", "viewer"]);
      expect(config.tokenSource).toEqual({ from: "file" });
    }
  });

  it("ignores whitespace around entries, and nowhere else", () => {
    const config = normaliseConfig(minimal, "x", {
      CELLBENCH_TOKENS: " operator:0123456789abcdef0123 ,\n\tviewer:fedcba9876543210fedc\n",
    });
    expect(config.tokens).toEqual([
      { role: "operator", token: "0123456789abcdef0123" },
      { role: "viewer", token: "fedcba9876543210fedc" },
    ]);
    expect(issuesOf({ CELLBENCH_TOKENS: "operator: 0123456789abcdef0123" })).toEqual([
      "CELLBENCH_TOKENS: entry 1 of 1: the operator token must be 16 to 512 printable ASCII characters without spaces (it has a space or line break; none may stand around the colon either)",
    ]);
    expect(issuesOf({ CELLBENCH_TOKENS: "operator :0123456789abcdef0123" })).toEqual([
      "CELLBENCH_TOKENS: entry 1 of 1: the role before the first colon must be viewer, operator or admin",
    ]);
  });

  it("refuses empty entries, naming their position", () => {
    expect(
      issuesOf({ CELLBENCH_TOKENS: "operator:0123456789abcdef0123,,viewer:fedcba9876543210fedc" }),
    ).toEqual(["CELLBENCH_TOKENS: entry 2 of 3 is empty; remove the extra comma"]);
    expect(issuesOf({ CELLBENCH_TOKENS: "operator:0123456789abcdef0123," })).toEqual([
      "CELLBENCH_TOKENS: entry 2 of 2 is empty; remove the extra comma",
    ]);
    expect(issuesOf({ CELLBENCH_TOKENS: "  " })).toEqual([
      "CELLBENCH_TOKENS: entry 1 of 1 is empty; remove the extra comma",
    ]);
  });

  it.each([
    ["root:0123456789abcdef0123", "the role before the first colon must be viewer, operator or admin"],
    ["Operator:0123456789abcdef0123", "the role before the first colon must be viewer, operator or admin"],
    ["0123456789abcdef0123", 'has no colon; write "<viewer|operator|admin>:<token>"'],
    [
      "viewer:short-secret",
      "the viewer token must be 16 to 512 printable ASCII characters without spaces (it is shorter than 16)",
    ],
    [
      "viewer:0123456789abcdef-é",
      "the viewer token must be 16 to 512 printable ASCII characters without spaces (it has a character outside printable ASCII)",
    ],
  ])("refuses %j with a message that names the entry, not its text", (entry, why) => {
    const [issue] = issuesOf({ CELLBENCH_TOKENS: `admin:0123456789abcdef0123,${entry}` });
    expect(issue).toBe(`CELLBENCH_TOKENS: entry 2 of 2${why.startsWith("has") ? " " : ": "}${why}`);
  });

  it("never repeats a token, or any part of an entry, in its messages", () => {
    const secretArb = fc.stringMatching(/^[A-Za-z0-9]{6,40}$/).map((s) => `Q9${s}`);
    const entryArb = fc.oneof(
      secretArb,
      secretArb.map((s) => `${s}:${s}`),
      secretArb.map((s) => `operator:${s.slice(0, 10)}`),
      secretArb.map((s) => `viewer:${s} x`),
      secretArb.map((s) => `admin:${s}`),
      fc.constant(""),
    );
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 5 }), (entries) => {
        const value = entries.join(",");
        if (value === "") return;
        const text = issuesOf({ CELLBENCH_TOKENS: value }).join("\n");
        for (const entry of entries)
          for (const part of entry.split(/[: ]/)) if (part.startsWith("Q9")) expect(text).not.toContain(part);
      }),
      { numRuns: 300 },
    );
  });
});
