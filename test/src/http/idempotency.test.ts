import { describe, expect, it } from "vitest";
import { fingerprintOf, IdempotencyCache } from "../../../src/http/idempotency.js";

describe("IdempotencyCache", () => {
  it("runs a request once per key and replays its response", async () => {
    const cache = new IdempotencyCache();
    let calls = 0;
    const handle = async () => ({ status: 201, body: { n: ++calls }, headers: { location: "/x" } });
    const first = await cache.run("client", "k1", { a: 1, b: 2 }, handle);
    const again = await cache.run("client", "k1", { b: 2, a: 1 }, handle);
    expect(first).toEqual({ status: 201, body: { n: 1 }, headers: { location: "/x" }, replayed: false });
    expect(again).toEqual({ ...first, replayed: true });
    expect(calls).toBe(1);
  });

  it("refuses the same key with another body, and keeps clients apart", async () => {
    const cache = new IdempotencyCache();
    const handle = async () => ({ status: 201, body: {}, headers: {} });
    await cache.run("a", "k", { x: 1 }, handle);
    await expect(cache.run("a", "k", { x: 2 }, handle)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    await expect(cache.run("b", "k", { x: 2 }, handle)).resolves.toMatchObject({ replayed: false });
  });

  it("makes a concurrent retry wait for the first response", async () => {
    const cache = new IdempotencyCache();
    let release: () => void = () => undefined;
    let calls = 0;
    const handle = () =>
      new Promise<{ status: number; body: unknown; headers: Record<string, string> }>((resolve) => {
        calls++;
        release = () => resolve({ status: 201, body: { id: 7 }, headers: {} });
      });
    const a = cache.run("c", "k", {}, handle);
    const b = cache.run("c", "k", {}, handle);
    release();
    expect((await a).body).toEqual({ id: 7 });
    expect(await b).toMatchObject({ body: { id: 7 }, replayed: true });
    expect(calls).toBe(1);
  });

  it("forgets server errors, expired keys and the oldest keys beyond its bound", async () => {
    let now = 0;
    const cache = new IdempotencyCache({ ttlMs: 1000, maxEntries: 2, now: () => now });
    let calls = 0;
    const fail = async () => ({ status: 500, body: {}, headers: {} });
    const ok = async () => ({ status: 201, body: { n: ++calls }, headers: {} });
    await cache.run("c", "k", {}, fail);
    expect((await cache.run("c", "k", {}, ok)).replayed).toBe(false);
    now = 2000;
    expect((await cache.run("c", "k", {}, ok)).body).toEqual({ n: 2 });
    await cache.run("c", "k2", {}, ok);
    await cache.run("c", "k3", {}, ok);
    expect(cache.size).toBe(2);
  });

  it("fingerprints JSON independently of key order", () => {
    expect(fingerprintOf({ a: [1, { c: 3, b: 2 }] })).toBe(fingerprintOf({ a: [1, { b: 2, c: 3 }] }));
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: "1" }));
  });
});
