import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ReplyWaiter } from "../../../protocols/exchange/reply-waiter.js";

/** Blocks the event loop, like a GC pause or start-up work. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function loopbackPair(): Promise<{ host: Socket; device: Socket }> {
  server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const host = connect(port, "127.0.0.1");
  await once(host, "connect");
  const [device] = await accepted;
  sockets.push(host, device);
  return { host, device };
}

const timeoutError = () => new Error("timed out");

describe("ReplyWaiter", () => {
  it("settles with the first accepted item and refuses items nobody waits for", async () => {
    const waiter = new ReplyWaiter<string>();
    expect(waiter.offer("stray")).toBe(false);
    const reply = waiter.wait({ timeoutMs: 1000, timeoutError, accept: (s) => s.startsWith("OK") });
    expect(waiter.offer("noise")).toBe(false);
    expect(waiter.offer("OK 1")).toBe(true);
    await expect(reply).resolves.toBe("OK 1");
    expect(waiter.waiting).toBe(false);
  });

  it("times out with the caller's error, and fail() rejects the wait at once", async () => {
    const waiter = new ReplyWaiter<string>();
    await expect(waiter.wait({ timeoutMs: 5, timeoutError })).rejects.toThrow("timed out");
    const failed = waiter.wait({ timeoutMs: 1000, timeoutError });
    expect(waiter.fail(new Error("link lost"))).toBe(true);
    await expect(failed).rejects.toThrow("link lost");
    expect(waiter.fail(new Error("again"))).toBe(false);
  });

  it("takes a reply that arrived during an event-loop stall longer than the timeout", async () => {
    const { host, device } = await loopbackPair();
    const waiter = new ReplyWaiter<string>();
    host.on("data", (chunk) => waiter.offer(chunk.toString()));
    const reply = waiter.wait({ timeoutMs: 20, timeoutError });
    device.write("reply in time");
    // The reply reaches the kernel buffer within microseconds; the loop only looks after the stall,
    // when the 20 ms timer is long overdue.
    stall(150);
    await expect(reply).resolves.toBe("reply in time");
  });

  it("still times out after a stall when nothing arrived", async () => {
    const { host } = await loopbackPair();
    const waiter = new ReplyWaiter<string>();
    host.on("data", (chunk) => waiter.offer(chunk.toString()));
    const reply = waiter.wait({ timeoutMs: 20, timeoutError });
    stall(150);
    await expect(reply).rejects.toThrow("timed out");
  });
});
