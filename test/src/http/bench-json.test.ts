import { FormatRegistry } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { BenchJson } from "../../../src/http/bench-json.js";
import { BenchView } from "../../../src/http/schemas.js";
import { benchView } from "../../../src/http/views.js";
import type { HttpBench } from "../../support/http-bench.js";
import { auth, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

let h: HttpBench | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PROFILE = { name: "rest", steps: ["Rest for 1 hour"] };
const noCell = () => undefined;
const getBench = (headers: Record<string, string> = auth("viewer")) =>
  (h as HttpBench).app.inject({ method: "GET", url: "/api/v1/bench", headers });

describe("BenchJson", () => {
  it("is the bench view, byte for byte, and fits its schema", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const res = await getBench();
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.body).toBe(JSON.stringify(benchView(h.bench, noCell)));
    if (!FormatRegistry.Has("date-time"))
      FormatRegistry.Set("date-time", (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v));
    expect([...Value.Errors(BenchView, res.json())]).toEqual([]);
  });

  it("a request after a new sample, a run or a later time sees them, whatever came before", async () => {
    h = await openHttpBench({ auto: false });
    const bench = h.bench;
    const json = new BenchJson();
    let started = false;
    // Random walks of time (within and across sampling periods) and a run started midway: every render
    // is what the uncached view says at that moment.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 2500 }), fc.constant(-1)), {
          minLength: 1,
          maxLength: 8,
        }),
        async (steps) => {
          for (const step of steps) {
            if (step < 0 && !started) {
              started = true;
              const res = await (h as HttpBench).app.inject({
                method: "POST",
                url: "/api/v1/runs",
                headers: auth("operator"),
                payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: PROFILE },
              });
              expect(res.statusCode).toBe(201);
            } else if (step >= 0) await (h as HttpBench).clock.advanceBy(step);
            expect(json.render(bench, noCell)).toBe(JSON.stringify(benchView(bench, noCell)));
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(started).toBe(true);
    const text = JSON.parse(json.render(bench, noCell));
    expect(text.channels[0].run.state).toBe("running");
    expect(text.channels[0].last_sample.voltage_v).toBe(bench.channel("ch1").latest?.voltageV);
  });

  it("builds a channel's text once per change, not once per request", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    const json = new BenchJson();
    json.render(h.bench, noCell);
    // The channel's head (id … ranges) and its sample.
    expect(json.channelsBuilt).toBe(2);
    await h.clock.advanceBy(10);
    const within = JSON.parse(json.render(h.bench, noCell));
    expect(json.channelsBuilt).toBe(2);
    expect(within.channels[0].last_sample.age_s).toBeGreaterThan(0);
    await h.clock.advanceBy(1000);
    json.render(h.bench, noCell);
    expect(json.channelsBuilt).toBe(3);
    json.render(h.bench, () => "NMC-0042");
    expect(json.channelsBuilt).toBe(4);
    expect(JSON.parse(json.render(h.bench, () => "NMC-0042")).channels[0].cell).toBe("NMC-0042");
    expect(json.channelsBuilt).toBe(4);
  });

  it("a request without a valid viewer token gets no bench view, even with the text built", async () => {
    h = await openHttpBench({ auto: false });
    await h.clock.advanceBy(1000);
    expect((await getBench()).statusCode).toBe(200);
    const refused: Record<string, string>[] = [{}, { authorization: "Bearer not-a-token-of-this-bench" }];
    for (const headers of refused) {
      const res = await getBench(headers);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain("channels");
    }
  });
});
