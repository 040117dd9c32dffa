// ChamberSession over an in-memory pair: connect, the typed refusals of require(), drop and reconnect
// (identify, then restore, then ready), identification retries, stale identifications, link events,
// close(). Timed behaviour runs on fake time; only the connect timeout (AbortSignal.timeout) is real.
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type LinkEvent, UNUSABLE_AFTER_FAILURES } from "../../../drivers/capabilities.js";
import {
  ChamberSession,
  type ChamberSessionHooks,
  type ChamberSessionOptions,
} from "../../../drivers/common/chamber-session.js";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { createMemoryPair, type MemoryPair, type Transport } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  vi.useRealTimers();
});

const RETRY_MS = 100;
/** Back-off of both memory ends while unplugged: a replug is seen within this. */
const BACKOFF_MS = 10;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What the next identify()/restore() does: succeed, fail with an error, or wait until the test settles it. */
type Outcome = "ok" | "hold" | Error;

/** Hooks that record each call (with the fake time it started at) and do what the test says. */
class Hooks implements ChamberSessionHooks {
  readonly calls: string[] = [];
  readonly identifyTimes: number[] = [];
  readonly held: Deferred[] = [];
  identifyOutcome: Outcome = "ok";
  restoreOutcome: Outcome = "ok";

  identify(): Promise<void> {
    this.identifyTimes.push(Date.now());
    return this.run("identify", this.identifyOutcome);
  }

  restore(): Promise<void> {
    return this.run("restore", this.restoreOutcome);
  }

  count(name: "identify" | "restore"): number {
    return this.calls.filter((c) => c === name).length;
  }

  /** The oldest held call; fails when none is waiting. */
  next(): Deferred {
    const d = this.held.shift();
    if (d === undefined) throw new Error(`no held hook call (calls so far: ${this.calls.join(", ")})`);
    return d;
  }

  private run(name: string, outcome: Outcome): Promise<void> {
    this.calls.push(name);
    if (outcome === "ok") return Promise.resolve();
    if (outcome === "hold") {
      const d = deferred();
      this.held.push(d);
      return d.promise;
    }
    return Promise.reject(outcome);
  }
}

let pairs = 0;
function bench(options: ChamberSessionOptions = {}) {
  const name = `chamber-session-${process.pid}-${++pairs}`;
  const pair = createMemoryPair({ name, reconnect: { initialDelayMs: BACKOFF_MS, maxDelayMs: BACKOFF_MS } });
  cleanups.push(() => pair.dispose());
  const hooks = new Hooks();
  const events: LinkEvent[] = [];
  const session = new ChamberSession("tc1", pair.host, hooks, {
    retryMs: RETRY_MS,
    onLinkEvent: (event) => events.push(event),
    ...options,
  });
  cleanups.push(async () => session.close());
  return { pair, hooks, events, session, url: `memory://${name}` };
}

async function connected(options: ChamberSessionOptions = {}) {
  const b = bench(options);
  await b.session.connect();
  expect(b.session.state).toBe("ready");
  return b;
}

/** Unplugs the cable and lets the transport report the drop (fake time). */
async function drop(pair: MemoryPair): Promise<void> {
  pair.unplug();
  await vi.advanceTimersByTimeAsync(1);
  expect(pair.host.state).not.toBe("connected");
}

/** Plugs the cable back in and lets the transport reconnect (fake time); hooks that settle at once settle too. */
async function replug(pair: MemoryPair): Promise<void> {
  pair.plug();
  await vi.advanceTimersByTimeAsync(BACKOFF_MS);
  expect(pair.host.state).toBe("connected");
}

/** Returns the error require(action) throws; fails when it passes. */
function refusal(session: ChamberSession, action = "setSetpoint(40)"): CellbenchError {
  try {
    session.require(action);
  } catch (err) {
    if (err instanceof CellbenchError) return err;
    throw err;
  }
  throw new Error(`require("${action}") passed; the session is ${session.state}`);
}

function stateListeners(transport: Transport): number {
  if (!(transport instanceof EventEmitter))
    throw new Error("expected the memory transport to be an EventEmitter");
  return transport.listenerCount("state");
}

const notConnected = 'chamber "tc1" is not connected; call connect() before setSetpoint(40)';
const underWay =
  'chamber "tc1": setSetpoint(40) refused, the controller is not identified yet (identification after reconnect under way)';
const linkDown = (url: string) =>
  `chamber "tc1": setSetpoint(40) refused, the link ${url} is down (${url} disconnected: memory cable unplugged); ` +
  "it reconnects by itself: check the cable, the adapter or the network";

describe("ChamberSession: connect", () => {
  it("refuses calls with CHAMBER_NOT_CONNECTED before connect() and while connecting, then opens, identifies and is ready", async () => {
    const { session, hooks, pair } = bench();
    expect(session.state).toBe("closed");
    const before = refusal(session);
    expect(before.code).toBe("CHAMBER_NOT_CONNECTED");
    expect(before.message).toBe(notConnected);

    hooks.identifyOutcome = "hold";
    const connecting = session.connect();
    await eventually(() => hooks.count("identify") === 1, "the first identification");
    expect(pair.host.state).toBe("connected");
    expect(session.state).toBe("connecting");
    expect(refusal(session).code).toBe("CHAMBER_NOT_CONNECTED");

    hooks.next().resolve();
    await connecting;
    expect(session.state).toBe("ready");
    expect(session.require("setSetpoint(40)")).toBeUndefined();
    expect(hooks.calls).toEqual(["identify"]);

    await session.connect();
    expect(hooks.calls).toEqual(["identify"]);
  });

  it("gives up after connectTimeoutMs when the link does not come up, and leaves the session closed and deaf", async () => {
    const { session, hooks, pair, url, events } = bench({ connectTimeoutMs: 50 });
    const listeners = stateListeners(pair.host);
    pair.unplug();
    const started = Date.now();
    const err = await rejection(session.connect());
    const took = Date.now() - started;
    expect(err.code).toBe("TRANSPORT_OPEN_FAILED");
    expect(err.message).toBe(
      `Cannot open ${url}: not connected in time (last failure: Cannot open ${url}: memory cable unplugged; ` +
        "plug the memory pair back in); the transport keeps retrying in the background until closed",
    );
    expect(took).toBeGreaterThanOrEqual(40);
    expect(took).toBeLessThan(2000);
    expect(hooks.calls).toEqual([]);
    expect(session.state).toBe("closed");
    expect(stateListeners(pair.host)).toBe(listeners);

    // The transport keeps retrying by itself; when it comes up, the closed session does not react.
    pair.plug();
    await eventually(() => pair.host.state === "connected", "the transport to come up in the background");
    expect(hooks.calls).toEqual([]);
    expect(events).toEqual([]);
    expect(refusal(session).code).toBe("CHAMBER_NOT_CONNECTED");

    await session.connect();
    expect(session.state).toBe("ready");
  });

  it("rethrows a failed first identification as is, stays closed and stops following the transport", async () => {
    vi.useFakeTimers();
    const { session, hooks, pair, events } = bench();
    const listeners = stateListeners(pair.host);
    const wrongModel = new CellbenchError("WATLOW_WRONG_MODEL", "register 0 reads 1234, not an F4 (5270)");
    hooks.identifyOutcome = wrongModel;
    expect(await rejection(session.connect())).toBe(wrongModel);
    expect(session.state).toBe("closed");
    expect(stateListeners(pair.host)).toBe(listeners);
    expect(refusal(session).message).toBe(notConnected);

    // No retry and no link events for a session that never connected.
    await drop(pair);
    await replug(pair);
    await vi.advanceTimersByTimeAsync(5 * RETRY_MS);
    expect(hooks.calls).toEqual(["identify"]);
    expect(events).toEqual([]);
    expect(session.state).toBe("closed");

    hooks.identifyOutcome = "ok";
    await session.connect();
    expect(session.state).toBe("ready");
    expect(stateListeners(pair.host)).toBe(listeners + 1);
  });

  it("ends link-down when the link drops during the first identification, and takes over when it is back", async () => {
    vi.useFakeTimers();
    const { session, hooks, pair, url, events } = bench();
    hooks.identifyOutcome = "hold";
    const connecting = session.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(hooks.count("identify")).toBe(1);
    await drop(pair);
    hooks.identifyOutcome = "ok";
    hooks.next().resolve();
    await connecting;
    expect(session.state).toBe("link-down");
    expect(refusal(session).code).toBe("CHAMBER_LINK_DOWN");
    expect(events).toEqual([
      { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` },
    ]);

    await replug(pair);
    expect(hooks.calls).toEqual(["identify", "identify", "restore"]);
    expect(session.state).toBe("ready");
    expect(events.map((e) => e.kind)).toEqual(["lost", "restored"]);
  });

  it("identifies again when the link drops and comes back during the first identification", async () => {
    vi.useFakeTimers();
    const { session, hooks, pair } = bench();
    hooks.identifyOutcome = "hold";
    const connecting = session.connect();
    await vi.advanceTimersByTimeAsync(0);
    await drop(pair);
    await replug(pair);
    expect(pair.host.state).toBe("connected");
    hooks.identifyOutcome = "ok";
    hooks.next().resolve();
    await connecting;
    // What answered the first identification may not be what answers now: identify and restore afresh.
    await vi.advanceTimersByTimeAsync(0);
    expect(hooks.calls).toEqual(["identify", "identify", "restore"]);
    expect(session.state).toBe("ready");
  });
});

describe("ChamberSession: drop and reconnect", () => {
  it("fails calls fast with CHAMBER_LINK_DOWN naming the link and the cause, and reports lost once per drop", async () => {
    vi.useFakeTimers();
    const { session, pair, url, events, hooks } = await connected();
    await drop(pair);
    expect(session.state).toBe("link-down");
    const err = refusal(session);
    expect(err.code).toBe("CHAMBER_LINK_DOWN");
    expect(err.message).toBe(linkDown(url));
    expect(err.cause).toBe(pair.host.lastError);

    // Many failed reconnect attempts later: still one `lost`, nothing identified meanwhile.
    await vi.advanceTimersByTimeAsync(20 * BACKOFF_MS);
    expect(session.state).toBe("link-down");
    expect(events).toEqual([
      { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` },
    ]);
    expect(hooks.calls).toEqual(["identify"]);

    // The transport closing while already down is the same outage.
    await pair.host.close();
    expect(session.state).toBe("link-down");
    expect(events).toHaveLength(1);
  });

  it("says 'the transport reported a disconnect' when the transport closes without an error", async () => {
    vi.useFakeTimers();
    const { session, pair, url, events } = await connected();
    await pair.host.close();
    expect(session.state).toBe("link-down");
    expect(events).toEqual([{ kind: "lost", transport: url, reason: "the transport reported a disconnect" }]);
    expect(refusal(session).message).toBe(
      `chamber "tc1": setSetpoint(40) refused, the link ${url} is down; ` +
        "it reconnects by itself: check the cable, the adapter or the network",
    );
  });

  it("on reconnect identifies afresh, then restores, then is ready and reports restored", async () => {
    vi.useFakeTimers();
    const { session, pair, url, events, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = "hold";
    hooks.restoreOutcome = "hold";
    await replug(pair);

    expect(hooks.calls).toEqual(["identify", "identify"]);
    expect(session.state).toBe("identifying");
    const whileIdentifying = refusal(session);
    expect(whileIdentifying.code).toBe("CHAMBER_NOT_READY");
    expect(whileIdentifying.message).toBe(underWay);

    hooks.next().resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(hooks.calls).toEqual(["identify", "identify", "restore"]);
    expect(session.state).toBe("identifying");
    expect(refusal(session).code).toBe("CHAMBER_NOT_READY");
    expect(events).toEqual([expect.objectContaining({ kind: "lost" })]);

    hooks.next().resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe("ready");
    expect(session.require("setSetpoint(40)")).toBeUndefined();
    expect(events).toEqual([
      { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` },
      { kind: "restored", transport: url },
    ]);
  });

  it("retries identification every retryMs while the link is up, refusing calls with the reason meanwhile", async () => {
    vi.useFakeTimers();
    const { session, pair, url, events, hooks } = await connected();
    await drop(pair);
    const wrongModel = new Error("register 0 reads 1234, not an F4 (5270)");
    hooks.identifyOutcome = wrongModel;
    await replug(pair);

    expect(hooks.count("identify")).toBe(2);
    expect(session.state).toBe("not-ready");
    const err = refusal(session);
    expect(err.code).toBe("CHAMBER_NOT_READY");
    expect(err.message).toBe(
      'chamber "tc1": setSetpoint(40) refused, the controller is not identified yet: register 0 reads 1234, not an F4 (5270)',
    );
    expect(err.cause).toBe(wrongModel);

    const failedAt = hooks.identifyTimes[1] ?? Number.NaN;
    await vi.advanceTimersByTimeAsync(failedAt + RETRY_MS - 1 - Date.now());
    expect(hooks.count("identify")).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(hooks.count("identify")).toBe(3);
    await vi.advanceTimersByTimeAsync(2 * RETRY_MS);
    expect(hooks.count("identify")).toBe(5);
    const retries = hooks.identifyTimes.slice(1);
    expect(retries.slice(1).map((t, i) => t - (retries[i] ?? Number.NaN))).toEqual([
      RETRY_MS,
      RETRY_MS,
      RETRY_MS,
    ]);
    expect(hooks.count("restore")).toBe(0);

    hooks.identifyOutcome = "ok";
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(hooks.calls.slice(-2)).toEqual(["identify", "restore"]);
    expect(session.state).toBe("ready");
    expect(events.map((e) => e.kind)).toEqual(["lost", "unusable", "restored"]);
    expect(events[2]).toEqual({ kind: "restored", transport: url });
  });

  it("does not retry identification while the link is down", async () => {
    vi.useFakeTimers();
    const { session, pair, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = new Error("no answer");
    await replug(pair);
    expect(hooks.count("identify")).toBe(2);
    await drop(pair);
    await vi.advanceTimersByTimeAsync(10 * RETRY_MS);
    expect(hooks.count("identify")).toBe(2);
    expect(session.state).toBe("link-down");
  });

  it("treats a failed restore like a failed identification: not ready, retried with a fresh identification", async () => {
    vi.useFakeTimers();
    const { session, pair, hooks, events } = await connected();
    await drop(pair);
    const refused = new Error("set point 1 write answered with exception 2");
    hooks.restoreOutcome = refused;
    await replug(pair);
    expect(session.state).toBe("not-ready");
    expect(refusal(session).cause).toBe(refused);

    hooks.restoreOutcome = "ok";
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(hooks.calls).toEqual(["identify", "identify", "restore", "identify", "restore"]);
    expect(session.state).toBe("ready");
    expect(events.map((e) => e.kind)).toEqual(["lost", "restored"]);
  });
});

describe("ChamberSession: link events", () => {
  it(`reports unusable exactly once per outage, at failed identification number ${UNUSABLE_AFTER_FAILURES} in a row`, async () => {
    expect(UNUSABLE_AFTER_FAILURES).toBe(2);
    vi.useFakeTimers();
    const { pair, url, events, hooks } = await connected();
    const kinds = () => events.map((e) => e.kind);

    await drop(pair);
    hooks.identifyOutcome = new Error("model 9999 is not a Watlow F4");
    await replug(pair);
    expect(hooks.count("identify")).toBe(2);
    expect(kinds()).toEqual(["lost"]);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(hooks.count("identify")).toBe(3);
    expect(events).toEqual([
      { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` },
      { kind: "unusable", transport: url, reason: "model 9999 is not a Watlow F4" },
    ]);
    await vi.advanceTimersByTimeAsync(5 * RETRY_MS);
    expect(hooks.count("identify")).toBe(8);
    expect(kinds()).toEqual(["lost", "unusable"]);

    // A new outage counts afresh.
    await drop(pair);
    await replug(pair);
    expect(kinds()).toEqual(["lost", "unusable", "lost"]);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(kinds()).toEqual(["lost", "unusable", "lost", "unusable"]);
    await vi.advanceTimersByTimeAsync(3 * RETRY_MS);
    expect(kinds()).toEqual(["lost", "unusable", "lost", "unusable"]);
  });

  it("gives the thrown text as the reason when the hook throws a string rather than an Error", async () => {
    vi.useFakeTimers();
    const { session, pair, url, events, hooks } = await connected();
    await drop(pair);
    const notAnError: unknown = "garbled reply";
    hooks.identify = () => Promise.reject(notAnError);
    await replug(pair);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(events[1]).toEqual({ kind: "unusable", transport: url, reason: "garbled reply" });
    expect(refusal(session).message).toBe(underWay);
  });

  it("reports nothing while connected and steady", async () => {
    vi.useFakeTimers();
    const { events } = await connected();
    await vi.advanceTimersByTimeAsync(20 * RETRY_MS);
    expect(events).toEqual([]);
  });
});

describe("ChamberSession: stale identifications", () => {
  it("never marks the session ready when an identification finishes after a newer drop", async () => {
    vi.useFakeTimers();
    const { session, pair, events, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = "hold";
    await replug(pair);
    const stale = hooks.next();
    await drop(pair);

    stale.resolve();
    await vi.advanceTimersByTimeAsync(5 * RETRY_MS);
    expect(hooks.calls).toEqual(["identify", "identify"]);
    expect(session.state).toBe("link-down");
    expect(refusal(session).code).toBe("CHAMBER_LINK_DOWN");
    expect(events.map((e) => e.kind)).toEqual(["lost", "lost"]);
  });

  it("neither retries nor reports unusable for an identification failing after a newer drop", async () => {
    vi.useFakeTimers();
    const { session, pair, events, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = new Error("no answer");
    await replug(pair);
    hooks.identifyOutcome = "hold";
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(hooks.count("identify")).toBe(3);
    const stale = hooks.next();
    await drop(pair);

    stale.reject(new Error("no answer"));
    await vi.advanceTimersByTimeAsync(5 * RETRY_MS);
    expect(hooks.count("identify")).toBe(3);
    expect(session.state).toBe("link-down");
    expect(events.map((e) => e.kind)).toEqual(["lost", "lost"]);
  });

  it("lets only the newest identification restore when the link dropped and came back meanwhile", async () => {
    vi.useFakeTimers();
    const { session, pair, events, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = "hold";
    await replug(pair);
    const stale = hooks.next();
    await drop(pair);
    await replug(pair);
    expect(session.state).toBe("identifying");
    // Take-overs run one at a time on the line: the fresh identification waits for the stale one.
    expect(hooks.count("identify")).toBe(2);

    stale.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(hooks.count("restore")).toBe(0);
    expect(session.state).toBe("identifying");

    const fresh = hooks.next();
    fresh.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(hooks.calls).toEqual(["identify", "identify", "identify", "restore"]);
    expect(session.state).toBe("ready");
    expect(events.map((e) => e.kind)).toEqual(["lost", "lost", "restored"]);
  });
});

describe("ChamberSession: close", () => {
  it("stops retries and stops following the link", async () => {
    vi.useFakeTimers();
    const { session, pair, events, hooks } = await connected();
    const listeners = stateListeners(pair.host);
    await drop(pair);
    hooks.identifyOutcome = new Error("no answer");
    await replug(pair);
    expect(hooks.count("identify")).toBe(2);

    session.close();
    expect(session.state).toBe("closed");
    expect(stateListeners(pair.host)).toBe(listeners - 1);
    await vi.advanceTimersByTimeAsync(10 * RETRY_MS);
    expect(hooks.count("identify")).toBe(2);
    await drop(pair);
    await replug(pair);
    await vi.advanceTimersByTimeAsync(10 * RETRY_MS);
    expect(hooks.count("identify")).toBe(2);
    expect(events.map((e) => e.kind)).toEqual(["lost"]);
    expect(refusal(session).message).toBe(notConnected);
  });

  it("ignores an identification in flight when close() is called", async () => {
    vi.useFakeTimers();
    const { session, pair, events, hooks } = await connected();
    await drop(pair);
    hooks.identifyOutcome = "hold";
    await replug(pair);
    const inFlight = hooks.next();
    session.close();
    inFlight.resolve();
    await vi.advanceTimersByTimeAsync(5 * RETRY_MS);
    expect(hooks.count("restore")).toBe(0);
    expect(session.state).toBe("closed");
    expect(events.map((e) => e.kind)).toEqual(["lost"]);
  });
});
