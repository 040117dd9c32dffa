import { afterEach, describe, expect, it } from "vitest";
import { ChamberSetpointRangeError } from "../../../drivers/common/chamber-errors.js";
import { assertSetpointInRange, requireReady } from "../../../drivers/common/chamber-guards.js";
import { ChamberSession } from "../../../drivers/common/chamber-session.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { createMemoryPair } from "../../../protocols/index.js";
import { eventually } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Returns what `fn` throws; fails when it returns. */
function thrown(fn: () => void): CellbenchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CellbenchError) return err;
    throw err;
  }
  throw new Error("expected a CellbenchError, but the call returned");
}

function bench() {
  const pair = createMemoryPair({ reconnect: { initialDelayMs: 5, maxDelayMs: 5 } });
  cleanups.push(() => pair.dispose());
  const session = new ChamberSession("tc1", pair.host, { identify: async () => {}, restore: async () => {} });
  cleanups.push(async () => session.close());
  return { pair, session };
}

describe("requireReady", () => {
  it("refuses with CHAMBER_NOT_CONNECTED when the driver has no session yet", () => {
    const err = thrown(() => requireReady("tc1", undefined, "setSetpoint(40)"));
    expect(err.code).toBe("CHAMBER_NOT_CONNECTED");
    expect(err.message).toBe('chamber "tc1" is not connected; call connect() before setSetpoint(40)');
  });

  it("asks the session: refuses before connect(), passes once ready", async () => {
    const { session: s } = bench();
    expect(thrown(() => requireReady("tc1", s, "read()")).message).toBe(
      'chamber "tc1" is not connected; call connect() before read()',
    );
    await s.connect();
    expect(requireReady("tc1", s, "read()")).toBeUndefined();
  });

  it("passes the session's own refusal through (link down)", async () => {
    const { pair, session: s } = bench();
    await s.connect();
    pair.unplug();
    await eventually(() => s.state === "link-down", "the session to see the drop");
    expect(thrown(() => requireReady("tc1", s, "read()")).code).toBe("CHAMBER_LINK_DOWN");
  });
});

describe("assertSetpointInRange", () => {
  it("accepts set points inside the range, ends included", () => {
    for (const c of [-40, -39.9, 0, 25.5, 180])
      expect(assertSetpointInRange("tc1", c, [-40, 180], "controller limits")).toBeUndefined();
  });

  it.each([
    [-40.1, "-40.1"],
    [180.01, "180.01"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
    [Number.NEGATIVE_INFINITY, "-Infinity"],
  ])(
    "refuses %s °C with SETPOINT_OUT_OF_RANGE, naming the range and where it comes from",
    (celsius, shown) => {
      const err = thrown(() =>
        assertSetpointInRange("tc1", celsius, [-40, 180], "set point limits 602/603 of the controller"),
      );
      expect(err).toBeInstanceOf(ChamberSetpointRangeError);
      expect(err.code).toBe("SETPOINT_OUT_OF_RANGE");
      expect(err.message).toBe(
        `chamber "tc1": set point ${shown} °C is outside [-40, 180] °C (set point limits 602/603 of the controller); nothing was sent`,
      );
      if (!(err instanceof ChamberSetpointRangeError)) throw err;
      expect(err.celsius).toBe(celsius);
      expect(err.rangeC).toEqual([-40, 180]);
    },
  );
});
