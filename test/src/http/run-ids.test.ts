import { describe, expect, it } from "vitest";
import { RUN_ID_PATTERN, RunIdGenerator } from "../../../src/http/run-ids.js";
import { RunStore } from "../../../src/run/run-store.js";

const DAY = Date.UTC(2026, 10, 25, 12);

describe("RunIdGenerator", () => {
  it("numbers runs R<yyyymmdd>-<seq> per UTC day, continuing after the store's last", () => {
    const store = new RunStore(":memory:");
    store.save({
      id: "R20261125-0007",
      channel: "ch1",
      cell: {
        id: "c",
        chemistry: "li-ion-nmc",
        capacityAh: 1,
        voltageV: [2.5, 4.2],
        currentA: [-1, 1],
        temperatureC: [0, 45],
      },
      profile: { name: "p", steps: [] },
      profileId: null,
      state: "completed",
      reason: "",
      cleared: false,
      createdMs: DAY,
      history: [],
    });
    const ids = new RunIdGenerator(
      (prefix) => store.lastSequence(prefix),
      () => [],
    );
    expect(ids.next(DAY)).toBe("R20261125-0008");
    expect(ids.next(DAY)).toBe("R20261125-0009");
    expect(ids.next(DAY + 86_400_000)).toBe("R20261126-0001");
    expect(ids.next(DAY)).toMatch(new RegExp(RUN_ID_PATTERN));
    store.close();
  });

  it("never reuses an id it or the run manager knows, past four digits too", () => {
    const known = ["R20261125-9999", "R20261125-10000"];
    const ids = new RunIdGenerator(
      () => 9999,
      () => known,
    );
    expect(ids.next(DAY)).toBe("R20261125-10001");
  });
});
