/**
 * Where and how to reach InfluxDB. The same settings serve InfluxDB 1.x and the v1-compatible
 * /write and /query of 2.x and 3.x:
 * - 1.x with authentication: `username` + `password` (sent as HTTP Basic, never in the URL);
 * - 2.x / 3.x: `token` (sent as `Authorization: Token <token>`); `database` is the bucket or the
 *   v1 DBRP mapping, and `manageSchema` should be off (those servers do not run CREATE DATABASE).
 * Several benches may share one database: the `bench` tag on every point keeps them apart.
 */
import { StorageConfigError } from "./errors.js";

export interface InfluxTarget {
  /** Base URL, e.g. http://127.0.0.1:8086 (a path prefix is kept). */
  url: string;
  database: string;
  /** Retention policy written to; absent means the database's default policy. */
  retentionPolicy?: string;
  username?: string;
  password?: string;
  token?: string;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
}

/** Checks a target and returns it normalised (no trailing slash). */
export function normaliseTarget(target: InfluxTarget): InfluxTarget {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new StorageConfigError(
      `influx.url ${JSON.stringify(target.url)} is not a URL; use e.g. http://127.0.0.1:8086`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new StorageConfigError(`influx.url must be http:// or https://, got ${url.protocol}`);
  if (!target.database)
    throw new StorageConfigError("influx.database is empty; name the database (or bucket)");
  if (target.token && (target.username || target.password))
    throw new StorageConfigError("influx: give either a token or a username/password, not both");
  if (target.password && !target.username)
    throw new StorageConfigError("influx.password needs influx.username");
  return { ...target, url: target.url.replace(/\/+$/, "") };
}

/** Returns the Authorization header value for a target, or undefined without credentials. */
export function authorizationHeader(target: InfluxTarget): string | undefined {
  if (target.token) return `Token ${target.token}`;
  if (target.username !== undefined)
    return `Basic ${Buffer.from(`${target.username}:${target.password ?? ""}`).toString("base64")}`;
  return undefined;
}

/** Returns the /write URL for a target, with precision ms. */
export function writeUrl(target: InfluxTarget): URL {
  const url = new URL(`${target.url}/write`);
  url.searchParams.set("db", target.database);
  if (target.retentionPolicy) url.searchParams.set("rp", target.retentionPolicy);
  url.searchParams.set("precision", "ms");
  return url;
}
