/**
 * node-influx client for administration and queries (schema, export). The hot write path does not
 * use it (see line-writer.ts). Its own retries and host back-off are switched off: the forwarder and
 * the callers decide when to try again, and a host marked "down" by the pool would otherwise stay
 * unusable for seconds after InfluxDB came back.
 */
import { type IClusterConfig, type IHostConfig, InfluxDB, ResultError } from "influx";
// The package's index re-exports ResultError but not RequestError (lib/src/index.d.ts exports only
// IPingStats and IPoolOptions from "./pool"); the class and its typings live in lib/src/pool.
import { RequestError } from "influx/lib/src/pool.js";
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

/**
 * node-influx speaks only HTTP Basic, and sends it whenever `username` is a string: it fills an
 * undefined `username` with "root" (lib/src/index.js `defaultOptions`, applied by `defaults()`, which
 * replaces only undefined keys), builds the credentials when `typeof this._options.username ===
 * "string"` (`_getQueryOpts`), and pool.js `stream()` then writes `mergedHeaders["Authorization"] =
 * "Basic ..."` over the host's own headers. A token target would so send Basic root:root instead of
 * its token, and a target without credentials a guessed root:root. null is the value its code reads
 * as "no credentials"; its typings (`username?: string`) cannot say so, hence this one cast.
 */
const NO_BASIC_AUTH = { username: null } as unknown as Pick<IClusterConfig, "username">;

/**
 * Creates a node-influx client for a target: username/password go to node-influx (HTTP Basic), a
 * token as `Authorization: Token` on the host; no internal retries.
 */
export function createInfluxClient(target: InfluxTarget): InfluxDB {
  const t = normaliseTarget(target);
  const url = new URL(t.url);
  const protocol = url.protocol === "https:" ? "https" : "http";
  const host: IHostConfig = {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === "https" ? 443 : 80,
    protocol,
    path: url.pathname === "/" ? "" : url.pathname,
  };
  const auth = authorizationHeader(t);
  if (t.token && auth) host.options = { headers: { authorization: auth } };
  const config: IClusterConfig = {
    database: t.database,
    hosts: [host],
    pool: { maxRetries: 0, requestTimeout: t.timeoutMs ?? 15_000, backoff: noBackoff },
  };
  // node-influx sends `${username}:${password || ""}` and fills an undefined password with "root".
  if (t.username !== undefined)
    return new InfluxDB({ ...config, username: t.username, password: t.password ?? "" });
  return new InfluxDB({ ...config, ...NO_BASIC_AUTH });
}

/**
 * True when a node-influx error means InfluxDB answered: an HTTP status from 300 to 499
 * (RequestError) or an InfluxQL error in the results (ResultError). Its errors for a 5xx, a timeout
 * or no host (ServiceNotAvailableError) and network errors mean it did not.
 */
export function serverAnswered(err: unknown): boolean {
  return err instanceof RequestError || err instanceof ResultError;
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
    const text = await untilAborted(res.text(), signal);
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

/**
 * `body`, or the signal's reason once it aborts. Node 20's fetch can leave `res.text()` pending for
 * ever when the request is aborted while a gzip body is still being inflated (nodejs/node#56917);
 * InfluxDB gzips its answers, and an export stuck there held the one export query slot, so every
 * later export of the daemon waited behind it.
 */
function untilAborted<T>(body: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    body.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal.removeEventListener("abort", onAbort);
    void body.then(
      (value) => {
        settle();
        resolve(value);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
}
