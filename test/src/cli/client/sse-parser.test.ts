import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { duration, fixed, progressBar, table } from "../../../../src/cli/client/format.js";
import { SseParser } from "../../../../src/cli/client/sse-parser.js";

const STREAM =
  'retry: 2000\n\n: heartbeat\n\nid: 1\nevent: sample\ndata: {"v":3.7}\n\nevent: snapshot\ndata: line one\ndata: line two\n\nid: 7\r\nevent: state\r\ndata: {"state":"completed"}\r\n\r\n';

describe("SseParser", () => {
  it("parses events, ids, multi-line data and retry; drops comments", () => {
    const parser = new SseParser();
    expect(parser.push(STREAM)).toEqual([
      { id: "1", event: "sample", data: '{"v":3.7}' },
      { id: "1", event: "snapshot", data: "line one\nline two" },
      { id: "7", event: "state", data: '{"state":"completed"}' },
    ]);
    expect(parser.retryMs).toBe(2000);
    expect(parser.lastEventId).toBe("7");
  });

  it("gives the same events however the text is split into chunks", () => {
    const whole = new SseParser().push(STREAM);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const got = [];
        let from = 0;
        for (const at of [...points, STREAM.length]) {
          got.push(...parser.push(STREAM.slice(from, at)));
          from = at;
        }
        expect(got).toEqual(whole);
      }),
    );
  });
});

describe("formatting", () => {
  it("draws progress bars, durations, numbers and tables", () => {
    expect(progressBar(0.5, 10)).toBe("[#####-----]  50.0 %");
    expect(progressBar(1.7, 4)).toBe("[####] 100.0 %");
    expect(progressBar(null, 4)).toBe("[????]    ? %");
    expect(duration(3725)).toBe("1 h 2 min");
    expect(duration(42)).toBe("42 s");
    expect(duration(null)).toBe("-");
    expect(fixed(1.23456, 2)).toBe("1.23");
    expect(fixed(Number.NaN, 2)).toBe("-");
    expect(table(["A", "BB"], [["xyz", "1"]])).toEqual(["A    BB", "xyz  1"]);
  });
});
