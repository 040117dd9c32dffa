/**
 * The effective bench configuration as GET /api/v1/config shows it to an admin: every secret
 * replaced by "***" before it leaves this module, so no serializer or schema change can leak one.
 *
 * Secrets of a BenchConfig: `tokens[].token` (from auth.tokens and CELLBENCH_TOKENS),
 * `influx.password` and `influx.token` (also from INFLUX_TOKEN). Defensively also: credentials in
 * URLs (`http://user:pass@host`, `?token=`), and driver options under keys that name a secret.
 */
import type { BenchConfig } from "../config/load-config.js";
import { defaultWatchdogMs } from "../safety/watchdog.js";
import { DEFAULT_CATCH_UP_POINTS_PER_SECOND } from "../storage/forwarder.js";
import { DEFAULT_RAW_RETENTION } from "../storage/influx-schema.js";
import { DEFAULT_CHECK_RATE_LIMIT, DEFAULT_CONTROL_RATE_LIMIT } from "./rate-limits.js";
import { type ConfigViewT, REDACTED } from "./schemas.js";
import { DEFAULT_REQUESTS_PER_SECOND } from "./turn-gate.js";

/** Builds the redacted view of a configuration. */
export function configView(config: BenchConfig): ConfigViewT {
  let influx: ConfigViewT["influx"] = null;
  if (config.influx) {
    const { url, database, username, password, token } = config.influx;
    influx = {
      url: redactUrl(url),
      database,
      retention: { raw: config.influx.schema?.raw?.duration ?? DEFAULT_RAW_RETENTION },
      catchUpPointsPerSecond: config.influx.catchUpPointsPerSecond ?? DEFAULT_CATCH_UP_POINTS_PER_SECOND,
    };
    if (username !== undefined) influx.username = username;
    if (password !== undefined) influx.password = REDACTED;
    if (token !== undefined) influx.token = REDACTED;
  }
  return {
    source: config.source,
    bench: config.bench,
    http: {
      host: config.http.host,
      port: config.http.port,
      requestsPerSecond: config.http.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
      rateLimit: {
        control: { ...(config.http.rateLimit?.control ?? DEFAULT_CONTROL_RATE_LIMIT) },
        check: { ...(config.http.rateLimit?.check ?? DEFAULT_CHECK_RATE_LIMIT) },
      },
    },
    influx,
    store: config.store,
    devices: config.devices.map((d) => ({
      id: d.id,
      driver: d.driver,
      transport: d.transport === undefined ? null : redactUrl(d.transport),
      channels: [...(d.channels ?? [])],
      options: redactOptions(d.options ?? {}),
    })),
    chambers: config.chambers.map((c) => ({ id: c.id, device: c.device, channels: [...c.channels] })),
    sampling: {
      period_ms: config.samplingPeriodMs,
      watchdog_ms: config.watchdogMs ?? defaultWatchdogMs(config.samplingPeriodMs),
      realtime_priority: config.realtimePriority ?? null,
    },
    auth: { tokens: config.tokens.map((t) => ({ role: t.role, token: REDACTED })) },
  };
}

/** True for keys that name a secret: password, passwd, secret, token, apiKey, private_key, credentials, ... */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s.]/g, "");
  return /password|passwd|passphrase|^pass$|^pwd$|secret|token|apikey|privatekey|credential|authorization|^auth$/.test(
    k,
  );
}

/** Replaces the password of a URL's user info and the values of secret query parameters by "***". */
export function redactUrl(value: string): string {
  return value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}` : REDACTED}@`;
    })
    .replace(/([?&;])([^=&#;]*)=([^&#;]*)/g, (match, sep: string, name: string) =>
      // `p` is InfluxDB 1.x's password parameter (?u=…&p=…).
      isSecretKey(decodeName(name)) || name === "p" ? `${sep}${name}=${REDACTED}` : match,
    );
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Copies driver options (plain YAML data) with secret-named values replaced and URLs redacted. */
function redactOptions(options: Record<string, unknown>): Record<string, unknown> {
  return redactValue(options, 0) as Record<string, unknown>;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactUrl(value);
  if (value === null || typeof value !== "object") return value;
  // Configuration comes from YAML, so cycles cannot occur; the bound only guards hand-built configs.
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSecretKey(key) && v !== undefined && v !== null ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}
