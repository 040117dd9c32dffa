import { afterEach, describe, expect, it } from "vitest";
import { TurnGate } from "../../../src/http/turn-gate.js";
import { type HttpBench, openHttpBench } from "../../support/http-bench.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("TurnGate", () => {
  it("lets one caller through per event-loop turn, in arrival order", async () => {
    const gate = new TurnGate();
    const ran: string[] = [];
    for (const name of ["a", "b", "c"]) gate.pass(() => ran.push(name));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(["a"]);
    await nextTurn();
    expect(ran).toEqual(["a", "b"]);
    await nextTurn();
    expect(ran).toEqual(["a", "b", "c"]);
    expect(gate.admitted).toBe(3);
    expect(gate.queued).toBe(0);
  });

  it("admits at most its rate (after a burst of 50 ms worth), the rest in arrival order as the rate allows", async () => {
    const gate = new TurnGate(200);
    const admittedAt: number[] = [];
    const start = performance.now();
    const all = Array.from(
      { length: 40 },
      (_, i) =>
        new Promise<void>((resolve) =>
          gate.pass(() => {
            admittedAt.push(performance.now() - start);
            expect(admittedAt).toHaveLength(i + 1);
            resolve();
          }),
        ),
    );
    await Promise.race([
      Promise.all(all),
      new Promise((_, reject) => setTimeout(() => reject(new Error("not all admitted within 5 s")), 5_000)),
    ]);
    // A slow machine admits later, never sooner: by time t at most the burst (10) plus 200/s · t.
    for (const [i, t] of admittedAt.entries())
      expect(i + 1, `admission ${i + 1} at ${t} ms`).toBeLessThanOrEqual(10 + (200 * t) / 1000 + 1);
    expect(admittedAt.at(-1)).toBeGreaterThanOrEqual(((40 - 10 - 1) * 1000) / 200);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new TurnGate(0)).toThrow(RangeError);
  });
});

describe("the API's handlers and the sampling timers", () => {
  let h: HttpBench | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("a timer that falls due during a request runs before the next waiting request's handler", async () => {
    const order: string[] = [];
    let timerRan: () => void = () => undefined;
    const timer = new Promise<void>((resolve) => {
      timerRan = resolve;
    });
    h = await openHttpBench({
      auto: false,
      routes: (app) =>
        app.get("/busy", async () => {
          if (order.length === 0)
            setTimeout(() => {
              order.push("timer");
              timerRan();
            }, 1);
          order.push("handler");
          spin(5);
          return "ok";
        }),
    });
    const app = h.app;
    await Promise.all([1, 2, 3, 4].map(() => app.inject({ url: "/busy" })));
    await timer;
    // Without the gate the other three handlers (15 ms) ran before the timer that fell due in the first.
    expect(order).toEqual(["handler", "timer", "handler", "handler", "handler"]);
  });
});
