import { afterEach, describe, expect, it } from "vitest";
import type { DeviceConfig, DriverContext, LinkEvent } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { DriverOptionReader } from "../../../drivers/common/driver-options.js";
import {
  readCyclerTimings,
  type SupervisedCyclerOptions,
  superviseCycler,
} from "../../../drivers/common/supervised-cycler.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";
import { dropLink, FakeBackend, fastPair, levels, RANGES } from "./session-fixtures.js";

const config = (options?: Record<string, unknown>): DeviceConfig => ({
  id: "psb1",
  driver: "ea/psb-scpi",
  transport: "serial:///dev/ttyACM0",
  channels: ["ch1"],
  ...(options ? { options } : {}),
});

const timingsOf = (options?: Record<string, unknown>) =>
  readCyclerTimings(new DriverOptionReader(config(options)));

function badOption(options: Record<string, unknown>): string {
  try {
    timingsOf(options);
  } catch (err) {
    expect((err as { code?: string }).code).toBe("CYCLER_BAD_OPTIONS");
    return (err as Error).message;
  }
  throw new Error(`options ${JSON.stringify(options)} were accepted`);
}

describe("readCyclerTimings", () => {
  it("defaults to 1000 ms replies, 5000 ms connect, 1000 ms retry and no gap", () => {
    expect(timingsOf()).toEqual({ timeoutMs: 1000, connectTimeoutMs: 5000, retryMs: 1000, minGapMs: 0 });
    expect(timingsOf({})).toEqual({ timeoutMs: 1000, connectTimeoutMs: 5000, retryMs: 1000, minGapMs: 0 });
  });

  it("reads each option, and marks all four as known", () => {
    const reader = new DriverOptionReader(
      config({ timeoutMs: 250, connectTimeoutMs: 800.5, retryMs: 50, minGapMs: 10_000 }),
    );
    expect(readCyclerTimings(reader)).toEqual({
      timeoutMs: 250,
      connectTimeoutMs: 800.5,
      retryMs: 50,
      minGapMs: 10_000,
    });
    expect(() => reader.done()).not.toThrow();
    expect(timingsOf({ minGapMs: 0 }).minGapMs).toBe(0);
  });

  it("refuses non-positive times and a gap outside the integers 0..10000, naming the device and option", () => {
    expect(badOption({ timeoutMs: 0 })).toBe(
      'device "psb1" (ea/psb-scpi): options.timeoutMs must be a positive number, got 0',
    );
    expect(badOption({ connectTimeoutMs: -5 })).toBe(
      'device "psb1" (ea/psb-scpi): options.connectTimeoutMs must be a positive number, got -5',
    );
    expect(badOption({ retryMs: "1000" })).toBe(
      'device "psb1" (ea/psb-scpi): options.retryMs must be a positive number, got "1000"',
    );
    expect(badOption({ minGapMs: 10_001 })).toBe(
      'device "psb1" (ea/psb-scpi): options.minGapMs must be an integer in [0, 10000], got 10001',
    );
    expect(badOption({ minGapMs: -1 })).toContain(
      "options.minGapMs must be an integer in [0, 10000], got -1",
    );
    expect(badOption({ minGapMs: 2.5 })).toContain(
      "options.minGapMs must be an integer in [0, 10000], got 2.5",
    );
  });
});

describe("superviseCycler", () => {
  let pair: MemoryPair | undefined;
  let close: (() => void) | undefined;

  afterEach(async () => {
    close?.();
    await pair?.dispose();
    pair = undefined;
    close = undefined;
  });

  function build(overrides: Partial<SupervisedCyclerOptions> = {}, withReport = true) {
    pair = fastPair();
    const clock = new VirtualClock();
    const reported: Array<[string, LinkEvent]> = [];
    const backend = new FakeBackend();
    const initializeCalls: string[] = [];
    const initializeTimes: number[] = [];
    let failReconnects = 0;
    const context: DriverContext = {
      clock,
      chamberOfChannel: () => undefined,
      ...(withReport ? { reportLink: (id: string, event: LinkEvent) => reported.push([id, event]) } : {}),
    };
    const built = superviseCycler({
      deviceId: "psb1",
      channelId: "out1",
      context,
      transport: pair.host,
      timings: { timeoutMs: 1000, connectTimeoutMs: 2000, retryMs: 5, minGapMs: 0 },
      initialize: async (reason) => {
        initializeCalls.push(reason);
        initializeTimes.push(performance.now());
        if (reason === "reconnect" && failReconnects > 0) {
          failReconnects--;
          throw new Error("remote control refused");
        }
        built.channel.outputSwitchedOff();
      },
      backend,
      ranges: () => RANGES,
      ...overrides,
    });
    close = () => {
      built.channel.stopStepping();
      built.session.close();
    };
    return {
      ...built,
      pair,
      clock,
      reported,
      backend,
      initializeCalls,
      initializeTimes,
      failNextReconnects: (n: number) => {
        failReconnects = n;
      },
    };
  }

  it("builds a session and its one channel, named after the device and channel ids", async () => {
    const { session, channel, backend, initializeCalls } = build();
    expect(channel.deviceId).toBe("psb1");
    expect(channel.id).toBe("out1");
    expect(channel.ranges).toBe(RANGES);
    expect(session.state).toBe("idle");
    await session.connect();
    expect(initializeCalls).toEqual(["connect"]);
    expect(channel.isOutputOn).toBe(false);
    await channel.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect(backend.log).toEqual([
      levels({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 }, false),
      "output on",
    ]);
  });

  it("reports every link event to context.reportLink with the device id, and stops the channel at once on a drop", async () => {
    const { session, channel, backend, clock, reported, failNextReconnects } = build();
    await session.connect();
    await channel.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: 1 },
        { tS: 10, currentA: 2 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    expect(channel.steppingProfile).toBe(true);
    failNextReconnects(2);
    const url = pair?.host.url;
    await dropLink(pair as MemoryPair, session);
    expect(channel.steppingProfile).toBe(false);
    expect(channel.isOutputOn).toBeUndefined();
    expect(backend.log.at(-1)).toBe("forget");
    await clock.advanceBy(20_000);
    expect(backend.log.at(-1)).toBe("forget");
    expect(reported).toEqual([
      ["psb1", { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` }],
    ]);
    pair?.plug();
    await eventually(() => session.state === "ready", "the take-over after two refusals");
    expect(reported.slice(1)).toEqual([
      ["psb1", { kind: "unusable", transport: url, reason: "remote control refused" }],
      ["psb1", { kind: "restored", transport: url }],
    ]);
    expect(channel.isOutputOn).toBe(false);
  });

  it("works without context.reportLink", async () => {
    const { session, channel } = build({}, false);
    await session.connect();
    await dropLink(pair as MemoryPair, session);
    expect(channel.isOutputOn).toBeUndefined();
    pair?.plug();
    await eventually(() => session.state === "ready", "the take-over");
  });

  it("bounds connect() by timings.connectTimeoutMs and closes the transport on failure by default", async () => {
    const { session } = build({
      timings: { timeoutMs: 1000, connectTimeoutMs: 50, retryMs: 5, minGapMs: 0 },
    });
    pair?.unplug();
    const t0 = performance.now();
    expect((await rejection(session.connect())).code).toBe("TRANSPORT_OPEN_FAILED");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(pair?.host.state).toBe("closed");
  });

  it("leaves a shared transport open when closeTransportOnFailure is false", async () => {
    const { session } = build({
      closeTransportOnFailure: false,
      timings: { timeoutMs: 1000, connectTimeoutMs: 30, retryMs: 5, minGapMs: 0 },
    });
    pair?.unplug();
    expect((await rejection(session.connect())).code).toBe("TRANSPORT_OPEN_FAILED");
    expect(pair?.host.state).toBe("reconnecting");
  });

  it("spaces re-initialisations by timings.retryMs", async () => {
    const retryMs = 40;
    const { session, initializeCalls, initializeTimes, failNextReconnects } = build({
      timings: { timeoutMs: 1000, connectTimeoutMs: 2000, retryMs, minGapMs: 0 },
    });
    await session.connect();
    failNextReconnects(1);
    await dropLink(pair as MemoryPair, session);
    pair?.plug();
    await eventually(() => session.state === "ready", "the second take-over");
    expect(initializeCalls).toEqual(["connect", "reconnect", "reconnect"]);
    expect((initializeTimes[2] as number) - (initializeTimes[1] as number)).toBeGreaterThanOrEqual(
      retryMs - 2,
    );
  });
});
