import { describe, expect, it } from "vitest";
import { ReplyWaiter } from "../../../protocols/exchange/reply-waiter.js";
import { TransactionQueue } from "../../../protocols/exchange/transaction-queue.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TransactionQueue", () => {
  it("runs one task at a time, in order per owner", async () => {
    const queue = new TransactionQueue();
    const owner = { minGapMs: 0, label: "a" };
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        queue.run(owner, async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(1);
          order.push(i);
          running--;
        }),
      ),
    );
    expect(maxRunning).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("keeps each owner's gap and passes the failure of one task to its caller only", async () => {
    const queue = new TransactionQueue();
    const slow = { minGapMs: 25, label: "slow" };
    const starts: number[] = [];
    const results = await Promise.allSettled([
      queue.run(slow, async () => starts.push(performance.now())),
      queue.run(slow, async () => {
        starts.push(performance.now());
        throw new Error("boom");
      }),
      queue.run(slow, async () => starts.push(performance.now())),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(24);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(24);
  });

  it("counts the line's gap from when the line went quiet, not from when the task settled", async () => {
    const quiet: number[] = [];
    // The reply's last byte came 1 ms into a task that took 100 ms to settle.
    const queue = new TransactionQueue(100, (startedAt) => {
      quiet.push(startedAt + 1);
      return startedAt + 1;
    });
    const owner = { minGapMs: 0, label: "unit 1" };
    const first = queue.run(owner, async () => {
      const started = performance.now();
      await sleep(100);
      return started;
    });
    const second = queue.run(owner, async () => performance.now());
    const [start1, start2] = await Promise.all([first, second]);
    expect(start2 - quiet[0]!).toBeGreaterThanOrEqual(99);
    // Counted from the end of the task it would start 200 ms after the first.
    expect(start2 - start1).toBeLessThan(170);
  });

  it("wakes up for a ready owner while another waits out its gap", async () => {
    const queue = new TransactionQueue();
    const slow = { minGapMs: 200, label: "slow" };
    const fast = { minGapMs: 0, label: "fast" };
    await queue.run(slow, async () => undefined);
    const slowSecond = queue.run(slow, async () => performance.now());
    await sleep(5);
    const started = performance.now();
    const fastDone = await queue.run(fast, async () => performance.now());
    expect(fastDone - started).toBeLessThan(100);
    expect(await slowSecond).toBeGreaterThan(fastDone);
  });

  it("rejects tasks that have not started", async () => {
    const queue = new TransactionQueue();
    const owner = { minGapMs: 0, label: "a" };
    const first = queue.run(owner, () => sleep(20));
    const second = queue.run(owner, async () => "ran").catch((err: unknown) => err);
    queue.rejectWaiting(new Error("closed"));
    await first;
    expect(await second).toMatchObject({ message: "closed" });
  });
});

describe("ReplyWaiter", () => {
  it("settles with the first accepted item and refuses items nobody waits for", async () => {
    const waiter = new ReplyWaiter<string>();
    expect(waiter.offer("early")).toBe(false);
    const reply = waiter.wait({
      timeoutMs: 1000,
      timeoutError: () => new Error("t"),
      accept: (s) => s.startsWith("ok"),
    });
    expect(waiter.offer("noise")).toBe(false);
    expect(waiter.offer("ok 1")).toBe(true);
    expect(await reply).toBe("ok 1");
    expect(waiter.offer("ok 2")).toBe(false);
  });

  it("times out with the error it was given, after which items are refused", async () => {
    const waiter = new ReplyWaiter<string>();
    const reply = waiter.wait({
      timeoutMs: 10,
      timeoutError: () => new Error("Timeout after 10 ms waiting for X"),
    });
    await expect(reply).rejects.toThrow("Timeout after 10 ms waiting for X");
    expect(waiter.waiting).toBe(false);
    expect(waiter.offer("late")).toBe(false);
  });
});
