/**
 * The configuration file of a private influxd (InfluxDB 1.x): the daemon's local InfluxDB and the
 * tests' (test/support/influxd.ts) are written by this one function.
 */
import { join } from "node:path";

export interface InfluxdConfigOptions {
  /** Directory holding meta, data and wal. */
  dir: string;
  /** host:port of the HTTP API. */
  httpBind: string;
  /** host:port of the RPC service (backup and restore); influxd 1.x always listens on it. */
  rpcBind: string;
  auth?: boolean;
  logLevel?: "error" | "warn" | "info";
}

/**
 * influxd.conf for a private influxd: HTTP and RPC on the given addresses, every other listener
 * (graphite, collectd, opentsdb, udp, ifql) off as by default, no usage reporting, no _internal
 * statistics, no request log.
 */
export function influxdConfigText(options: InfluxdConfigOptions): string {
  const path = (sub: string) => JSON.stringify(join(options.dir, sub));
  return `reporting-disabled = true
bind-address = ${JSON.stringify(options.rpcBind)}

[meta]
  dir = ${path("meta")}
  logging-enabled = false

[data]
  dir = ${path("data")}
  wal-dir = ${path("wal")}
  query-log-enabled = false
  trace-logging-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = ${JSON.stringify(options.httpBind)}
  auth-enabled = ${options.auth ?? false}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = ${JSON.stringify(options.logLevel ?? "error")}
  suppress-logo = true

[continuous_queries]
  log-enabled = false
`;
}
