import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { OutageLog } from "../../../src/storage/outage-log.js";

interface Line {
  level: number;
  msg: string;
  spooledPoints?: number;
  downForS?: number;
  retries?: number;
}

function setup() {
  const lines: Line[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line) as Line) });
  let now = 1_000_000;
  let spooled = 0;
  const outage = new OutageLog({
    log,
    url: "http://127.0.0.1:8086",
    spooledPoints: () => spooled,
    wallNow: () => now,
  });
  return {
    outage,
    lines,
    advance(ms: number, points: number) {
      now += ms;
      spooled += points;
    },
  };
}

describe("OutageLog", () => {
  it("warns once when InfluxDB stops answering, retries at debug, and says once when it answers again", () => {
    const { outage, lines, advance } = setup();
    expect(outage.answered()).toBe(false);
    expect(lines).toEqual([]);

    outage.unanswered("connect ECONNREFUSED 127.0.0.1:8086", 250);
    for (let i = 0; i < 20; i++) {
      advance(30_000, 3_000);
      outage.unanswered("connect ECONNREFUSED 127.0.0.1:8086", 30_000);
    }
    expect(outage.down).toBe(true);
    expect(lines.filter((l) => l.level > 20)).toEqual([
      expect.objectContaining({
        level: 40,
        spooledPoints: 0,
        msg: "InfluxDB at http://127.0.0.1:8086 does not answer (connect ECONNREFUSED 127.0.0.1:8086); samples are spooled to the outbox and sent when it does",
      }),
    ]);
    expect(lines.filter((l) => l.level === 20)).toHaveLength(20);

    expect(outage.answered()).toBe(true);
    expect(outage.down).toBe(false);
    expect(lines.at(-1)).toMatchObject({
      level: 30,
      downForS: 600,
      retries: 20,
      spooledPoints: 60_000,
      msg: "InfluxDB at http://127.0.0.1:8086 answers again after 600 s; sending 60000 spooled points",
    });
    expect(outage.answered()).toBe(false);

    // The next outage is news again.
    outage.unanswered("no answer from 127.0.0.1:8086 within 15000 ms", 250);
    expect(lines.at(-1)).toMatchObject({ level: 40 });
    expect(lines.filter((l) => l.level === 40)).toHaveLength(2);
  });
});
