import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "../../../src/http/concurrency-limit.js";
import { BusyError } from "../../../src/http/http-errors.js";

/** A task that finishes when the test says so. */
function held() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { task: () => done, finish };
}

describe("ConcurrencyLimit", () => {
  it("refuses a token beyond its share with 429, and beyond the total and queue with the configured code", async () => {
    const limit = new ConcurrencyLimit({
      what: "dry runs",
      perToken: 2,
      total: 2,
      maxQueued: 1,
      totalCode: "DRY_RUN_BUSY",
    });
    const a = held();
    const running = [limit.run("A", a.task), limit.run("B", a.task)];
    const queued = limit.run("B", a.task);
    const perToken = limit.run("B", a.task);
    await expect(perToken).rejects.toBeInstanceOf(BusyError);
    await expect(perToken).rejects.toMatchObject({ code: "TOO_MANY_CONCURRENT", retryAfterS: 5 });
    await expect(limit.run("C", a.task)).rejects.toMatchObject({
      code: "DRY_RUN_BUSY",
      message: expect.stringContaining("maximum of 2 dry runs at once, with 1 waiting"),
    });
    a.finish();
    await Promise.all([...running, queued]);
    expect(limit.inUse()).toBe(0);
    expect(limit.inUse("B")).toBe(0);
  });

  it("hands a freed slot to the first waiter, and a release given twice frees one slot", async () => {
    const limit = new ConcurrencyLimit({ what: "exports", perToken: 5, total: 1, maxQueued: 2 });
    const release = limit.acquire("A");
    const order: string[] = [];
    const first = limit.run("B", async () => void order.push("B"));
    const second = limit.run("C", async () => void order.push("C"));
    await expect(limit.run("D", async () => undefined)).rejects.toMatchObject({ code: "SERVER_BUSY" });
    release();
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["B", "C"]);
    expect(limit.inUse()).toBe(0);
  });
});
