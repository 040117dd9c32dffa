import { afterEach, describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/transport/memory-transport.js";
import { collectBytes, recordStates, waitForState } from "../support/transport-waits.js";

let pair: MemoryPair | undefined;
afterEach(async () => {
  await pair?.dispose();
  pair = undefined;
});

describe("memory pair", () => {
  it("carries bytes both ways, in order, split into chunks when asked", async () => {
    pair = createMemoryPair({ chunkSize: 3 });
    const chunkSizes: number[] = [];
    pair.device.on("data", (chunk) => chunkSizes.push(chunk.length));
    const atDevice = collectBytes(pair.device);
    const atHost = collectBytes(pair.host);
    await Promise.all([pair.host.open(), pair.device.open()]);
    await pair.host.write(Buffer.from("hello "));
    await pair.host.write(Buffer.from("world"));
    await pair.device.write(Buffer.from([1, 2, 3, 4]));
    expect((await atDevice.until(11)).toString()).toBe("hello world");
    expect([...(await atHost.until(4))]).toEqual([1, 2, 3, 4]);
    expect(Math.max(...chunkSizes)).toBe(3);
  });

  it("reports unplugging on both ends, refuses writes meanwhile, and reconnects after plugging back", async () => {
    pair = createMemoryPair({ reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    await Promise.all([pair.host.open(), pair.device.open()]);
    const hostStates = recordStates(pair.host);
    const lost = waitForState(pair.host, "disconnected");
    pair.unplug();
    const change = await lost;
    expect(change?.error?.code).toBe("TRANSPORT_DISCONNECTED");
    await waitForState(pair.device, "reconnecting");
    const refused = await pair.host.write(Buffer.from("x")).catch((err: unknown) => err);
    expect(hasErrorCode(refused, "TRANSPORT_NOT_CONNECTED")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(pair.host.state).toBe("reconnecting");
    pair.plug();
    await Promise.all([waitForState(pair.host, "connected"), waitForState(pair.device, "connected")]);
    expect(hostStates.slice(0, 2)).toEqual(["disconnected", "reconnecting"]);
    expect(hostStates.at(-1)).toBe("connected");
    const atDevice = collectBytes(pair.device);
    await pair.host.write(Buffer.from("again"));
    expect((await atDevice.until(5)).toString()).toBe("again");
  });

  it("reattaches the device end as soon as the cable is plugged in, before the host's next attempt", async () => {
    pair = createMemoryPair({ reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 } });
    await Promise.all([pair.host.open(), pair.device.open()]);
    pair.unplug();
    await Promise.all([waitForState(pair.host, "reconnecting"), waitForState(pair.device, "reconnecting")]);
    pair.plug();
    await new Promise((resolve) => setImmediate(resolve));
    expect(pair.device.state).toBe("connected");
    expect(pair.host.state).toBe("reconnecting");
  });

  it("backs off exponentially up to the ceiling while unplugged", async () => {
    pair = createMemoryPair({ reconnect: { initialDelayMs: 2, maxDelayMs: 16, factor: 2 } });
    await pair.host.open();
    const delays: number[] = [];
    pair.host.on("state", (change) => {
      if (change.state === "reconnecting" && change.retryInMs !== undefined) delays.push(change.retryInMs);
    });
    pair.unplug();
    const deadline = Date.now() + 2000;
    while (delays.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(delays.slice(0, 6)).toEqual([2, 4, 8, 16, 16, 16]);
  });

  it("is reachable through memory://<name> and frees the name on dispose", async () => {
    pair = createMemoryPair({ name: "psb-test" });
    expect(createTransport("memory://psb-test")).toBe(pair.host);
    expect(() => createMemoryPair({ name: "psb-test" })).toThrow(/exists/);
    await pair.dispose();
    pair = undefined;
    expect(() => createTransport("memory://psb-test")).toThrow(/create it first/);
  });

  it("rejects pending opens when closed, and an aborted open says what it last saw", async () => {
    pair = createMemoryPair({ reconnect: { initialDelayMs: 5, maxDelayMs: 5 } });
    pair.unplug();
    const aborted = await pair.host.open({ signal: AbortSignal.timeout(40) }).catch((err: unknown) => err);
    expect(hasErrorCode(aborted, "TRANSPORT_OPEN_FAILED")).toBe(true);
    expect((aborted as Error).message).toMatch(/not connected in time .*memory cable unplugged/);
    expect(pair.host.state).toBe("reconnecting");
    const pending = pair.host.open().catch((err: unknown) => err);
    await pair.host.close();
    expect(hasErrorCode(await pending, "TRANSPORT_CLOSED")).toBe(true);
    expect(pair.host.state).toBe("closed");
  });

  it("fails the open at once when reconnect is disabled", async () => {
    pair = createMemoryPair({ reconnect: false });
    pair.unplug();
    const failed = await pair.host.open().catch((err: unknown) => err);
    expect(hasErrorCode(failed, "TRANSPORT_OPEN_FAILED")).toBe(true);
    expect(pair.host.state).toBe("disconnected");
  });
});
