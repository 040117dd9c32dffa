/**
 * Issue 11, finding 6: event streams (SSE). Many streams that never read, and many streams resuming
 * from `Last-Event-ID: 1`, must not stall the sampling loop or the API: streams are capped per token
 * and in total (429 / 503 beyond), replay is bounded and yields, and a client that lets output pile
 * up is dropped with a reason.
 */

import net from "node:net";
import { Writable } from "node:stream";
import type { FastifyReply } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SseStream } from "../../../../src/http/sse-stream.js";
import type { RunEvent } from "../../../../src/run/run-manager.js";
import {
  type AttackBench,
  expectUnharmed,
  openAttackBench,
  underAttack,
} from "../../../support/attack-bench.js";
import { cellRecord } from "../../../support/cell-record.js";
import { type HttpBench, openHttpBench, TOKENS } from "../../../support/http-bench.js";
import { eventually } from "../../../support/wait.js";

/** Attacker tokens (viewers): the streams below are spread over them, so the total cap is reached too. */
const ATTACKERS = Array.from({ length: 10 }, (_, i) => `attacker-token-${i}-0123456789abcdef`);
const TOKEN_CONFIG = [
  { role: "viewer" as const, token: TOKENS.viewer },
  { role: "operator" as const, token: TOKENS.operator },
  { role: "admin" as const, token: TOKENS.admin },
  ...ATTACKERS.map((token) => ({ role: "viewer" as const, token })),
];

/** A stream opened on a raw socket: it reads the response head, then (unless `read`) stops reading. */
interface RawStream {
  socket: net.Socket;
  /** The response status, once the head has arrived. */
  status: Promise<number>;
  /** Everything received so far (only grows after the head when `read`). */
  text(): string;
  /** True once the server closed or reset the connection. */
  closed(): boolean;
}

const sockets: net.Socket[] = [];

function openRaw(url: string, path: string, token: string, headers: Record<string, string>, read: boolean) {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), "127.0.0.1");
  sockets.push(socket);
  let text = "";
  let closed = false;
  const status = new Promise<number>((resolve, reject) => {
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const head = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (head && text.includes("\r\n\r\n")) {
        resolve(Number(head[1]));
        if (!read) socket.pause();
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
      reject(new Error("closed before a response head"));
    });
  });
  status.catch(() => undefined);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.write(
    `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\nauthorization: Bearer ${token}\r\n${extra}\r\n`,
  );
  return { socket, status, text: () => text, closed: () => closed } satisfies RawStream;
}

/**
 * Opens `count` streams, `batch` at a time (each batch waits for its response heads), spread over
 * the attacker tokens in runs (the first count/10 on the first token, and so on).
 */
async function openMany(
  h: AttackBench,
  count: number,
  path: string,
  headers: Record<string, string> = {},
  batch = 2,
): Promise<{ streams: RawStream[]; statuses: number[] }> {
  const streams: RawStream[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < count; i += batch) {
    const opened = Array.from({ length: Math.min(batch, count - i) }, (_, j) =>
      openRaw(
        h.url,
        path,
        ATTACKERS[Math.floor(((i + j) * ATTACKERS.length) / count)] as string,
        headers,
        false,
      ),
    );
    streams.push(...opened);
    statuses.push(
      ...(await Promise.all(
        opened.map((s) =>
          Promise.race([
            s.status.catch(() => -1),
            new Promise<number>((resolve) => setTimeout(() => resolve(0), 10_000).unref()),
          ]),
        ),
      )),
    );
  }
  return { streams, statuses };
}

function closeAll(streams: RawStream[]): void {
  for (const s of streams) s.socket.destroy();
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/** Pushes `n` synthetic sample events of the victim run through the run manager's subscribers. */
async function fillEventBuffers(h: AttackBench, n: number): Promise<void> {
  let record: Extract<RunEvent, { type: "sample" }>["record"] | undefined;
  const off = h.runs.subscribe((e) => {
    if (e.type === "sample" && e.run === h.runId) record = e.record;
  });
  await eventually(() => record !== undefined, "a sample of the victim run");
  off();
  const listeners = (h.runs as unknown as { listeners: Set<(e: RunEvent) => void> }).listeners;
  for (let i = 0; i < n; i++) {
    for (const listener of listeners) listener({ type: "sample", run: h.runId, record: record as never });
    // A few at a time, so filling the buffers is not itself a stall.
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("attack: event streams", () => {
  let h: AttackBench;
  beforeAll(async () => {
    // Every sample on the live streams (50 a second at the 20 ms period): the heaviest the streams get.
    h = await openAttackBench({ tokens: TOKEN_CONFIG, http: { sampleRateHz: 0, heartbeatMs: 1000 } });
    // Warm up what the attacks and the timed request use, so first-call costs (compiling, lazy
    // loading) are not counted as the attack's.
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${h.url}/health`)).status).toBe(200);
      const warm = openRaw(h.url, "/api/v1/events", TOKENS.viewer, { "last-event-id": "1" }, false);
      expect(await warm.status).toBe(200);
      warm.socket.destroy();
    }
    await eventually(() => h.app.liveClients() === 0, "the warm-up streams to be released");
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await h?.close();
  });

  it("300 streams that never read: at most 8 per token and 64 in all (429 / 503 beyond), the loop unharmed", async () => {
    let opened: { streams: RawStream[]; statuses: number[] } = { streams: [], statuses: [] };
    try {
      const report = await underAttack(
        h,
        async () => {
          opened = await openMany(h, 300, "/api/v1/events");
          // Hold them while the bench samples and publishes to every admitted stream.
          await new Promise((resolve) => setTimeout(resolve, 1500));
        },
        4000,
      );
      const [ok, tooMany, busy] = [200, 429, 503].map((status) => count(opened.statuses, status));
      console.log("300 non-reading streams:", JSON.stringify(report), { ok, tooMany, busy });
      expectUnharmed(report);
      // 30 streams on each of 10 tokens: 8 of each of the first 8 tokens fill the 64; the rest of
      // theirs are 429 (the token's share), the last two tokens' are 503 (the daemon's total).
      expect({ ok, tooMany, busy }).toEqual({ ok: 64, tooMany: 8 * 22, busy: 2 * 30 });
      for (const status of [429, 503]) {
        const refused = opened.streams.find((s) => s.text().startsWith(`HTTP/1.1 ${status}`))?.text() ?? "";
        expect(refused).toMatch(/\r\nretry-after: 5\r\n/i);
        expect(refused).toMatch(/\r\ncontent-type: application\/problem\+json/i);
        expect(refused).toContain(status === 429 ? "TOO_MANY_CONCURRENT" : "SERVER_BUSY");
      }
    } finally {
      closeAll(opened.streams);
    }
    await eventually(() => h.app.liveClients() === 0, "the streams to be released", 10_000);
    // The slots are given back: the token may open a stream again.
    const again = openRaw(h.url, "/api/v1/events", ATTACKERS[0] as string, {}, false);
    expect(await again.status).toBe(200);
    again.socket.destroy();
    await eventually(() => h.app.liveClients() === 0, "the last stream to be released", 10_000);
  });

  it("100 streams resuming from Last-Event-ID: 1 over 4096 buffered events: bounded, sliced replay; the API answers fast", async () => {
    await fillEventBuffers(h, 4096);
    let opened: { streams: RawStream[]; statuses: number[] } = { streams: [], statuses: [] };
    const reader = { stream: undefined as RawStream | undefined };
    try {
      let healthMs = Number.NaN;
      const report = await underAttack(
        h,
        async () => {
          const before = sockets.length;
          const attack = openMany(h, 100, "/api/v1/events", { "last-event-id": "1" });
          // Timed while the streams are opening and replaying: after the first 40.
          await eventually(() => sockets.length >= before + 40, "40 attack streams", 10_000);
          const t0 = performance.now();
          const health = await fetch(`${h.url}/health`);
          healthMs = performance.now() - t0;
          expect(health.status).toBe(200);
          opened = await attack;
        },
        4000,
      );
      console.log("100 resuming streams:", JSON.stringify(report), {
        healthMs,
        ok: count(opened.statuses, 200),
      });
      expectUnharmed(report);
      expect(healthMs).toBeLessThan(250);
      expect(count(opened.statuses, 200)).toBe(64);

      // A client that reads gets a gap notice, then at most the newest 512 buffered events.
      closeAll(opened.streams);
      await eventually(() => h.app.liveClients() === 0, "the attack streams to be released", 10_000);
      const probe = openRaw(h.url, "/api/v1/events", TOKENS.viewer, {}, true);
      reader.stream = probe;
      await eventually(() => /^id: \d+$/m.test(probe.text()), "a live event");
      const newest = Number(/^id: (\d+)$/m.exec(probe.text())?.[1]);
      probe.socket.destroy();
      const r = openRaw(h.url, "/api/v1/events", TOKENS.viewer, { "last-event-id": "1" }, true);
      reader.stream = r;
      expect(await r.status).toBe(200);
      await eventually(() => (r.text().match(/^id: \d+$/gm)?.length ?? 0) >= 100, "the replay to arrive");
      const body = r.text();
      expect(body.indexOf("event: gap\n")).toBeGreaterThan(0);
      expect(body.indexOf("event: gap\n")).toBeLessThan(body.indexOf("\nid: "));
      const ids = (body.match(/^id: (\d+)$/gm) ?? []).map((line) => Number(line.slice(4)));
      expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
      // The replay starts at most 512 events (and the few published since `newest`) back, not at
      // the oldest of the 4096 buffered.
      expect(newest - (ids[0] as number)).toBeLessThan(512 + 100);
      expect(newest).toBeGreaterThan(4096);
    } finally {
      closeAll([...opened.streams, ...(reader.stream ? [reader.stream] : [])]);
    }
    await eventually(() => h.app.liveClients() === 0, "the streams to be released", 10_000);
  });
});

/** A fastify reply stand-in whose socket takes `accept()`ed writes only: a client that reads when told. */
function fakeReply(highWaterMark = 16 * 1024) {
  const chunks: string[] = [];
  const pending: (() => void)[] = [];
  const raw = new Writable({
    highWaterMark,
    write(_chunk: Buffer, _encoding, callback) {
      pending.push(callback);
    },
  });
  const write = raw.write.bind(raw);
  const end = raw.end.bind(raw);
  Object.assign(raw, {
    writeHead: () => undefined,
    write: (chunk: string) => {
      chunks.push(chunk);
      return write(chunk);
    },
    end: (chunk?: string) => {
      if (chunk !== undefined) chunks.push(chunk);
      return end(chunk);
    },
  });
  return {
    reply: { hijack: () => undefined, raw } as unknown as FastifyReply,
    raw,
    /** Everything the stream wrote, read or not. */
    written: () => chunks.join(""),
    /** Lets the client read everything written so far. */
    accept: () => {
      while (pending.length > 0) pending.shift()?.();
    },
  };
}

describe("SseStream: slow readers are dropped with a reason", () => {
  const event = (i: number) =>
    `id: ${i}\nevent: sample\ndata: ${JSON.stringify({ i, pad: "x".repeat(200) })}\n\n`;

  it("drops a client that leaves more than maxBufferedBytes unread: a comment and a dropped event say why", () => {
    const { reply, raw, written } = fakeReply();
    const drops: { reason: string; buffered: number }[] = [];
    const stream = new SseStream(reply, {
      maxBufferedBytes: 4096,
      onDrop: (reason, buffered) => drops.push({ reason, buffered }),
    });
    let closed = 0;
    stream.onClose(() => closed++);
    for (let i = 0; i < 100 && !stream.isClosed; i++) stream.write(event(i));
    expect(stream.isClosed).toBe(true);
    expect(closed).toBe(1);
    expect(drops).toHaveLength(1);
    expect(drops[0]?.reason).toMatch(
      /^slow reader: \d+ bytes of output are waiting unread, more than the 4096/,
    );
    expect(drops[0]?.buffered).toBeLessThanOrEqual(4096);
    expect(stream.dropReason).toBe(drops[0]?.reason);
    // The output held stays under the cap, plus the farewell.
    expect(raw.writableLength).toBeLessThan(4096 + 1024);
    expect(written()).toMatch(
      /\n: dropped: slow reader: .*\n\nevent: dropped\ndata: \{"reason":"slow reader: [^"]+"\}\n\n$/,
    );
    expect(raw.writableEnded).toBe(true);
    // Nothing is written after the drop.
    stream.write(event(1000));
    expect(written()).not.toContain('"i":1000');
  });

  it("drops a client that keeps the output back-pressured past the deadline, and not one that reads", async () => {
    const slow = fakeReply(1024);
    const drops: string[] = [];
    const stalled = new SseStream(slow.reply, { maxStallMs: 100, onDrop: (reason) => drops.push(reason) });
    for (let i = 0; i < 8; i++) stalled.write(event(i));
    expect(stalled.backpressured).toBe(true);
    expect(stalled.isClosed).toBe(false);
    await eventually(() => stalled.isClosed, "the stalled client to be dropped", 5000);
    expect(drops).toEqual(["slow reader: the output stayed unread for more than 100 ms"]);
    expect(slow.written()).toContain(
      ": dropped: slow reader: the output stayed unread for more than 100 ms\n\n",
    );

    const reading = fakeReply(1024);
    const fine = new SseStream(reading.reply, { maxStallMs: 100, onDrop: (reason) => drops.push(reason) });
    for (let i = 0; i < 8; i++) fine.write(event(i));
    expect(fine.backpressured).toBe(true);
    const drained = fine.whenDrained();
    reading.accept();
    await drained;
    expect(fine.backpressured).toBe(false);
    const started = Date.now();
    await eventually(() => Date.now() - started > 300, "the deadline to pass");
    expect(fine.isClosed).toBe(false);
    expect(drops).toHaveLength(1);
    fine.end();
  });
});

describe("event stream limits over HTTP", () => {
  let h: HttpBench | undefined;
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await h?.close();
    h = undefined;
  });

  it("refuses streams past the token's share (429) and the total (503) with a problem before any header, and gives slots back", async () => {
    const bench = await openHttpBench({ auto: false, http: { streams: { perToken: 2, total: 3 } } });
    h = bench;
    const url = await bench.app.listen({ host: "127.0.0.1", port: 0 });
    const open = (role: keyof typeof TOKENS) => openRaw(url, "/api/v1/events", TOKENS[role], {}, true);
    const a = open("viewer");
    const b = open("viewer");
    expect([await a.status, await b.status]).toEqual([200, 200]);
    const c = open("viewer");
    expect(await c.status).toBe(429);
    await eventually(() => c.text().includes("}"), "the 429 body");
    expect(c.text()).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(c.text()).toMatch(/\r\nretry-after: 5\r\n/i);
    expect(c.text()).toContain('"code":"TOO_MANY_CONCURRENT"');
    const d = open("operator");
    expect(await d.status).toBe(200);
    const e = open("admin");
    expect(await e.status).toBe(503);
    await eventually(() => e.text().includes("}"), "the 503 body");
    expect(e.text()).toContain('"code":"SERVER_BUSY"');
    expect(bench.app.liveClients()).toBe(3);
    a.socket.destroy();
    await eventually(() => bench.app.liveClients() === 2, "the closed stream's slot to be given back");
    const f = open("viewer");
    expect(await f.status).toBe(200);
  });

  it("drops a stream whose socket stops taking output, says why in the stream and in the log", async () => {
    const bench = await openHttpBench({ auto: false, http: { sampleRateHz: 0 } });
    h = bench;
    const serverSockets: net.Socket[] = [];
    bench.app.server.on("connection", (socket: net.Socket) => serverSockets.push(socket));
    const url = await bench.app.listen({ host: "127.0.0.1", port: 0 });
    const client = openRaw(url, "/api/v1/events", TOKENS.viewer, {}, true);
    expect(await client.status).toBe(200);
    await eventually(() => client.text().includes("event: channels"), "the first snapshot");
    // The kernel would take megabytes from a client that does not read before the daemon saw any
    // back-pressure; corking the daemon's side of the socket makes the output wait in the daemon at once.
    const socket = serverSockets[0] as net.Socket;
    socket.cork();
    const listeners = (bench.runs as unknown as { listeners: Set<(e: RunEvent) => void> }).listeners;
    const record = cellRecord({ run: "R-fake" });
    for (let i = 0; i < 1000 && bench.app.liveClients() > 0; i++)
      for (const listener of listeners) listener({ type: "sample", run: "R-fake", record });
    expect(bench.app.liveClients()).toBe(0);
    socket.uncork();
    await eventually(() => client.text().includes("event: dropped\n"), "the farewell");
    expect(client.text()).toMatch(
      /\n: dropped: slow reader: \d+ bytes of output are waiting unread, more than the 65536/,
    );
    const line = bench.logs.find((l) => l.includes("event stream client dropped"));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({
      level: 40,
      reason: expect.stringMatching(/^slow reader/),
    });
    expect(line).not.toContain(TOKENS.viewer);
  });
});
