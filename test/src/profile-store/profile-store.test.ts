import { describe, expect, it } from "vitest";
import { ProfileStore, profileIdOf } from "../../../src/profile-store/profile-store.js";

const entry = (source: string) => ({ name: "p", steps: 2, format: "yaml" as const, source });

describe("ProfileStore", () => {
  it("stores by content: the same source twice is one profile with one id", () => {
    const store = new ProfileStore(":memory:");
    const a = store.save(entry("name: p\nsteps: [Rest for 1 s]\n"), 1000);
    const b = store.save(entry("name: p\nsteps: [Rest for 1 s]\n"), 2000);
    expect(a?.created).toBe(true);
    expect(b).toEqual({ profile: a?.profile, created: false });
    expect(a?.profile.id).toBe(profileIdOf("name: p\nsteps: [Rest for 1 s]\n"));
    expect(a?.profile.id).toMatch(/^P[0-9a-f]{12}$/);
    expect(store.get(a?.profile.id ?? "")?.source).toBe("name: p\nsteps: [Rest for 1 s]\n");
    expect(store.get("P000000000000")).toBeUndefined();
    store.close();
  });

  it("lists newest first without sources and refuses more than its capacity", () => {
    const store = new ProfileStore(":memory:", { maxProfiles: 2 });
    store.save(entry("a"), 1);
    store.save(entry("b"), 2);
    expect(store.list().map((p) => p.createdMs)).toEqual([2, 1]);
    expect(store.list()[0]).not.toHaveProperty("source");
    expect(store.save(entry("c"), 3)).toBeUndefined();
    expect(store.save(entry("a"), 4)?.created).toBe(false);
    store.close();
  });
});
