import { afterEach, describe, expect, it } from "vitest";
import type { CyclerRanges, CyclerSetpoint } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { InstrumentSession } from "../../../drivers/common/instrument-session.js";
import { SupervisedChannel } from "../../../drivers/common/supervised-channel.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";
import { deferred, dropLink, FakeBackend, fastPair, levels, RANGES } from "./session-fixtures.js";

interface Rig {
  pair: MemoryPair;
  session: InstrumentSession;
  channel: SupervisedChannel;
  backend: FakeBackend;
  clock: VirtualClock;
}

const rigs: Rig[] = [];

/** A channel on a session over a memory pair, wired as the drivers wire it; not yet connected. */
function rig(ranges: () => CyclerRanges = () => RANGES): Rig {
  const pair = fastPair();
  const backend = new FakeBackend();
  const clock = new VirtualClock({ startMs: 5000 });
  const session: InstrumentSession = new InstrumentSession({
    deviceId: "psb1",
    transport: pair.host,
    // The drivers' take-over ends with the output off.
    initialize: async () => channel.outputSwitchedOff(),
    onLinkDown: () => channel.linkLost(),
    connectTimeoutMs: 2000,
    retryMs: 10,
  });
  const channel = new SupervisedChannel("psb1", "ch1", session, backend, clock, ranges);
  const r = { pair, session, channel, backend, clock };
  rigs.push(r);
  return r;
}

async function connected(ranges?: () => CyclerRanges): Promise<Rig> {
  const r = rig(ranges);
  await r.session.connect();
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.channel.stopStepping();
    r.session.close();
    await r.pair.dispose();
  }
});

const cc = (currentA: number): Extract<CyclerSetpoint, { mode: "cc" }> => ({
  mode: "cc",
  currentA,
  minV: 2.5,
  maxV: 4.2,
});

const profile = (points: Array<[number, number]>): CyclerSetpoint => ({
  mode: "profile",
  points: points.map(([tS, currentA]) => ({ tS, currentA })),
  minV: 2.5,
  maxV: 4.2,
});

describe("SupervisedChannel.apply()", () => {
  it("refuses before connect() with CYCLER_NOT_CONNECTED; nothing is sent", async () => {
    const { channel, backend } = rig();
    expect((await rejection(channel.apply(cc(1)))).code).toBe("CYCLER_NOT_CONNECTED");
    expect((await rejection(channel.toSafeState())).code).toBe("CYCLER_NOT_CONNECTED");
    expect((await rejection(channel.read())).code).toBe("CYCLER_NOT_CONNECTED");
    expect(backend.log).toEqual([]);
    expect(channel.isOutputOn).toBeUndefined();
  });

  it("validates against the channel's current ranges before anything is sent (SETPOINT_OUT_OF_RANGE)", async () => {
    let ranges: CyclerRanges = RANGES;
    const { channel, backend } = await connected(() => ranges);
    const tooHigh = await rejection(channel.apply(cc(11)));
    expect(tooHigh.code).toBe("SETPOINT_OUT_OF_RANGE");
    expect(tooHigh.message).toBe("psb1/ch1: currentA 11 A is outside [-10, 10] A");
    const badPoint = await rejection(
      channel.apply(
        profile([
          [0, 1],
          [5, -12],
        ]),
      ),
    );
    expect(badPoint.message).toBe("psb1/ch1: points[1].currentA -12 A is outside [-10, 10] A");

    ranges = { ...RANGES, currentA: [-2, 2], modes: ["rest", "cc", "cv"] };
    expect(channel.ranges).toBe(ranges);
    expect((await rejection(channel.apply(cc(3)))).message).toBe(
      "psb1/ch1: currentA 3 A is outside [-2, 2] A",
    );
    expect((await rejection(channel.apply({ mode: "cp", powerW: 5, minV: 2.5, maxV: 4.2 }))).message).toBe(
      'psb1/ch1: mode "cp" is not supported; this channel applies rest, cc, cv',
    );
    expect(backend.log).toEqual([]);
    expect(channel.isOutputOn).toBe(false);
  });

  it("writes the settings first, then switches the output on if it was off; later set points only write settings", async () => {
    const { channel, backend } = await connected();
    expect(channel.isOutputOn).toBe(false);
    await channel.apply(cc(1.5));
    expect(backend.log).toEqual([levels(cc(1.5), false), "output on"]);
    expect(channel.isOutputOn).toBe(true);
    await channel.apply({ mode: "cv", voltageV: 4.1, chargeLimitA: 1, dischargeLimitA: 2 });
    await channel.apply({ mode: "cccv", currentA: 1, voltageV: 4.2 });
    expect(backend.log).toEqual([
      levels(cc(1.5), false),
      "output on",
      levels({ mode: "cv", voltageV: 4.1, chargeLimitA: 1, dischargeLimitA: 2 }, true),
      levels({ mode: "cccv", currentA: 1, voltageV: 4.2 }, true),
    ]);
  });

  it("switches the output on again when the backend had to switch it off (e.g. to change function)", async () => {
    const { channel, backend } = await connected();
    await channel.apply(cc(1));
    backend.switchesOutputOff = true;
    await channel.apply({ mode: "cp", powerW: -10, minV: 2.5, maxV: 4.2 });
    expect(backend.log.slice(2)).toEqual([
      levels({ mode: "cp", powerW: -10, minV: 2.5, maxV: 4.2 }, true),
      "output on",
    ]);
    expect(channel.isOutputOn).toBe(true);
  });

  it("switches the output off and rethrows the error when writing the settings fails", async () => {
    const { channel, backend } = await connected();
    await channel.apply(cc(1));
    const timeout = new Error("SCPI timeout");
    backend.levelsError = timeout;
    expect(await rejection(channel.apply(cc(2)))).toBe(timeout);
    expect(backend.log.slice(2)).toEqual([levels(cc(2), true), "forget", "output off"]);
    expect(channel.isOutputOn).toBe(false);
    // The next set point switches the output on again.
    await channel.apply(cc(2));
    expect(backend.log.slice(5)).toEqual([levels(cc(2), false), "output on"]);
  });

  it("handles a failure to switch the output on like any other failure", async () => {
    const { channel, backend } = await connected();
    const denied = new Error("output locked");
    backend.outputError.on = denied;
    expect(await rejection(channel.apply(cc(1)))).toBe(denied);
    expect(backend.log).toEqual([levels(cc(1), false), "output on", "forget", "output off"]);
    expect(channel.isOutputOn).toBe(false);
  });

  it("leaves the output state unknown when switching off after a failure fails too, and rethrows the first error", async () => {
    const { channel, backend } = await connected();
    await channel.apply(cc(1));
    const first = new Error("bad reply");
    backend.levelsError = first;
    backend.outputError.off = new Error("no reply to OUTP OFF");
    expect(await rejection(channel.apply(cc(3)))).toBe(first);
    expect(channel.isOutputOn).toBeUndefined();
    await channel.apply(cc(3));
    expect(backend.log.slice(-2)).toEqual([levels(cc(3), false), "output on"]);
    expect(channel.isOutputOn).toBe(true);
  });
});

describe("SupervisedChannel safe state", () => {
  it("sends `output off` on every rest and toSafeState(), whatever the output was (idempotent)", async () => {
    const { channel, backend } = await connected();
    await channel.toSafeState();
    await channel.apply({ mode: "rest" });
    await channel.apply(cc(1));
    await channel.apply({ mode: "rest" });
    await channel.toSafeState();
    await channel.toSafeState();
    expect(backend.log).toEqual([
      "output off",
      "output off",
      levels(cc(1), false),
      "output on",
      "output off",
      "output off",
      "output off",
    ]);
    expect(channel.isOutputOn).toBe(false);
  });

  it("rethrows a failure to switch off and marks the output unknown; the next set point switches it on", async () => {
    const { channel, backend } = await connected();
    await channel.apply(cc(1));
    const noReply = new Error("no reply to OUTP OFF");
    backend.outputError.off = noReply;
    expect(await rejection(channel.toSafeState())).toBe(noReply);
    expect(channel.isOutputOn).toBeUndefined();
    await channel.apply(cc(2));
    expect(backend.log.slice(2)).toEqual(["output off", levels(cc(2), false), "output on"]);
    expect(channel.isOutputOn).toBe(true);
    await channel.toSafeState();
    expect(channel.isOutputOn).toBe(false);
  });
});

describe("SupervisedChannel.read()", () => {
  it("returns the backend's measurement, without waiting for an exclusive sequence", async () => {
    const { channel, backend, session } = await connected();
    const hold = deferred();
    const held = session.exclusive("hold", () => hold.promise);
    expect(await channel.read()).toEqual({ voltageV: 3.71, currentA: 1.5, temperatureC: Number.NaN });
    expect(backend.log).toEqual(["measure"]);
    hold.resolve();
    await held;
  });
});

describe("SupervisedChannel when the link drops", () => {
  it("stops stepping, forgets settings and marks the output unknown; every call fails fast until the take-over", async () => {
    const { channel, backend, session, pair, clock } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
      ]),
    );
    expect(channel.steppingProfile).toBe(true);
    await dropLink(pair, session);
    expect(channel.steppingProfile).toBe(false);
    expect(channel.isOutputOn).toBeUndefined();
    expect(backend.log).toEqual([levels(cc(1), false), "output on", "forget"]);

    for (const call of [
      channel.apply(cc(1)),
      channel.apply({ mode: "rest" }),
      channel.toSafeState(),
      channel.read(),
    ]) {
      const err = await rejection(call);
      expect(err.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    }
    expect((await rejection(channel.apply(cc(1)))).message).toBe(
      `apply(cc) refused: device "psb1" lost its link (${pair.host.url}); its output state is unknown until ` +
        "the link is back and the driver has switched the output off again (it does so by itself)",
    );
    await clock.advanceBy(20_000);
    expect(backend.log).toEqual([levels(cc(1), false), "output on", "forget"]);

    pair.plug();
    await eventually(() => session.state === "ready", "the take-over after the reconnect");
    // The take-over called outputSwitchedOff(): the next set point switches the output on again.
    expect(channel.isOutputOn).toBe(false);
    await channel.apply(cc(2));
    expect(backend.log.slice(3)).toEqual([levels(cc(2), false), "output on"]);
  });

  it("outputSwitchedOff() marks the output off, so the next set point switches it on", async () => {
    const { channel, backend } = await connected();
    await channel.apply(cc(1));
    channel.outputSwitchedOff();
    expect(channel.isOutputOn).toBe(false);
    await channel.apply(cc(1));
    expect(backend.log.slice(2)).toEqual([levels(cc(1), false), "output on"]);
  });
});

describe("SupervisedChannel profile stepping", () => {
  it("applies point 0 with the set point, then each later point at t0 + tS on the injected clock", async () => {
    const { channel, backend, clock } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
        [30, -1],
      ]),
    );
    expect(backend.log).toEqual([levels(cc(1), false), "output on"]);
    expect(channel.steppingProfile).toBe(true);
    await clock.advanceTo(5000 + 9999);
    expect(backend.log).toHaveLength(2);
    await clock.advanceTo(5000 + 10_000);
    expect(backend.log.slice(2)).toEqual([levels(cc(2), true)]);
    expect(channel.steppingProfile).toBe(true);
    await clock.advanceTo(5000 + 30_000);
    expect(backend.log.slice(2)).toEqual([levels(cc(2), true), levels(cc(-1), true)]);
    expect(channel.steppingProfile).toBe(false);
    // The last point holds.
    await clock.advanceBy(60_000);
    expect(backend.log).toHaveLength(4);
    expect(channel.isOutputOn).toBe(true);
  });

  it("does not step a one-point profile", async () => {
    const { channel, backend, clock } = await connected();
    await channel.apply(profile([[0, -3]]));
    expect(channel.steppingProfile).toBe(false);
    await clock.advanceBy(60_000);
    expect(backend.log).toEqual([levels(cc(-3), false), "output on"]);
  });

  it("stops stepping on apply(), rest, toSafeState() and stopStepping()", async () => {
    const twoPoints = profile([
      [0, 1],
      [10, 2],
    ]);
    const stops: Array<(channel: SupervisedChannel) => Promise<void>> = [
      (channel) => channel.apply(cc(4)),
      (channel) => channel.apply({ mode: "rest" }),
      (channel) => channel.toSafeState(),
      async (channel) => channel.stopStepping(),
    ];
    for (const stop of stops) {
      const { channel, backend, clock } = await connected();
      await channel.apply(twoPoints);
      await stop(channel);
      expect(channel.steppingProfile).toBe(false);
      const sent = backend.log.length;
      await clock.advanceBy(20_000);
      expect(backend.log).toHaveLength(sent);
      expect(backend.log).not.toContain(levels(cc(2), true));
    }
  });

  it("a new profile replaces the one stepping, timed from its own start", async () => {
    const { channel, backend, clock } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
      ]),
    );
    await clock.advanceBy(5000);
    await channel.apply(
      profile([
        [0, 3],
        [10, 4],
      ]),
    );
    await clock.advanceBy(5000);
    expect(backend.log.slice(2)).toEqual([levels(cc(3), true)]);
    await clock.advanceBy(5000);
    expect(backend.log.slice(2)).toEqual([levels(cc(3), true), levels(cc(4), true)]);
  });

  it("aborts the profile when a point cannot be applied: output off, read() raises CYCLER_PROFILE_ABORTED until cleared", async () => {
    const { channel, backend, clock } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
        [20, 3],
      ]),
    );
    const timeout = new Error("SCPI timeout on CURR 2");
    backend.levelsError = timeout;
    await clock.advanceBy(10_000);
    expect(backend.log.slice(2)).toEqual([levels(cc(2), true), "forget", "output off"]);
    expect(channel.steppingProfile).toBe(false);
    expect(channel.isOutputOn).toBe(false);
    const err = await rejection(channel.read());
    expect(err.code).toBe("CYCLER_PROFILE_ABORTED");
    expect(err.message).toBe(
      'device "psb1": profile point 1 could not be applied: SCPI timeout on CURR 2; the output was switched ' +
        "off. Apply a set point again to continue",
    );
    expect(err.cause).toBe(timeout);
    expect((await rejection(channel.read())).code).toBe("CYCLER_PROFILE_ABORTED");
    await clock.advanceBy(20_000);
    expect(backend.log).toHaveLength(5);
    expect(backend.log).not.toContain("measure");

    await channel.toSafeState();
    expect(await channel.read()).toMatchObject({ voltageV: 3.71 });
  });

  it("a new set point clears an aborted profile", async () => {
    const { channel, backend, clock } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
      ]),
    );
    backend.levelsError = new Error("bad reply");
    await clock.advanceBy(10_000);
    expect((await rejection(channel.read())).code).toBe("CYCLER_PROFILE_ABORTED");
    await channel.apply(cc(1));
    expect(await channel.read()).toMatchObject({ currentA: 1.5 });
  });

  it("drops a step still waiting behind another sequence when the profile is stopped meanwhile", async () => {
    const { channel, backend, clock, session } = await connected();
    await channel.apply(
      profile([
        [0, 1],
        [10, 2],
      ]),
    );
    const hold = deferred();
    const held = session.exclusive("hold", () => hold.promise);
    await clock.advanceBy(10_000); // point 1 is due and waits for the sequence
    const safe = channel.toSafeState();
    hold.resolve();
    await held;
    await safe;
    expect(backend.log).toEqual([levels(cc(1), false), "output on", "output off"]);
    expect(channel.isOutputOn).toBe(false);
    expect((await channel.read()).voltageV).toBe(3.71);
  });
});
