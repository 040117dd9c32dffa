/**
 * Export limits at the route (issue 11, finding 7): per token 429 and in total 503, each with
 * Retry-After; a slot comes back when the client goes away, and the export is aborted then. The
 * storage is a stand-in whose export never ends unless aborted.
 */
import { afterEach, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, TOKENS } from "../../support/http-bench.js";
import { eventually } from "../../support/wait.js";

let h: HttpBench | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it("refuses a token's third export (429) and any beyond the total (503), and frees a slot when its client leaves", async () => {
  const signals: AbortSignal[] = [];
  let pulled = 0;
  h = await openHttpBench({
    http: { exports: { perToken: 2, total: 3 } },
    storage: {
      async *exportRunCsv(options: { signal?: AbortSignal }) {
        const signal = options.signal as AbortSignal;
        signals.push(signal);
        yield "Test Time / s\n";
        while (!signal.aborted) {
          pulled++;
          yield `${"1\n".repeat(32 * 1024)}`;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      },
    },
  });
  await h.app.listen({ host: "127.0.0.1", port: 0 });
  const address = h.app.server.address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  const run = await fetch(`${base}/api/v1/runs`, {
    method: "POST",
    headers: { ...auth("operator"), "content-type": "application/json" },
    body: JSON.stringify({
      channel: "ch1",
      cell: NMC_CELL_BODY,
      profile: { name: "exported", steps: ["Charge at 0.1C for 1 h"] },
    }),
  });
  expect(run.status).toBe(201);
  const id = ((await run.json()) as { id: string }).id;
  const exportAs = (token: string, signal?: AbortSignal) =>
    fetch(`${base}/api/v1/runs/${id}/data`, {
      headers: { authorization: `Bearer ${token}` },
      ...(signal ? { signal } : {}),
    });

  const aborts = [new AbortController(), new AbortController(), new AbortController()];
  const first = await exportAs(TOKENS.viewer, aborts[0]?.signal);
  const second = await exportAs(TOKENS.viewer, aborts[1]?.signal);
  expect([first.status, second.status]).toEqual([200, 200]);
  const third = await exportAs(TOKENS.viewer);
  expect(third.status).toBe(429);
  expect(third.headers.get("retry-after")).toBe("10");
  expect(await third.json()).toMatchObject({
    code: "TOO_MANY_CONCURRENT",
    detail: expect.stringMatching(/2 exports/),
  });

  const other = await exportAs(TOKENS.operator, aborts[2]?.signal);
  expect(other.status).toBe(200);
  const full = await exportAs(TOKENS.admin);
  expect(full.status).toBe(503);
  expect(full.headers.get("retry-after")).toBe("10");
  expect(await full.json()).toMatchObject({
    code: "SERVER_BUSY",
    detail: expect.stringMatching(/3 exports/),
  });

  // Nobody reads: the exports stop being pulled once the socket and a small read-ahead are full.
  // (A busy host may take a while to fill them: wait until no export has been pulled for 300 ms.)
  let seen = -1;
  await eventually(
    async () => {
      seen = pulled;
      await new Promise((resolve) => setTimeout(resolve, 300));
      return pulled === seen;
    },
    "the exports to stop being pulled",
    15_000,
  );
  expect(pulled * 64 * 1024).toBeLessThan(3 * 32 * 1024 * 1024);

  // The first client leaves: its export is aborted and its slot is free again.
  aborts[0]?.abort();
  await eventually(() => signals[0]?.aborted === true, "the export of the client that left aborted");
  let again: Response | undefined;
  await eventually(async () => {
    again = await exportAs(TOKENS.viewer);
    if (again.status !== 200) await again.body?.cancel();
    return again.status === 200;
  }, "a slot for the viewer again");
  await again?.body?.cancel();
  for (const a of aborts) a.abort();
});
