/** One Server-Sent Event as dispatched (WHATWG HTML "event stream interpretation"). */
export interface SseMessage {
  /** Last event id seen so far on the stream ("" before any). */
  id: string;
  event: string;
  data: string;
}

/**
 * Incremental text/event-stream parser: feed it decoded text in any chunking, get the complete
 * events back. Comments (heartbeats) are dropped; `retry:` is remembered.
 */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private sawData = false;
  lastEventId = "";
  retryMs: number | undefined;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") {
      if (!this.sawData) {
        this.event = "";
        return undefined;
      }
      const message = { id: this.lastEventId, event: this.event || "message", data: this.data.join("\n") };
      this.data = [];
      this.event = "";
      this.sawData = false;
      return message;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        this.sawData = true;
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\u0000")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }
}
