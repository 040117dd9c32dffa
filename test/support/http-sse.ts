import { type SseMessage, SseParser } from "../../src/cli/client/sse-parser.js";

export interface SseConnection {
  status: number;
  /** Everything received so far, comments included. */
  raw(): string;
  /** The next event, or undefined when the server ended the stream; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage | undefined>;
  /** Takes every event received so far without waiting. */
  take(): SseMessage[];
  /** True once the server ended the stream (after the queued events). */
  ended(): boolean;
  close(): void;
}

/** Opens a Server-Sent Events stream over a real socket with fetch. */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const parser = new SseParser();
  const queue: SseMessage[] = [];
  let text = "";
  let ended = false;
  let wake: () => void = () => undefined;
  const decoder = new TextDecoder();
  if (response.body) {
    void (async () => {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const s = decoder.decode(chunk, { stream: true });
          text += s;
          queue.push(...parser.push(s));
          wake();
        }
      } catch {
        // aborted by close()
      }
      ended = true;
      wake();
    })();
  } else {
    ended = true;
  }
  return {
    status: response.status,
    raw: () => text,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0 && !ended) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return queue.shift();
    },
    take: () => queue.splice(0),
    ended: () => ended,
    close: () => abort.abort(),
  };
}
