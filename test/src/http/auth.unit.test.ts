import { describe, expect, it } from "vitest";
import { roleAtLeast, TokenAuthenticator } from "../../../src/http/auth.js";

const tokens = [
  { role: "viewer" as const, token: "v".repeat(20) },
  { role: "operator" as const, token: "o".repeat(20) },
];

describe("TokenAuthenticator", () => {
  it("resolves bearer tokens to roles and a short id that is not the token", () => {
    const auth = new TokenAuthenticator(tokens);
    const viewer = auth.authenticate(`Bearer ${"v".repeat(20)}`);
    expect(viewer.role).toBe("viewer");
    expect(viewer.id).toMatch(/^[0-9a-f]{16}$/);
    expect(viewer.id).not.toContain("v");
    expect(auth.authenticate(`bearer ${"o".repeat(20)}`).role).toBe("operator");
  });

  it("refuses missing, malformed and unknown tokens with UNAUTHORIZED, never echoing them", () => {
    const auth = new TokenAuthenticator(tokens);
    for (const header of [
      undefined,
      "",
      "Basic dXNlcjpwYXNz",
      "Bearer",
      `Bearer ${"x".repeat(20)}`,
      `Bearer ${"v".repeat(19)}`,
    ]) {
      let error: unknown;
      try {
        auth.authenticate(header);
      } catch (err) {
        error = err;
      }
      expect((error as { code?: string }).code, String(header)).toBe("UNAUTHORIZED");
      expect((error as Error).message).not.toContain("xxxxxxxx");
    }
  });

  it("orders roles viewer < operator < admin", () => {
    expect(roleAtLeast("viewer", "operator")).toBe(false);
    expect(roleAtLeast("operator", "operator")).toBe(true);
    expect(roleAtLeast("admin", "operator")).toBe(true);
    const auth = new TokenAuthenticator(tokens);
    expect(() => auth.authorize({ role: "viewer", id: "x" }, "operator")).toThrow(/needs operator/);
  });

  it("explains how to configure tokens when there are none, and admits anonymous requests only when told", () => {
    expect(() => new TokenAuthenticator([]).authenticate(undefined)).toThrow(/CELLBENCH_TOKENS/);
    expect(new TokenAuthenticator([], "viewer").authenticate(undefined).role).toBe("viewer");
  });

  it("tells anonymous clients apart by address, and asks them for a token (401) where a viewer is not enough", () => {
    const auth = new TokenAuthenticator([], "viewer");
    const a = auth.authenticate(undefined, "10.0.0.1");
    expect(a).toEqual({ role: "viewer", id: "anonymous@10.0.0.1", anonymous: true });
    expect(auth.authenticate("", "10.0.0.2").id).not.toBe(a.id);
    expect(() => auth.authorize(a, "viewer")).not.toThrow();
    expect(() => auth.authorize(a, "operator")).toThrow(
      expect.objectContaining({ code: "UNAUTHORIZED", message: expect.stringMatching(/may only read/) }),
    );
    expect(() => auth.authorize({ role: "viewer", id: "x" }, "operator")).toThrow(
      expect.objectContaining({ code: "FORBIDDEN" }),
    );
  });
});
