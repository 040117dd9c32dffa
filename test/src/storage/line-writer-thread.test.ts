import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadLineWriter } from "../../../src/storage/line-writer-thread.js";
import { sharedBytes } from "../../../src/storage/outbox-transactions.js";

/** A loopback /write endpoint: each request is held until `answer` is called for it. */
const received: { body: string; answer: (status: number, body?: string) => void }[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () =>
    received.push({
      body: Buffer.concat(chunks).toString(),
      answer: (status, body = "") => res.writeHead(status).end(body),
    }),
  );
});
let url = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function nextRequest(count: number): Promise<(typeof received)[number]> {
  const deadline = performance.now() + 10_000;
  while (received.length < count) {
    if (performance.now() > deadline) throw new Error(`request ${count} did not arrive`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return received[count - 1] as (typeof received)[number];
}

describe("ThreadLineWriter", () => {
  it("POSTs from its thread and answers with the reply's meaning; a body in shared memory arrives whole", async () => {
    received.length = 0;
    const writer = new ThreadLineWriter({ url, database: "db" });
    try {
      const shared = sharedBytes(9);
      shared.set(Buffer.from("m v=1i 1\n"));
      const first = writer.write(Buffer.from(shared.buffer, 0, 8));
      (await nextRequest(1)).answer(204);
      expect(await first).toEqual({ kind: "written", status: 204 });
      expect(received[0]?.body).toBe("m v=1i 1");

      const second = writer.write("m v=x 2");
      (await nextRequest(2)).answer(400, '{"error":"partial write: bad dropped=1"}');
      expect(await second).toEqual({
        kind: "rejected",
        status: 400,
        message: "partial write: bad dropped=1",
      });
      expect(writer.thread).toBeDefined();
    } finally {
      writer.close();
    }
  });

  it("sends the writes its thread had not answered again from this thread when the thread dies", async () => {
    received.length = 0;
    const takeOvers: string[] = [];
    const writer = new ThreadLineWriter(
      { url, database: "db" },
      { onTakeOver: (why) => takeOvers.push(why) },
    );
    try {
      const pending = writer.write("m v=1i 1");
      await nextRequest(1);
      await writer.thread?.terminate();
      // The same lines again, now from this thread; the first request is never answered.
      const again = await nextRequest(2);
      expect(again.body).toBe("m v=1i 1");
      again.answer(204);
      expect(await pending).toEqual({ kind: "written", status: 204 });
      expect(takeOvers).toEqual([expect.stringMatching(/InfluxDB writer thread stopped/)]);
      expect(writer.thread).toBeUndefined();
      const later = writer.write("m v=2i 2");
      (await nextRequest(3)).answer(204);
      expect(await later).toMatchObject({ kind: "written" });
    } finally {
      writer.close();
    }
  });

  it("reports the writes still unanswered at close as failed, so that the rows stay in the outbox", async () => {
    received.length = 0;
    const writer = new ThreadLineWriter({ url, database: "db" });
    const pending = writer.write("m v=1i 1");
    await nextRequest(1);
    writer.close();
    expect(await pending).toMatchObject({
      kind: "failed",
      status: null,
      message: expect.stringMatching(/closed/),
    });
    expect(await writer.write("m v=2i 2")).toMatchObject({ kind: "failed" });
  });
});

describe("ThreadLineWriter, a write that cannot be built", () => {
  it("answers failed with why, and the thread goes on, instead of never answering", async () => {
    // Node refuses to send a header with a line break: the request throws before anything is sent.
    const target = { url, database: "db", token: "tok\nen" };
    const writer = new ThreadLineWriter(target);
    try {
      expect(await writer.write("m v=1i 1")).toMatchObject({
        kind: "failed",
        status: null,
        message: expect.stringMatching(/could not be sent: .*header/i),
      });
      expect(writer.thread, "the thread survives it").toBeDefined();
    } finally {
      writer.close();
    }
  });
});
