import { pino } from "pino";
import { CellbenchError } from "../protocols/cellbench-error.js";

export type Logger = pino.Logger;

/** What stands in a log line for a secret. */
export const REDACTED = "[redacted]";

/**
 * Paths pino blanks whatever the serializers did (a second line of defence: the `headers` and `req`
 * serializers below already drop or blank every secret header).
 */
const REDACT_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "authorization",
  ...["req.headers", "res.headers", "headers", "request.headers", "reply.headers"].flatMap((at) =>
    ["authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"].map(
      (name) => `${at}["${name}"]`,
    ),
  ),
];

/** pino's redaction options of the daemon's loggers. */
export const LOG_REDACT = { paths: REDACT_PATHS, censor: REDACTED };

/**
 * Header names whose values never reach a log line, at any level: the credentials HTTP defines
 * (authorization, proxy-authorization, cookie, set-cookie) and any name that speaks of a token, a
 * secret, a key (x-api-key, idempotency-key too), a password, a session, a credential or auth.
 */
export function isSecretHeader(name: string): boolean {
  return /auth|cookie|token|secret|key|passw|session|credential|signature/i.test(name);
}

/** A copy of request or response headers for a log line, secret values replaced by "[redacted]". */
export function redactHeaders(headers: unknown): unknown {
  if (headers === null || typeof headers !== "object") return headers;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = isSecretHeader(name) ? REDACTED : value;
  return out;
}

/**
 * Query parameters whose values may be logged, each with the only shape of value that is: short words
 * that no token (16 characters at least) or stream ticket (32) fits. Every other value is redacted.
 */
const LOGGED_QUERY: Readonly<Record<string, RegExp>> = {
  state: /^[a-z]{1,12}$/,
  format: /^[a-z-]{1,12}$/,
};

/** Parameters named in the log with their value redacted (what they are is useful, what they carry is not). */
const SECRET_QUERY = new Set([
  "ticket",
  "token",
  "access_token",
  "api_key",
  "apikey",
  "key",
  "password",
  "secret",
  "auth",
]);

/** Query parameters written for one URL at most; the rest are counted. */
const MAX_LOGGED_PARAMS = 16;
/** Path characters written for one URL at most. */
const MAX_LOGGED_PATH = 256;

/**
 * A request URL as the log shows it: the path, then each query parameter as `name=value` only when its
 * name is known to be harmless and its value has the expected shape; `ticket=[redacted]` (and so on)
 * for known secret parameters; `[redacted]` for anything else.
 *
 * Names and values are decoded the way the router does (fast-querystring: `+` is a space, then
 * percent-decoding), so `?%74icket=`, `?TICKET=`, `ticket=%41…`, repeated keys and `;`-separated
 * parameters (which the router does not split, but a client may mean) all end up redacted. The path
 * ends at the first `?`, `#` or `;`, encoded or not: everything after it counts as parameters.
 */
export function urlForLog(url: string): string {
  const delimiter = /[?#;]|%3f|%23|%3b/i.exec(url);
  const rawPath = delimiter ? url.slice(0, delimiter.index) : url;
  const path =
    rawPath.length > MAX_LOGGED_PATH
      ? `${rawPath.slice(0, MAX_LOGGED_PATH)}[…${rawPath.length} chars]`
      : rawPath;
  if (!delimiter) return path;
  const params = url
    .slice(delimiter.index + delimiter[0].length)
    .split(/[&;?#]/)
    .filter((part) => part !== "");
  if (params.length === 0) return path;
  const shown = params.slice(0, MAX_LOGGED_PARAMS).map(paramForLog);
  if (params.length > MAX_LOGGED_PARAMS) shown.push(`[…${params.length - MAX_LOGGED_PARAMS} more]`);
  return `${path}?${shown.join("&")}`;
}

function paramForLog(param: string): string {
  const eq = param.indexOf("=");
  const name = decodeQueryPart(eq < 0 ? param : param.slice(0, eq));
  const value = eq < 0 ? undefined : decodeQueryPart(param.slice(eq + 1));
  const shape = Object.hasOwn(LOGGED_QUERY, name) ? LOGGED_QUERY[name] : undefined;
  if (shape && value !== undefined && shape.test(value)) return `${name}=${value}`;
  const lower = name.toLowerCase();
  if (shape || SECRET_QUERY.has(lower)) return `${shape ? name : lower}=${REDACTED}`;
  return REDACTED;
}

/** fast-querystring's decoding: `+` is a space, then percent-decoding; malformed escapes stay as they are. */
function decodeQueryPart(text: string): string {
  const plain = text.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plain);
  } catch {
    return plain;
  }
}

/** The request as log lines show it: no headers, the URL through urlForLog. */
export function requestForLog(req: {
  method?: string;
  url?: string;
  hostname?: string;
  remoteAddress?: string;
}): {
  method?: string | undefined;
  url?: string | undefined;
  hostname?: string | undefined;
  remoteAddress?: string | undefined;
} {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : urlForLog(req.url),
    hostname: req.hostname,
    remoteAddress: req.remoteAddress,
  };
}

/** Serializers of the daemon's loggers: `req` and `headers` fields never carry a secret. */
export const LOG_SERIALIZERS = { req: requestForLog, headers: redactHeaders };

/** How log lines look: `pretty` for a person at a terminal, `json` (one object a line) for a collector. */
export type LogFormat = "pretty" | "json";

/** CELLBENCH_LOG_FORMAT names no format. */
export class LogFormatError extends CellbenchError {
  constructor(given: string) {
    super(
      "LOG_FORMAT_INVALID",
      `CELLBENCH_LOG_FORMAT must be pretty or json, got "${given}"; unset it for pretty on a terminal and json otherwise`,
    );
  }
}

/** The log format: CELLBENCH_LOG_FORMAT when set, else pretty when stdout is a terminal and json otherwise. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTty: boolean = process.stdout.isTTY === true,
): LogFormat {
  const forced = env.CELLBENCH_LOG_FORMAT;
  if (forced === undefined || forced === "") return stdoutIsTty ? "pretty" : "json";
  if (forced === "pretty" || forced === "json") return forced;
  throw new LogFormatError(forced);
}

/**
 * pino-pretty as a pino transport: it formats in a worker thread, so the sampling loop's log calls cost
 * what JSON costs (serialising into a shared buffer), never the formatting or the terminal's writes.
 * Colours only on a terminal, and not when NO_COLOR is set.
 */
export function prettyTransport(
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTty: boolean = process.stdout.isTTY === true,
): pino.TransportSingleOptions {
  return {
    target: "pino-pretty",
    options: {
      destination: 1,
      colorize: stdoutIsTty && !env.NO_COLOR,
      translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
      ignore: "pid,hostname",
      singleLine: true,
    },
  };
}

/**
 * Creates the daemon's root logger; secrets never reach the output. With a destination, JSON lines go
 * there; otherwise to stdout in `format` (default: logFormat()).
 */
export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream; format?: LogFormat } = {},
): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? process.env.CELLBENCH_LOG_LEVEL ?? "info",
    redact: LOG_REDACT,
    serializers: LOG_SERIALIZERS,
  };
  if (options.destination) return pino(settings, options.destination);
  // A silent logger (tests, mostly) needs no formatter thread.
  if (settings.level === "silent") return pino(settings);
  const format = options.format ?? logFormat();
  return format === "pretty" ? pino({ ...settings, transport: prettyTransport() }) : pino(settings);
}
