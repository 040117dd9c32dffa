/**
 * node-influx client for administration and queries (schema, export). The hot write path does not
 * use it (see line-writer.ts). Its own retries and host back-off are switched off: the forwarder and
 * the callers decide when to try again, and a host marked "down" by the pool would otherwise stay
 * unusable for seconds after InfluxDB came back.
 */
import { InfluxDB } from "influx";
import { authorizationHeader, type InfluxTarget, normaliseTarget } from "./influx-target.js";

const noBackoff = {
  getDelay: () => 0,
  next() {
    return noBackoff;
  },
  reset() {
    return noBackoff;
  },
};

/** Creates a node-influx client for a target (Basic auth or token header, no internal retries). */
export function createInfluxClient(target: InfluxTarget): InfluxDB {
  const t = normaliseTarget(target);
  const url = new URL(t.url);
  const protocol = url.protocol === "https:" ? "https" : "http";
  const port = url.port ? Number(url.port) : protocol === "https" ? 443 : 80;
  const headers: Record<string, string> = {};
  const auth = authorizationHeader(t);
  if (auth) headers.authorization = auth;
  return new InfluxDB({
    database: t.database,
    // node-influx sends Basic root:root unless `username` is a non-string; null leaves the
    // Authorization header above (Basic or Token) as the only credentials.
    username: null as unknown as string,
    hosts: [
      {
        host: url.hostname,
        port,
        protocol,
        path: url.pathname === "/" ? "" : url.pathname,
        options: { headers },
      },
    ],
    pool: { maxRetries: 0, requestTimeout: t.timeoutMs ?? 15_000, backoff: noBackoff },
  });
}

/** True when a node-influx error means InfluxDB answered (HTTP error status or an InfluxQL error). */
export function serverAnswered(err: unknown): boolean {
  const name = (err as { name?: unknown; constructor?: { name?: string } } | null)?.constructor?.name;
  return name === "RequestError" || name === "ResultError";
}

/** Options of one /query request made by `createInfluxQuery`'s function. */
export interface InfluxQueryOptions {
  database: string;
  retentionPolicy?: string;
  /** Epoch precision of the returned times (default ms). */
  precision?: "ms";
  /** Aborts the request (and InfluxDB's work on it) when the caller no longer wants the answer. */
  signal?: AbortSignal;
}

/** One InfluxQL /query request; resolves with the response body (JSON text), unparsed. */
export type InfluxQueryText = (query: string, options: InfluxQueryOptions) => Promise<string>;

/**
 * Returns a function that runs one InfluxQL query over HTTP and resolves with the body as text, so
 * the caller decides when to spend the CPU of parsing it (the export parses a page in its own slice
 * of the event loop). Unlike node-influx's queryRaw it can be aborted: an export whose client went
 * away stops its query at once. The target's timeout (default 15 s) bounds every request.
 */
export function createInfluxQuery(target: InfluxTarget): InfluxQueryText {
  const t = normaliseTarget(target);
  const headers: Record<string, string> = { accept: "application/json" };
  const auth = authorizationHeader(t);
  if (auth) headers.authorization = auth;
  const timeoutMs = t.timeoutMs ?? 15_000;
  return async (query, options) => {
    const url = new URL(`${t.url}/query`);
    url.searchParams.set("db", options.database);
    if (options.retentionPolicy) url.searchParams.set("rp", options.retentionPolicy);
    url.searchParams.set("epoch", options.precision ?? "ms");
    url.searchParams.set("q", query);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const res = await fetch(url, { headers, signal });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`InfluxDB answered ${res.status}: ${message}`);
    }
    return text;
  };
}
