import { describe, expect, it } from "vitest";
import { DriveCycleCsvError, loopTrace, parseDriveCycleCsv } from "../../../src/profile/drive-cycle-csv.js";

describe("parseDriveCycleCsv", () => {
  it("reads a headerless file as current in A (PyBaMM's US06.csv style)", () => {
    expect(parseDriveCycleCsv("# comment\n0,0.5\n1,-0.25\r\n2.5,1e-1\n")).toEqual({
      unit: "A",
      points: [
        { tS: 0, value: 0.5 },
        { tS: 1, value: -0.25 },
        { tS: 2.5, value: 0.1 },
      ],
    });
  });

  it("takes the unit and scale from the header", () => {
    expect(parseDriveCycleCsv("time_s,current_A\n0,1\n1,2\n").unit).toBe("A");
    expect(parseDriveCycleCsv("time [s],current [mA]\n0,500\n1,250\n").points).toEqual([
      { tS: 0, value: 0.5 },
      { tS: 1, value: 0.25 },
    ]);
    expect(parseDriveCycleCsv("t (ms); power (W)\n0; 2\n500; 3\n")).toEqual({
      unit: "W",
      points: [
        { tS: 0, value: 2 },
        { tS: 0.5, value: 3 },
      ],
    });
    expect(parseDriveCycleCsv("time\tpower\n0\t1\n1\t2\n").unit).toBe("W");
    expect(parseDriveCycleCsv("\uFEFFtime_s,power_mW\n0,1500\n1,0\n").points[0]).toEqual({
      tS: 0,
      value: 1.5,
    });
  });

  const bad: [string, string][] = [
    [
      "time_s,speed_kmh\n0,1\n1,2\n",
      'line 1: the value column "speed_kmh" names neither a current (A, mA) nor a power (W, mW); write e.g. "current_A" or "power_W"',
    ],
    [
      "time_h,current_A\n0,1\n1,2\n",
      'line 1: the time column "time_h" is in "h"; use seconds (time_s) or ms',
    ],
    [
      "time,current,voltage\n0,1,3\n",
      'line 1: the header "time,current,voltage" has 3 columns; write two, e.g. "time_s,current_A"',
    ],
    ["0,1\n1,2,3\n", "line 2: expected 2 columns (time, value), found 3"],
    [
      "0,1\n1,abc\n",
      'line 2: "1,abc" is not two numbers; rows are "time_s,value" (a header is allowed only before the first row)',
    ],
    ["5,1\n6,2\n", "line 1: the first time is 5; a drive cycle starts at time 0"],
    ["0,1\n2,2\n2,3\n", "line 3: time 2 is not after 2; times must increase"],
    // 1001 ms is 1.001 s, and 1.001 / 0.001 is 1001.0000000000001: the message rounds it back.
    ["time_ms,current_A\n0,1\n1001,2\n1001,3\n", "line 4: time 1001 is not after 1001; times must increase"],
    ["time_s,current_A\n0,1\n", "has 1 data rows; a drive cycle needs at least 2 (time, value) rows"],
  ];
  it.each(bad)("rejects %j", (text, message) => {
    expect(() => parseDriveCycleCsv(text)).toThrow(DriveCycleCsvError);
    expect(() => parseDriveCycleCsv(text)).toThrow(message);
  });
});

describe("loopTrace", () => {
  const trace = [
    { tS: 0, value: 1 },
    { tS: 2, value: 2 },
    { tS: 3, value: 0 },
  ];

  it("keeps a trace that already covers the duration", () => {
    expect(loopTrace(trace, 2, 100)).toBe(trace);
  });

  it("repeats the trace every (length + last interval) seconds up to the duration", () => {
    expect(loopTrace(trace, 9, 100)).toEqual([
      { tS: 0, value: 1 },
      { tS: 2, value: 2 },
      { tS: 3, value: 0 },
      { tS: 4, value: 1 },
      { tS: 6, value: 2 },
      { tS: 7, value: 0 },
      { tS: 8, value: 1 },
    ]);
  });

  it("refuses to grow past the point budget", () => {
    expect(() => loopTrace(trace, 1000, 10)).toThrow(
      'looping it for 1000 s would need more than the 10 points a profile may still hold; shorten the "for" duration',
    );
  });
});
