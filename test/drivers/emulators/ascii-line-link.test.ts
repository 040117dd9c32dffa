// The line side the SCPI and Espec emulators share: framing, order per connection, link-level knobs.
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  AsciiLineLink,
  type AsciiLinkFaults,
  type ReceivedLine,
} from "../../../drivers/emulators/ascii-line-link.js";
import { FaultDeck } from "../../../drivers/emulators/emulator-faults.js";
import { createMemoryPair } from "../../../protocols/index.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KNOBS = {
  disconnect: { forMs: { min: 0, max: 600_000 } },
  garbage: { bytes: { min: 1, max: 256, integer: true } },
  lateReply: { delayMs: { min: 0, max: 600_000 } },
};

type Serve = (link: AsciiLineLink<AsciiLinkFaults>, received: ReceivedLine) => Promise<void>;

async function start(serve: Serve, terminator: "\n" | "\r\n" = "\n") {
  const pair = createMemoryPair();
  cleanups.push(() => pair.dispose());
  const faults = new FaultDeck<AsciiLinkFaults>("line-link test", KNOBS);
  const link: AsciiLineLink<AsciiLinkFaults> = new AsciiLineLink({
    listen: pair.device,
    faults,
    timing: { linkTiming: false, baudRate: 9600, turnaroundMs: 0 },
    terminator,
    serve: (received) => serve(link, received),
  });
  await link.start();
  cleanups.push(() => link.stop());
  await pair.host.open();
  let output = "";
  pair.host.on("data", (chunk) => {
    output += chunk.toString("latin1");
  });
  const send = (text: string) => pair.host.write(Buffer.from(text, "latin1"));
  return { faults, link, send, output: () => output };
}

/** Waits until `check` passes (or fails with its last error after `ms`). */
async function eventually(check: () => void, ms = 1000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await sleep(5);
    }
  }
}

describe("AsciiLineLink", () => {
  it("serves lines split across chunks one at a time, without `\\r` and blank lines", async () => {
    const served: string[] = [];
    const { send, output } = await start(async (link, received) => {
      served.push(`start ${received.line}`);
      if (received.line === "A") await sleep(30);
      served.push(`end ${received.line}`);
      await link.reply(received, `ok:${received.line}`);
    }, "\r\n");
    await send("A\r\nB");
    await send("\n\n  \r\nC\n");
    await eventually(() => expect(output()).toBe("ok:A\r\nok:B\r\nok:C\r\n"));
    expect(served).toEqual(["start A", "end A", "start B", "end B", "start C", "end C"]);
  });

  it("goes on serving a connection after a line's handler throws", async () => {
    const { send, output } = await start(async (link, received) => {
      if (received.line === "BAD") throw new Error("handler failed");
      await link.reply(received, `ok:${received.line}`);
    });
    await send("BAD\nGOOD\n");
    await eventually(() => expect(output()).toBe("ok:GOOD\n"));
  });

  it("replaces a reply by garbage and leaves a line unanswered on a disconnect", async () => {
    const cuts: boolean[] = [];
    const { faults, send, output } = await start(async (link, received) => {
      const cut = link.disconnectOnFault();
      cuts.push(cut);
      if (!cut) await link.reply(received, "reply");
    });
    faults.set({ garbage: { next: 1, bytes: 5 } });
    await send("one\n");
    await eventually(() => expect(output()).toMatch(/^[!-z]{5}\n$/));
    faults.set({ disconnect: { next: 1, forMs: 0 } });
    await send("two\nthree\n");
    await eventually(() => expect(output()).toMatch(/^[!-z]{5}\nreply\n$/));
    expect(cuts).toEqual([false, true, false]);
  });
});
