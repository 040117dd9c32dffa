import { describe, expect, it } from "vitest";
import { parseProfile } from "../../../src/profile/document.js";
import { shortestPeriodS } from "../../../src/work/profile-tasks.js";

describe("the dry run's sample period", () => {
  it("is the shortest step period, also of steps written with loop variables", () => {
    const profile = parseProfile(
      `
name: pulses
steps:
  - Rest for 1 minute (1 s period)
  - sweep: { c: [1C, 2C] }
    steps:
      - Discharge at {c} for 10 seconds (100 ms period)
`,
      { sourceName: "test" },
    );
    expect(shortestPeriodS(profile.steps)).toBe(0.1);
    expect(
      shortestPeriodS(parseProfile("name: p\nsteps: [Rest for 1 minute]\n", { sourceName: "t" }).steps),
    ).toBe(undefined);
  });
});
