/**
 * The hot write path: POST pre-encoded line protocol to /write?precision=ms over a keep-alive
 * node:http agent, and say what the server's answer means for the batch. Measured against global
 * fetch and node-influx's writePoints in test/bench/ingest.ts; node:http was the fastest.
 *
 * What a reply means (InfluxDB 1.x httpd handler; 2.x/3.x v1-compatible /write answer alike):
 * - 2xx: every point is stored.
 * - 400 (and 2.x's 422): the data is bad. 1.x answers "partial write: ... dropped=N" or "unable to
 *   parse '<line>': ..." and HAS STORED the good points of the batch; which lines were refused has to
 *   be found out (the forwarder bisects). Exception: request-level 400s ("database is required",
 *   authentication) say nothing about the lines and are retried.
 * - 413: the body is too large; split it.
 * - everything else (network errors, timeouts, 401/403, 404 "database not found", 429, 5xx):
 *   nothing can be concluded about the data; try again later.
 */
import http from "node:http";
import https from "node:https";
import { authorizationHeader, type InfluxTarget, normaliseTarget, writeUrl } from "./influx-target.js";

export type WriteOutcome =
  | { kind: "written"; status: number }
  /** Bad data: some (possibly all) lines were refused, the good ones were stored. */
  | { kind: "rejected"; status: number; message: string }
  | { kind: "too-large"; status: number; message: string }
  /** Nothing known about the data (server down, auth, missing database): retry the same lines later. */
  | { kind: "failed"; status: number | null; message: string; databaseMissing: boolean };

/** Writes a line-protocol body somewhere. The forwarder depends only on this. */
export interface LineWriter {
  /** Writes a line-protocol body (UTF-8 bytes or a string). */
  write(body: Buffer | string): Promise<WriteOutcome>;
  close(): void;
}

const REQUEST_LEVEL_400 =
  /database is required|database not found|bucket .*not found|retention policy not found|authori[sz]|authenticat|unauthori[sz]ed/i;
const MAX_MESSAGE_CHARS = 2_000;

/** Classifies an HTTP reply to /write. Exported for tests. */
export function classifyWriteReply(status: number, body: string): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: "written", status };
  const message = serverMessage(body) || `HTTP ${status}`;
  if (status === 400 || status === 422) {
    if (REQUEST_LEVEL_400.test(message)) return { kind: "failed", status, message, databaseMissing: false };
    return { kind: "rejected", status, message };
  }
  if (status === 413) return { kind: "too-large", status, message };
  const databaseMissing = status === 404 && /database not found|bucket .*not found|not found/i.test(message);
  return { kind: "failed", status, message, databaseMissing };
}

/** Extracts the server's message from a 1.x (`error`), 2.x (`message`) or 3.x (`error` + `data`) reply. */
export function serverMessage(body: string): string {
  let text = body.trim();
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown; data?: unknown };
    const main =
      typeof json.error === "string" ? json.error : typeof json.message === "string" ? json.message : "";
    if (main) text = json.data === undefined ? main : `${main} ${JSON.stringify(json.data)}`;
  } catch {
    // Not JSON: keep the raw text.
  }
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

/** POSTs line protocol with node:http (keep-alive). */
export class HttpLineWriter implements LineWriter {
  private readonly target: InfluxTarget;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly request: typeof http.request;

  constructor(target: InfluxTarget) {
    this.target = normaliseTarget(target);
    this.url = writeUrl(this.target);
    const secure = this.url.protocol === "https:";
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 4 })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.request = secure ? https.request : http.request;
    this.timeoutMs = this.target.timeoutMs ?? 15_000;
    this.headers = { "content-type": "text/plain; charset=utf-8" };
    const auth = authorizationHeader(this.target);
    if (auth) this.headers.authorization = auth;
  }

  /** Returns the URL written to (credentials never appear in it). */
  get endpoint(): string {
    return this.url.toString();
  }

  write(body: Buffer | string): Promise<WriteOutcome> {
    const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return new Promise<WriteOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: WriteOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const req = this.request(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          headers: { ...this.headers, "content-length": String(payload.length) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            finish(classifyWriteReply(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))),
          );
          res.on("error", (err) => finish(networkFailure(err)));
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`no answer from ${this.url.host} within ${this.timeoutMs} ms`)),
      );
      req.on("error", (err) => finish(networkFailure(err)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function networkFailure(err: Error): WriteOutcome {
  const code = (err as NodeJS.ErrnoException).code;
  return {
    kind: "failed",
    status: null,
    message: code ? `${code}: ${err.message}` : err.message,
    databaseMissing: false,
  };
}
