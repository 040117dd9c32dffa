import { afterEach, describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { collectBytes, recordStates, waitForState } from "../support/transport-waits.js";

let pty: PtyPair | undefined;
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await pty?.stop();
  pty = undefined;
});

function serial(path: string): Transport {
  const transport = createTransport(`serial://${path}?baud=19200`, {
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  transports.push(transport);
  return transport;
}

describe("serial transport over a socat pty pair", () => {
  it("carries bytes both ways", async () => {
    pty = await startPtyPair();
    const a = serial(pty.a);
    const b = serial(pty.b);
    await Promise.all([a.open(), b.open()]);
    const atB = collectBytes(b);
    const atA = collectBytes(a);
    await a.write(Buffer.from("MEAS:VOLT?\n"));
    expect((await atB.until(11)).toString()).toBe("MEAS:VOLT?\n");
    await b.write(Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]));
    expect([...(await atA.until(5))]).toEqual([0x01, 0x03, 0x02, 0x00, 0x2a]);
  });

  it("detects the pty vanishing, keeps retrying, and reconnects with a new port when it returns", async () => {
    pty = await startPtyPair();
    const a = serial(pty.a);
    const b = serial(pty.b);
    await Promise.all([a.open(), b.open()]);
    const states = recordStates(a);
    const lost = waitForState(a, "disconnected");
    const lostB = waitForState(b, "disconnected");
    await pty.unplug();
    const change = await lost;
    expect(change?.error?.code).toBe("TRANSPORT_DISCONNECTED");
    await lostB;
    const failedAttempt = await new Promise<string>((resolve) =>
      a.on("state", (c) => {
        if (c.state === "reconnecting" && c.error?.code === "TRANSPORT_OPEN_FAILED") resolve(c.error.message);
      }),
    );
    expect(failedAttempt).toMatch(/ls -l \/dev\/serial\/by-id/);
    await pty.replug();
    await Promise.all([waitForState(a, "connected"), waitForState(b, "connected")]);
    expect(states[0]).toBe("disconnected");
    expect(states).toContain("reconnecting");
    const atB = collectBytes(b);
    await a.write(Buffer.from("after replug"));
    expect((await atB.until(12)).toString()).toBe("after replug");
  });

  it("fails the first open of a missing path with a hint when reconnect is off", async () => {
    const transport = createTransport("serial:///dev/serial/by-id/no-such-adapter?baud=9600", {
      reconnect: false,
    });
    transports.push(transport);
    const failed = await transport.open().catch((err: unknown) => err);
    expect(hasErrorCode(failed, "TRANSPORT_OPEN_FAILED")).toBe(true);
    expect((failed as Error).message).toMatch(/no-such-adapter.*ls -l \/dev\/serial\/by-id/);
  });
});
