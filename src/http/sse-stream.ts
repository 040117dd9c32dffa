import type { FastifyReply } from "fastify";

/** Bytes of output one client may have waiting in the daemon (beyond the kernel's socket buffers). */
export const SSE_MAX_BUFFERED_BYTES = 64 * 1024;
/** How long one client may keep the daemon's output back-pressured (no 'drain') before it is dropped. */
export const SSE_MAX_STALL_MS = 10_000;
/** How long the farewell of a dropped client may take to flush before its socket is destroyed. */
const FAREWELL_GRACE_MS = 1000;
/** Live events queued within this window go to a client in one write (one syscall, not one per event). */
export const SSE_COALESCE_MS = 50;
/** Queued live events are written at once when they reach this many bytes. */
const COALESCE_MAX_BYTES = 16 * 1024;

/** Streams with queued live events, flushed together by one timer. */
const queued = new Set<SseStream>();
let flushTimer: NodeJS.Timeout | undefined;
function scheduleFlush(stream: SseStream): void {
  queued.add(stream);
  if (flushTimer) return;
  flushTimer = setTimeout(() => {
    flushTimer = undefined;
    const streams = [...queued];
    queued.clear();
    for (const s of streams) s.flush();
  }, SSE_COALESCE_MS);
  flushTimer.unref();
}

export interface SseStreamOptions {
  /** Heartbeat comment period, ms (default 15 s). */
  heartbeatMs?: number;
  /** Reconnection delay suggested to clients, ms (default 2 s). */
  retryMs?: number;
  /** A client that lets more than this pile up unread is dropped (default SSE_MAX_BUFFERED_BYTES, 64 KiB). */
  maxBufferedBytes?: number;
  /** A client that stays back-pressured this long is dropped (default SSE_MAX_STALL_MS, 10 s). */
  maxStallMs?: number;
  /** Told once, with the reason, when the stream drops its client (for the log). */
  onDrop?: (reason: string, bufferedBytes: number) => void;
}

/**
 * A Server-Sent Events response on a hijacked fastify reply: headers, `retry:`, heartbeat comments,
 * back-pressure, and one `onClose` callback however the stream ends (client gone, server close,
 * end(), drop()). Live events are queued and written together every SSE_COALESCE_MS, so a fast
 * sampling rate costs one write per client per window, not one per event.
 *
 * A slow reader is dropped, never buffered without bound: when more than `maxBufferedBytes` of its
 * output would wait in the daemon, or when its socket stays back-pressured (write returned false,
 * no 'drain') for `maxStallMs`, the stream sends a `: dropped: <reason>` comment and a `dropped`
 * event, ends, and destroys the socket if that farewell has not flushed within a second.
 */
export class SseStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private droppedFor: string | undefined;
  private readonly closeHandlers: (() => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private readonly maxBuffered: number;
  private readonly maxStallMs: number;
  /** Live events queued for the next flush, and their bytes. */
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly reply: FastifyReply,
    private readonly options: SseStreamOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? SSE_MAX_BUFFERED_BYTES;
    this.maxStallMs = options.maxStallMs ?? SSE_MAX_STALL_MS;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    raw.on("close", () => this.finish());
    raw.on("error", () => this.finish());
    raw.on("drain", () => this.drained());
    this.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    this.heartbeat = setInterval(() => this.write(": heartbeat\n\n"), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the stream dropped its client, if it did. */
  get dropReason(): string | undefined {
    return this.droppedFor;
  }

  /** True while the client has not taken what was written (wait with `whenDrained` before writing more). */
  get backpressured(): boolean {
    return this.stallTimer !== undefined;
  }

  /** Resolves when the output has drained or the stream has closed (bounded: a stall drops the client). */
  whenDrained(): Promise<void> {
    if (!this.backpressured || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Runs `handler` once when the stream ends for any reason. */
  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /**
   * Queues a live event: it goes out with the others queued within SSE_COALESCE_MS, in one write,
   * and before anything written later. Drops a client that cannot take it.
   */
  queue(text: string): void {
    if (this.closed || !this.fits(text)) return;
    this.pending.push(text);
    this.pendingBytes += Buffer.byteLength(text);
    if (this.pendingBytes >= COALESCE_MAX_BYTES) this.flush();
    else if (this.pending.length === 1) scheduleFlush(this);
  }

  /** Writes what is queued now. */
  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    this.send(text);
  }

  /** Writes raw SSE text (one or more complete events) after what is queued; drops a client that cannot take it. */
  write(text: string): void {
    if (this.closed) return;
    this.flush();
    if (this.fits(text)) this.send(text);
  }

  /** False (and the client dropped) when `text` would take its output held past maxBufferedBytes. */
  private fits(text: string): boolean {
    const buffered = this.reply.raw.writableLength + this.pendingBytes;
    if (buffered + Buffer.byteLength(text) <= this.maxBuffered) return true;
    this.drop(
      `slow reader: ${buffered} bytes of output are waiting unread, more than the ${this.maxBuffered} a client may hold`,
    );
    return false;
  }

  private send(text: string): void {
    const raw = this.reply.raw;
    if (!raw.write(text) && this.stallTimer === undefined) {
      this.stallTimer = setTimeout(() => {
        this.stallTimer = undefined;
        this.drop(`slow reader: the output stayed unread for more than ${this.maxStallMs} ms`);
      }, this.maxStallMs);
      this.stallTimer.unref();
    }
  }

  /** Writes an event without an id (snapshots, gap notices). */
  event(type: string, data: unknown): void {
    this.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /**
   * Ends the stream, telling the client why first (a comment and a `dropped` event), and reports the
   * reason to `onDrop`. The socket is destroyed when the farewell has not flushed within a second.
   */
  drop(reason: string): void {
    if (this.closed) return;
    this.droppedFor = reason;
    const raw = this.reply.raw;
    const buffered = raw.writableLength + this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.options.onDrop?.(reason, buffered);
    } catch {
      // The log must not keep a slow client connected.
    }
    const line = reason.replace(/[\r\n]+/g, " ");
    raw.end(`: dropped: ${line}\n\nevent: dropped\ndata: ${JSON.stringify({ reason: line })}\n\n`);
    const socket = raw.socket;
    if (socket) {
      const grace = setTimeout(() => {
        if (!socket.destroyed && socket.writableLength > 0) socket.destroy();
      }, FAREWELL_GRACE_MS);
      grace.unref();
      socket.once("close", () => clearTimeout(grace));
    }
    this.finish();
  }

  /** Ends the response after what was written and queued. */
  end(): void {
    if (this.closed) return;
    this.flush();
    if (this.closed) return;
    this.reply.raw.end();
    this.finish();
  }

  private drained(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    queued.delete(this);
    this.drained();
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}
