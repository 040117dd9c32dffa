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
