import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { collectBytes, waitForState } from "../support/transport-waits.js";

interface EchoServer {
  server: Server;
  sockets: Set<Socket>;
  port: number;
}

function listenEcho(port = 0): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => socket.write(Buffer.concat([Buffer.from("echo:"), chunk])));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      resolve({ server, sockets, port: address.port });
    });
  });
}

async function shutDown(echo: EchoServer): Promise<void> {
  for (const socket of echo.sockets) socket.destroy();
  await new Promise<void>((resolve) => echo.server.close(() => resolve()));
}

let transport: Transport | undefined;
let echo: EchoServer | undefined;
afterEach(async () => {
  await transport?.close();
  if (echo) await shutDown(echo);
  transport = undefined;
  echo = undefined;
});

describe("tcp transport", () => {
  it("exchanges bytes with a server on 127.0.0.1", async () => {
    echo = await listenEcho();
    transport = createTransport(`tcp://127.0.0.1:${echo.port}`);
    const received = collectBytes(transport);
    await transport.open();
    await transport.write(Buffer.from("ping"));
    expect((await received.until(9)).toString()).toBe("echo:ping");
  });

  it("notices the peer going away and reconnects when it returns on the same port", async () => {
    echo = await listenEcho();
    const port = echo.port;
    transport = createTransport(`tcp://127.0.0.1:${port}`, {
      reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
    });
    await transport.open();
    const lost = waitForState(transport, "disconnected");
    await shutDown(echo);
    echo = undefined;
    const change = await lost;
    expect(change?.error?.code).toBe("TRANSPORT_DISCONNECTED");
    expect(transport.state).toBe("reconnecting");
    const retry = await new Promise<string>((resolve) =>
      transport?.on("state", (c) => {
        if (c.state === "reconnecting" && c.error?.code === "TRANSPORT_OPEN_FAILED") resolve(c.error.message);
      }),
    );
    expect(retry).toMatch(/ECONNREFUSED.*nothing listens on port/);
    echo = await listenEcho(port);
    await waitForState(transport, "connected");
    const received = collectBytes(transport);
    await transport.write(Buffer.from("back"));
    expect((await received.until(9)).toString()).toBe("echo:back");
  });

  it("fails the first open with a hint when nothing listens and reconnect is off", async () => {
    const probe = await listenEcho();
    const port = probe.port;
    await shutDown(probe);
    transport = createTransport(`tcp://127.0.0.1:${port}`, { reconnect: false });
    const failed = await transport.open().catch((err: unknown) => err);
    expect(hasErrorCode(failed, "TRANSPORT_OPEN_FAILED")).toBe(true);
    expect((failed as Error).message).toContain(`tcp://127.0.0.1:${port}`);
  });
});
