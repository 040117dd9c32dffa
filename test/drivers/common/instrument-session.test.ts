import { afterEach, describe, expect, it } from "vitest";
import { type LinkEvent, UNUSABLE_AFTER_FAILURES } from "../../../drivers/capabilities.js";
import {
  InstrumentSession,
  type InstrumentSessionOptions,
  type LinkState,
} from "../../../drivers/common/instrument-session.js";
import type { MemoryPair } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";
import { deferred, dropLink, fastPair, sleep } from "./session-fixtures.js";

type Reason = "connect" | "reconnect";

interface Harness {
  pair: MemoryPair;
  url: string;
  session: InstrumentSession;
  /** Every initialize() call, with its reason and when it started (performance.now()). */
  calls: Array<{ reason: Reason; atMs: number; signal: AbortSignal }>;
  /** Every link event, with the number of "reconnect" calls made when it arrived. */
  events: Array<LinkEvent & { afterReconnectCalls: number }>;
  states: LinkState[];
  /** onLinkDown / onReinitialized / onLinkEvent, in the order they ran. */
  log: string[];
  /** What initialize() does; `n` counts calls with the same reason, from 1. Tests replace it. */
  initialize(reason: Reason, n: number): Promise<void>;
}

const harnesses: Harness[] = [];

function harness(options: Partial<Omit<InstrumentSessionOptions, "initialize" | "transport">> = {}): Harness {
  const pair = fastPair();
  const calls: Harness["calls"] = [];
  const events: Harness["events"] = [];
  const states: LinkState[] = [];
  const log: string[] = [];
  const reconnects = () => calls.filter((c) => c.reason === "reconnect").length;
  const session = new InstrumentSession({
    deviceId: "psb1",
    transport: pair.host,
    initialize: (reason, signal) => {
      calls.push({ reason, atMs: performance.now(), signal });
      return h.initialize(reason, calls.filter((c) => c.reason === reason).length);
    },
    onLinkDown: () => log.push(`link down (state ${session.state})`),
    onReinitialized: () => log.push(`reinitialized (state ${session.state})`),
    onLinkEvent: (event) => {
      log.push(`event ${event.kind}`);
      events.push({ ...event, afterReconnectCalls: reconnects() });
    },
    connectTimeoutMs: 2000,
    retryMs: 10,
    ...options,
  });
  session.onState((state) => states.push(state));
  const h: Harness = {
    pair,
    url: pair.host.url,
    session,
    calls,
    events,
    states,
    log,
    initialize: async () => undefined,
  };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    h.session.close();
    await h.pair.dispose();
  }
});

/** Returns what `fn` throws synchronously (fails when it does not throw). */
function thrown(fn: () => unknown): Error & { code?: string; cause?: unknown } {
  try {
    const result = fn();
    if (result instanceof Promise) void result.catch(() => undefined);
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a synchronous throw");
}

function reconnectCalls(h: Harness): Harness["calls"] {
  return h.calls.filter((c) => c.reason === "reconnect");
}

function kinds(h: Harness): string[] {
  return h.events.map((e) => e.kind);
}

/** Starts connect() with initialize('connect') held, then drops the link; later take-overs succeed. */
async function dropDuringConnect(h: Harness) {
  const takeOver = deferred();
  h.initialize = (reason) => (reason === "connect" ? takeOver.promise : Promise.resolve());
  const connecting = h.session.connect();
  await eventually(() => h.calls.length === 1, "initialize('connect') to start");
  h.pair.unplug();
  await eventually(() => h.pair.host.state !== "connected", "the transport to see the drop");
  return { takeOver, connecting };
}

const unknownOutput = (action: string, url: string) =>
  `${action} refused: device "psb1" lost its link (${url}); its output state is unknown until the link is ` +
  "back and the driver has switched the output off again (it does so by itself)";

describe("InstrumentSession.connect()", () => {
  it("opens the transport, runs initialize('connect') once and becomes ready; connecting again does nothing", async () => {
    const h = harness();
    expect(h.session.state).toBe("idle");
    await h.session.connect();
    expect(h.session.state).toBe("ready");
    expect(h.states).toEqual(["connecting", "ready"]);
    expect(h.calls.map((c) => c.reason)).toEqual(["connect"]);
    expect(h.pair.host.state).toBe("connected");
    expect(h.session.reinitializations).toBe(0);
    expect(h.session.lastError).toBeUndefined();
    await h.session.connect();
    expect(h.calls).toHaveLength(1);
    expect(h.events).toEqual([]);
  });

  it("gives up after connectTimeoutMs when the transport cannot connect, and closes the transport", async () => {
    const h = harness({ connectTimeoutMs: 60 });
    h.pair.unplug();
    const t0 = performance.now();
    const err = await rejection(h.session.connect());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(err.code).toBe("TRANSPORT_OPEN_FAILED");
    expect(err.message).toContain(`Cannot open ${h.url}: not connected in time`);
    expect(h.calls).toEqual([]);
    expect(h.session.state).toBe("idle");
    expect(h.states).toEqual(["connecting", "idle"]);
    expect(h.pair.host.state).toBe("closed");
  });

  it("leaves a shared transport open (closeTransportOnFailure: false); it connects later by itself", async () => {
    const h = harness({ connectTimeoutMs: 30, closeTransportOnFailure: false });
    h.pair.unplug();
    expect((await rejection(h.session.connect())).code).toBe("TRANSPORT_OPEN_FAILED");
    expect(h.session.state).toBe("idle");
    expect(h.pair.host.state).toBe("reconnecting");
    h.pair.plug();
    await eventually(() => h.pair.host.state === "connected", "the shared transport to reconnect");
    expect(h.session.state).toBe("idle");
    expect(h.calls).toEqual([]);
    await h.session.connect();
    expect(h.session.state).toBe("ready");
    expect(h.calls.map((c) => c.reason)).toEqual(["connect"]);
  });

  it("rejects with initialize's own error, stays idle and closes the transport; a later connect() works", async () => {
    const h = harness();
    const refused = new Error("remote control refused");
    h.initialize = async () => {
      throw refused;
    };
    expect(await rejection(h.session.connect())).toBe(refused);
    expect(h.session.state).toBe("idle");
    expect(h.states).toEqual(["connecting", "idle"]);
    expect(h.pair.host.state).toBe("closed");
    expect(h.events).toEqual([]);

    h.initialize = async () => undefined;
    await h.session.connect();
    expect(h.session.state).toBe("ready");
    expect(h.pair.host.state).toBe("connected");
    expect(h.calls.map((c) => c.reason)).toEqual(["connect", "connect"]);
  });

  it("keeps a shared transport connected when initialize fails (closeTransportOnFailure: false)", async () => {
    const h = harness({ closeTransportOnFailure: false });
    h.initialize = async () => {
      throw new Error("wrong *IDN? reply");
    };
    expect((await rejection(h.session.connect())).message).toBe("wrong *IDN? reply");
    expect(h.session.state).toBe("idle");
    expect(h.pair.host.state).toBe("connected");
  });

  it("ends link-down (reported lost) when the link drops during initialize('connect'), then takes over when it is back", async () => {
    const h = harness();
    const { takeOver, connecting } = await dropDuringConnect(h);
    takeOver.resolve();
    await connecting;
    expect(h.session.state).toBe("link-down");
    expect(kinds(h)).toEqual(["lost"]);
    expect(h.log).toEqual(["link down (state link-down)", "event lost"]);

    h.pair.plug();
    await eventually(() => h.session.state === "ready", "the take-over after the replug");
    expect(h.calls.map((c) => c.reason)).toEqual(["connect", "reconnect"]);
    expect(kinds(h)).toEqual(["lost", "restored"]);
  });

  it("takes the instrument over again when the link drops and comes back during initialize('connect')", async () => {
    const h = harness();
    const { takeOver, connecting } = await dropDuringConnect(h);
    h.pair.plug();
    await eventually(() => h.pair.host.state === "connected", "the transport to come back");
    takeOver.resolve();
    await connecting;
    // Whatever answered initialize('connect') may not be what answers now: the output state is unknown.
    await eventually(() => h.session.state === "ready", "the second take-over");
    expect(h.calls.map((c) => c.reason)).toEqual(["connect", "reconnect"]);
    expect(kinds(h)).toEqual(["lost", "restored"]);
    expect(h.session.reinitializations).toBe(1);
  });

  it("aborts a take-over's signal when the link drops during it; a finished take-over's signal stays live until close()", async () => {
    const h = harness();
    await h.session.connect();
    expect(h.calls[0]?.signal.aborted).toBe(false);
    await dropLink(h.pair, h.session);
    const takeOver = deferred();
    h.initialize = () => takeOver.promise;
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length === 1, "the take-over to start");
    const first = reconnectCalls(h)[0]!.signal;
    expect(first.aborted).toBe(false);
    h.pair.unplug();
    await eventually(() => first.aborted, "the drop to abort the take-over's signal");
    takeOver.resolve();
    h.initialize = async () => undefined;
    h.pair.plug();
    await eventually(() => h.session.state === "ready", "the next take-over");
    const second = reconnectCalls(h).at(-1)!.signal;
    expect(second).not.toBe(first);
    expect(second.aborted).toBe(false);
    h.session.close();
    expect(second.aborted).toBe(true);
  });

  it("fails connect() and stays closed when close() is called while it is under way", async () => {
    const h = harness();
    const takeOver = deferred();
    h.initialize = () => takeOver.promise;
    const connecting = h.session.connect();
    await eventually(() => h.calls.length === 1, "initialize('connect') to start");
    h.session.close();
    expect(h.calls[0]?.signal.aborted).toBe(true);
    takeOver.resolve();
    const err = await rejection(connecting);
    expect(err.code).toBe("CYCLER_NOT_CONNECTED");
    expect(err.message).toBe(
      'device "psb1" was closed while connecting; the connection was abandoned (connect() again to use it)',
    );
    expect(h.session.state).toBe("closed");
    expect(h.states).toEqual(["connecting", "closed"]);
    expect(h.pair.host.state).toBe("closed");
  });

  it("refuses a second connect() while the first is under way (CYCLER_NOT_CONNECTED naming the state)", async () => {
    const h = harness();
    const takeOver = deferred();
    h.initialize = () => takeOver.promise;
    const first = h.session.connect();
    await eventually(() => h.calls.length === 1, "initialize('connect') to start");
    const err = await rejection(h.session.connect());
    expect(err.code).toBe("CYCLER_NOT_CONNECTED");
    expect(err.message).toBe(
      'device "psb1" is not connected; call connect() before connect() (state connecting)',
    );
    takeOver.resolve();
    await first;
    expect(h.session.state).toBe("ready");
    expect(h.calls).toHaveLength(1);
  });

  it("refuses commands before connect() and after close() with CYCLER_NOT_CONNECTED, without running them", async () => {
    const h = harness();
    let ran = 0;
    const task = async () => {
      ran++;
    };
    const before = thrown(() => h.session.exclusive("apply(cc)", task));
    expect(before.code).toBe("CYCLER_NOT_CONNECTED");
    expect(before.message).toBe('device "psb1" is not connected; call connect() before apply(cc)');
    expect(thrown(() => h.session.read("read()", task)).code).toBe("CYCLER_NOT_CONNECTED");
    await h.session.connect();
    h.session.close();
    expect(h.session.state).toBe("closed");
    expect(thrown(() => h.session.exclusive("toSafeState()", task)).message).toBe(
      'device "psb1" is not connected; call connect() before toSafeState()',
    );
    expect(ran).toBe(0);
  });
});

describe("InstrumentSession when the link drops", () => {
  it("calls onLinkDown synchronously with the drop, before the lost event and later transport listeners", async () => {
    const h = harness();
    await h.session.connect();
    h.pair.host.on("state", (change) => {
      if (change.state === "disconnected") h.log.push("later transport listener");
    });
    await dropLink(h.pair, h.session);
    expect(h.log).toEqual(["link down (state link-down)", "event lost", "later transport listener"]);
    expect(h.events).toEqual([
      {
        kind: "lost",
        transport: h.url,
        reason: `${h.url} disconnected: memory cable unplugged`,
        afterReconnectCalls: 0,
      },
    ]);
    expect((h.session.lastError as { code?: string }).code).toBe("TRANSPORT_DISCONNECTED");
  });

  it("fails every command fast with CYCLER_OUTPUT_UNKNOWN while the link is down; nothing runs", async () => {
    const h = harness();
    await h.session.connect();
    await dropLink(h.pair, h.session);
    let ran = 0;
    const task = async () => {
      ran++;
    };
    const err = thrown(() => h.session.exclusive("apply(cc)", task));
    expect(err.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(err.message).toBe(unknownOutput("apply(cc)", h.url));
    expect(err.cause).toBe(h.session.lastError);
    const readErr = thrown(() => h.session.read("read()", task));
    expect(readErr.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(readErr.message).toBe(unknownOutput("read()", h.url));
    expect(() => h.session.assertUsable("toSafeState()")).toThrow(unknownOutput("toSafeState()", h.url));
    expect(ran).toBe(0);
  });

  it("reports `lost` once per drop, however many reconnect attempts fail meanwhile", async () => {
    const h = harness();
    await h.session.connect();
    let failedAttempts = 0;
    h.pair.host.on("state", (change) => {
      if (change.state === "reconnecting") failedAttempts++;
    });
    await dropLink(h.pair, h.session);
    await eventually(() => failedAttempts >= 4, "several failed reconnect attempts");
    expect(kinds(h)).toEqual(["lost"]);
    expect(h.log.filter((l) => l.startsWith("link down"))).toHaveLength(1);
    h.pair.plug();
    await eventually(() => h.session.state === "ready", "the session to be ready again");
    expect(kinds(h)).toEqual(["lost", "restored"]);
  });

  it("keeps failing fast while re-initialising, until initialize('reconnect') has succeeded", async () => {
    const h = harness();
    await h.session.connect();
    const takeOver = deferred();
    h.initialize = (reason) => (reason === "reconnect" ? takeOver.promise : Promise.resolve());
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => h.session.state === "reinitializing", "re-initialisation to start");
    expect(reconnectCalls(h)).toHaveLength(1);
    let ran = 0;
    const err = thrown(() =>
      h.session.exclusive("apply(cv)", async () => {
        ran++;
      }),
    );
    expect(err.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(err.message).toBe(unknownOutput("apply(cv)", h.url));
    expect(h.session.reinitializations).toBe(0);

    takeOver.resolve();
    await eventually(() => h.session.state === "ready", "the session to be ready again");
    await h.session.exclusive("apply(cv)", async () => {
      ran++;
    });
    expect(ran).toBe(1);
    expect(h.session.reinitializations).toBe(1);
    expect(h.session.lastError).toBeUndefined();
    expect(h.states).toEqual(["connecting", "ready", "link-down", "reinitializing", "ready"]);
    expect(h.log).toEqual([
      "link down (state link-down)",
      "event lost",
      "reinitialized (state reinitializing)",
      "event restored",
    ]);
    expect(h.events[1]).toEqual({ kind: "restored", transport: h.url, afterReconnectCalls: 1 });
  });

  it("retries a failing re-initialisation every retryMs until it succeeds", async () => {
    const retryMs = 40;
    const h = harness({ retryMs });
    await h.session.connect();
    const errors: Error[] = [];
    h.initialize = async (reason, n) => {
      if (reason === "reconnect" && n <= 3) {
        const err = new Error(`take-over ${n} refused`);
        errors.push(err);
        throw err;
      }
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length === 2, "the second attempt");
    expect(h.session.state).toBe("reinitializing");
    expect(h.session.lastError).toBe(errors[1]);
    await eventually(() => h.session.state === "ready", "the session to be ready again");

    const times = reconnectCalls(h).map((c) => c.atMs);
    expect(times).toHaveLength(4);
    for (let k = 1; k < times.length; k++)
      expect((times[k] as number) - (times[k - 1] as number)).toBeGreaterThanOrEqual(retryMs - 2);
    expect(h.session.reinitializations).toBe(1);
    expect(h.session.lastError).toBeUndefined();
    expect(h.log.filter((l) => l.startsWith("reinitialized"))).toHaveLength(1);
    expect(h.events).toEqual([
      expect.objectContaining({ kind: "lost" }),
      { kind: "unusable", transport: h.url, reason: "take-over 2 refused", afterReconnectCalls: 2 },
      { kind: "restored", transport: h.url, afterReconnectCalls: 4 },
    ]);
  });

  it("reports `unusable` exactly once per outage, at the second failed attempt in a row", async () => {
    expect(UNUSABLE_AFTER_FAILURES).toBe(2);
    const h = harness({ retryMs: 5 });
    await h.session.connect();
    // Outage 1: the take-over keeps failing until `fixed`.
    let fixed = false;
    h.initialize = async (reason) => {
      if (reason === "reconnect" && !fixed) throw new Error("no answer to *IDN?");
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length >= 6, "six failed attempts");
    expect(kinds(h)).toEqual(["lost", "unusable"]);
    expect(h.events[1]).toEqual({
      kind: "unusable",
      transport: h.url,
      reason: "no answer to *IDN?",
      afterReconnectCalls: UNUSABLE_AFTER_FAILURES,
    });
    fixed = true;
    await eventually(() => h.session.state === "ready", "the end of outage 1");
    expect(kinds(h)).toEqual(["lost", "unusable", "restored"]);

    // Outage 2: one failure (a settling line) is not reported as unusable.
    const failUntil = (n: number) => {
      let failures = 0;
      h.initialize = async (reason) => {
        if (reason === "reconnect" && failures < n) {
          failures++;
          throw new Error(`attempt ${failures} failed`);
        }
      };
    };
    failUntil(1);
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => h.session.state === "ready", "the end of outage 2");
    expect(kinds(h)).toEqual(["lost", "unusable", "restored", "lost", "restored"]);

    // Outage 3: the count starts again from zero.
    failUntil(2);
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => h.session.state === "ready", "the end of outage 3");
    expect(kinds(h)).toEqual([
      "lost",
      "unusable",
      "restored",
      "lost",
      "restored",
      "lost",
      "unusable",
      "restored",
    ]);
    expect(h.events[6]).toMatchObject({ kind: "unusable", reason: "attempt 2 failed" });
    expect(h.session.reinitializations).toBe(3);
  });

  it("abandons a re-initialisation cut short by another drop: one retry loop per outage", async () => {
    const retryMs = 20;
    const h = harness({ retryMs });
    await h.session.connect();
    const firstTakeOver = deferred();
    h.initialize = async (reason, n) => {
      if (reason !== "reconnect") return;
      if (n === 1) return firstTakeOver.promise;
      throw new Error(`attempt ${n} failed`);
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length === 1, "the first take-over to start");
    // The link drops again while that take-over is still waiting, and comes back.
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => h.session.state === "reinitializing", "the second re-initialisation");
    firstTakeOver.reject(new Error("attempt 1 cut short"));
    await eventually(() => reconnectCalls(h).length >= 7, "seven attempts");
    h.session.close();

    expect(kinds(h)).toEqual(["lost", "lost", "unusable"]);
    expect(h.events[2]).toMatchObject({ reason: "attempt 3 failed", afterReconnectCalls: 3 });
    const times = reconnectCalls(h)
      .slice(1)
      .map((c) => c.atMs);
    for (let k = 1; k < times.length; k++)
      expect((times[k] as number) - (times[k - 1] as number)).toBeGreaterThanOrEqual(retryMs - 2);
  });

  it("does not count a take-over that began before another drop: the one after the new reconnect must succeed", async () => {
    const h = harness();
    await h.session.connect();
    const staleTakeOver = deferred();
    const freshTakeOver = deferred();
    h.initialize = async (reason, n) => {
      if (reason === "reconnect") return n === 1 ? staleTakeOver.promise : freshTakeOver.promise;
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length === 1, "the first take-over to start");
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => h.session.state === "reinitializing", "the second re-initialisation");
    staleTakeOver.resolve();
    await eventually(() => reconnectCalls(h).length === 2, "the take-over on the new link to start");
    expect(h.session.state).toBe("reinitializing");
    expect(h.session.reinitializations).toBe(0);
    expect(kinds(h)).toEqual(["lost", "lost"]);

    freshTakeOver.resolve();
    await eventually(() => h.session.state === "ready", "the session to be ready again");
    expect(h.session.reinitializations).toBe(1);
    expect(h.events.slice(2)).toEqual([{ kind: "restored", transport: h.url, afterReconnectCalls: 2 }]);
    expect(h.log.filter((l) => l.startsWith("reinitialized"))).toHaveLength(1);
  });
});

describe("InstrumentSession.exclusive() and read()", () => {
  it("runs exclusive tasks one at a time in call order, even when one rejects", async () => {
    const h = harness();
    await h.session.connect();
    const order: string[] = [];
    const a = deferred();
    const b = deferred();
    const broke = new Error("a broke");
    const pa = h.session.exclusive("a", async () => {
      order.push("start a");
      await a.promise;
    });
    const pb = h.session.exclusive("b", async () => {
      order.push("start b");
      await b.promise;
      order.push("end b");
      return "b done";
    });
    const pc = h.session.exclusive("c", async () => {
      order.push("start c");
      return 42;
    });
    const ra = rejection(pa);
    await sleep(5);
    expect(order).toEqual(["start a"]);
    a.reject(broke);
    // An error while the link is up passes through unchanged.
    expect(await ra).toBe(broke);
    await eventually(() => order.length === 2, "b to start");
    await sleep(5);
    expect(order).toEqual(["start a", "start b"]);
    b.resolve();
    expect(await pb).toBe("b done");
    expect(await pc).toBe(42);
    expect(order).toEqual(["start a", "start b", "end b", "start c"]);
  });

  it("does not hold read() behind a running exclusive task", async () => {
    const h = harness();
    await h.session.connect();
    const hold = deferred();
    const held = h.session.exclusive("apply(cc)", () => hold.promise);
    expect(await h.session.read("read()", async () => "4.1 V")).toBe("4.1 V");
    hold.resolve();
    await held;
  });

  it("translates a command cut short by a drop into CYCLER_OUTPUT_UNKNOWN with its own error as cause", async () => {
    const h = harness();
    await h.session.connect();
    const reply = deferred();
    const readReply = deferred();
    const cutShort = rejection(h.session.exclusive("apply(cc)", () => reply.promise));
    const readCut = rejection(h.session.read("read()", () => readReply.promise));
    await dropLink(h.pair, h.session);
    const raw = new Error("reply lost");
    reply.reject(raw);
    readReply.reject(raw);
    const err = await cutShort;
    expect(err.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(err.message).toBe(unknownOutput("apply(cc)", h.url));
    expect(err.cause).toBe(raw);
    const readErr = await readCut;
    expect(readErr.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(readErr.message).toBe(unknownOutput("read()", h.url));
    expect(readErr.cause).toBe(raw);
  });

  it("refuses a queued task whose turn comes after the link dropped, without running it", async () => {
    const h = harness();
    await h.session.connect();
    const first = deferred();
    let ranSecond = false;
    const r1 = rejection(h.session.exclusive("apply(cc)", () => first.promise));
    const r2 = rejection(
      h.session.exclusive("toSafeState()", async () => {
        ranSecond = true;
      }),
    );
    await dropLink(h.pair, h.session);
    first.reject(new Error("reply lost"));
    expect((await r1).code).toBe("CYCLER_OUTPUT_UNKNOWN");
    const err = await r2;
    expect(err.code).toBe("CYCLER_OUTPUT_UNKNOWN");
    expect(err.message).toBe(unknownOutput("toSafeState()", h.url));
    expect(err.cause).toBe(h.session.lastError);
    expect(ranSecond).toBe(false);
  });
});

describe("InstrumentSession.close()", () => {
  it("stops re-initialising and listening to the transport; commands are refused as not connected", async () => {
    const h = harness({ retryMs: 10 });
    await h.session.connect();
    h.initialize = async (reason) => {
      if (reason === "reconnect") throw new Error("remote control refused");
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length >= 3, "three failed attempts");
    h.session.close();
    const calls = h.calls.length;
    const events = kinds(h);
    expect(events).toEqual(["lost", "unusable"]);
    expect(h.session.state).toBe("closed");
    await sleep(60);
    expect(h.calls).toHaveLength(calls);
    h.pair.unplug();
    await sleep(20);
    h.pair.plug();
    await eventually(() => h.pair.host.state === "connected", "the transport to reconnect");
    await sleep(30);
    expect(h.calls).toHaveLength(calls);
    expect(kinds(h)).toEqual(events);
    expect(h.session.state).toBe("closed");
    expect(thrown(() => h.session.read("read()", async () => 1)).code).toBe("CYCLER_NOT_CONNECTED");
  });
});

describe("InstrumentSession.whenReady()", () => {
  it("resolves at once while ready", async () => {
    const h = harness();
    await h.session.connect();
    await expect(h.session.whenReady(0)).resolves.toBeUndefined();
  });

  it("resolves when a re-initialisation succeeds", async () => {
    const h = harness();
    await h.session.connect();
    await dropLink(h.pair, h.session);
    const ready = h.session.whenReady(5000);
    h.pair.plug();
    await ready;
    expect(h.session.state).toBe("ready");
  });

  it("rejects after timeoutMs with a message naming the device, its state and the last error", async () => {
    const h = harness();
    const idle = await rejection(h.session.whenReady(10));
    expect(idle.message).toBe('device "psb1" not ready within 10 ms (state idle)');

    await h.session.connect();
    h.initialize = async (reason) => {
      if (reason === "reconnect") throw new Error("wrong *IDN? reply");
    };
    await dropLink(h.pair, h.session);
    h.pair.plug();
    await eventually(() => reconnectCalls(h).length >= 1, "a failed take-over");
    const err = await rejection(h.session.whenReady(30));
    expect(err.message).toBe(
      'device "psb1" not ready within 30 ms (state reinitializing, last error: wrong *IDN? reply)',
    );
  });
});

describe("InstrumentSession.rebind()", () => {
  it("refuses while connected, and connects over the new transport after close()", async () => {
    const h = harness();
    await h.session.connect();
    const other = fastPair();
    try {
      expect(() => h.session.rebind(other.host)).toThrow(
        'cannot change the transport of device "psb1" while ready',
      );
      h.session.close();
      await h.pair.host.close();
      h.session.rebind(other.host);
      await h.session.connect();
      expect(h.session.state).toBe("ready");
      expect(other.host.state).toBe("connected");
      other.unplug();
      await eventually(() => h.session.state === "link-down", "the new transport's drop");
      expect(h.events[0]).toMatchObject({ kind: "lost", transport: other.host.url });
    } finally {
      h.session.close();
      await other.dispose();
    }
  });
});
