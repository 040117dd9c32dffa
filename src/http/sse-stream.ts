import type { FastifyReply } from "fastify";

export interface SseStreamOptions {
  /** Heartbeat comment period, ms (default 15 s). */
  heartbeatMs?: number;
  /** Reconnection delay suggested to clients, ms (default 2 s). */
  retryMs?: number;
  /** A client that lets this much output pile up unread is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
}

/**
 * A Server-Sent Events response on a hijacked fastify reply: headers, `retry:`, heartbeat comments,
 * back-pressure (a client that stops reading is dropped rather than buffered without bound), and
 * one `onClose` callback however the stream ends (client gone, server close, end()).
 */
export class SseStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];
  private readonly maxBuffered: number;

  constructor(
    private readonly reply: FastifyReply,
    options: SseStreamOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    raw.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    raw.on("close", () => this.finish());
    raw.on("error", () => this.finish());
    this.heartbeat = setInterval(() => this.write(": heartbeat\n\n"), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `handler` once when the stream ends for any reason. */
  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Writes raw SSE text (one or more complete events). */
  write(text: string): void {
    if (this.closed) return;
    const raw = this.reply.raw;
    if (raw.writableLength > this.maxBuffered) {
      raw.destroy();
      this.finish();
      return;
    }
    raw.write(text);
  }

  /** Writes an event without an id (snapshots, gap notices). */
  event(type: string, data: unknown): void {
    this.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the response after what was written. */
  end(): void {
    if (this.closed) return;
    this.reply.raw.end();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}
