import { readFileSync } from "node:fs";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse as parseYaml } from "yaml";
import type { DeviceConfig } from "../../drivers/capabilities.js";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { parseDuration } from "../profile/step-string.js";
import { parseRetention, type SchemaOptions } from "../storage/influx-schema.js";
import { ID_PATTERN, ID_RULE } from "../storage/tag-values.js";
import { ConfigSchema, type RawConfig } from "./config-schema.js";

export class ConfigError extends CellbenchError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super("CONFIG_INVALID", `${source}: invalid configuration:\n  ${issues.join("\n  ")}`);
  }
}

export type Role = "viewer" | "operator" | "admin";

/**
 * The role requests without a token may be given (auth.anonymous): viewer only. Anyone who reaches
 * the port would otherwise start and stop runs on the bench; operators use tokens.
 */
export type AnonymousRole = "viewer";

/** At most `max` requests per `windowMs` per client. */
export interface RateLimitConfig {
  max: number;
  windowMs: number;
}

export interface BenchConfig {
  source: string;
  bench: string;
  http: {
    host: string;
    port: number;
    /** Origins allowed by CORS (http.cors.origins); absent: CORS off. */
    corsOrigins?: string[];
    /** http.rateLimit: control routes and profile checks (absent: the server's defaults). */
    rateLimit?: { control?: RateLimitConfig; check?: RateLimitConfig };
    /** http.requestsPerSecond: requests the API handles per second, all clients together (absent: the server's default). */
    requestsPerSecond?: number;
  };
  influx?: {
    url: string;
    database: string;
    username?: string;
    password?: string;
    token?: string;
    /** influx.catchUpPointsPerSecond: pace of a backlog (absent: the forwarder's default). */
    catchUpPointsPerSecond?: number;
    /** Retention policies from influx.retention (absent: the defaults, raw kept forever). */
    schema?: SchemaOptions;
  };
  store: string;
  devices: DeviceConfig[];
  chambers: { id: string; device: string; channels: string[]; sensors?: SensorRef[] }[];
  /** The temperature sensors on each channel's cell (channels without any are absent). */
  cellSensors?: Record<string, SensorRef[]>;
  samplingPeriodMs: number;
  /** A channel without a fresh sample this long goes to safe state (default 5 periods, at least 1 s). */
  watchdogMs?: number;
  /** sampling.realtime_priority: SCHED_FIFO priority of the sampling thread (absent: nice only). */
  realtimePriority?: number;
  tokens: { role: Role; token: string }[];
  /** auth.anonymous: the role of requests without a token; absent: they are refused (401). */
  anonymousRole?: AnonymousRole;
  /** Grafana's base URL without a trailing slash (grafana.url); the live page links runs to it. */
  grafana?: { url: string };
  /**
   * Where `tokens` came from: the file's auth.tokens, or CELLBENCH_TOKENS, which replaces them whole
   * (fileTokensReplaced counts the file's tokens left unused). Absent: the file.
   */
  tokenSource?: { from: "file" } | { from: "CELLBENCH_TOKENS"; fileTokensReplaced: number };
}

/** A temperature input of a sensor device: `{ device: "daq1", input: "101" }`. */
export interface SensorRef {
  device: string;
  input: string;
}

/** How a sensor is named in errors, logs and record fields: `daq1:101`. */
export const sensorName = (s: SensorRef) => `${s.device}:${s.input}`;

/** Parses "100 ms", "1 s", "2 min" (the profile language's durations) or a bare number of milliseconds. */
export function parseDurationMs(value: string | number, where: string): number {
  if (typeof value === "number") return value;
  try {
    return parseDuration(value) * 1000;
  } catch {
    throw new Error(`${where}: "${value}" is not a duration; write e.g. "100 ms", "1 s" or "2 min"`);
  }
}

/** Reads, validates and normalises a bench configuration file; environment variables override secrets and URLs. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): BenchConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}); check --config`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid YAML: ${(err as Error).message}`]);
  }
  return normaliseConfig(raw, path, env);
}

export function normaliseConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = {}): BenchConfig {
  const schemaIssues = schemaErrors(raw);
  if (schemaIssues.length > 0) throw new ConfigError(source, schemaIssues);
  const config = raw as RawConfig;
  const issues: string[] = [];

  const channelOwner = new Map<string, string>();
  const deviceIds = new Set(config.devices.map((d) => d.id));
  const seenDevices = new Set<string>();
  const cellSensors: Record<string, SensorRef[]> = {};
  /** Where each sensor is used, so a second use names the first. */
  const sensorUse = new Map<string, string>();
  const readSensors = (refs: readonly { device: string; input: string | number }[], where: string) =>
    refs.map((ref, k) => {
      const sensor = { device: ref.device, input: String(ref.input) };
      const at = `${where}[${k}]`;
      if (!deviceIds.has(sensor.device))
        issues.push(`${at}.device: no device "${sensor.device}"; name a sensor device listed under devices`);
      const first = sensorUse.get(sensorName(sensor));
      if (first)
        issues.push(
          `${at}: input ${sensor.input} of "${sensor.device}" is already used at ${first}; a sensor measures one cell or chamber`,
        );
      else sensorUse.set(sensorName(sensor), at);
      return sensor;
    });
  const devices: DeviceConfig[] = [];
  for (const [i, d] of config.devices.entries()) {
    if (seenDevices.has(d.id))
      issues.push(`devices[${i}].id: device id "${d.id}" is used twice; give each device its own id`);
    seenDevices.add(d.id);
    const channels: string[] = [];
    for (const [j, entry] of (d.channels ?? []).entries()) {
      const ch = typeof entry === "string" ? entry : entry.id;
      const other = channelOwner.get(ch);
      if (other)
        issues.push(
          other === d.id
            ? `devices[${i}].channels: channel "${ch}" is listed twice; list each channel once`
            : `devices[${i}].channels: channel "${ch}" is already provided by device "${other}"; rename one`,
        );
      channelOwner.set(ch, d.id);
      channels.push(ch);
      if (typeof entry !== "string" && entry.temperature)
        cellSensors[ch] = readSensors(entry.temperature, `devices[${i}].channels[${j}].temperature`);
    }
    const { channels: _entries, ...rest } = d;
    devices.push({ ...rest, ...(d.channels ? { channels } : {}) });
  }
  const chamberSensors = (config.chambers ?? []).map((c, i) =>
    c.sensors ? readSensors(c.sensors, `chambers[${i}].sensors`) : undefined,
  );
  const chamberOfChannel = new Map<string, string>();
  for (const [i, c] of (config.chambers ?? []).entries()) {
    if (!deviceIds.has(c.device))
      issues.push(`chambers[${i}].device: no device "${c.device}"; use one of the ids under devices`);
    for (const ch of c.channels) {
      if (!channelOwner.has(ch))
        issues.push(`chambers[${i}].channels: no channel "${ch}"; list channels that a device provides`);
      const other = chamberOfChannel.get(ch);
      if (other)
        issues.push(
          `chambers[${i}].channels: channel "${ch}" is already in chamber "${other}"; a channel sits in one chamber`,
        );
      chamberOfChannel.set(ch, c.id);
    }
  }
  let samplingPeriodMs = 100;
  let watchdogMs: number | undefined;
  try {
    if (config.sampling) samplingPeriodMs = parseDurationMs(config.sampling.period, "sampling.period");
    if (samplingPeriodMs < 10) {
      issues.push(`sampling.period: ${samplingPeriodMs} ms is too short; use at least 10 ms`);
    }
    if (config.sampling?.watchdog !== undefined) {
      watchdogMs = parseDurationMs(config.sampling.watchdog, "sampling.watchdog");
      if (watchdogMs < 2 * samplingPeriodMs) {
        issues.push(
          `sampling.watchdog: ${watchdogMs} ms would trip between samples; use at least two periods (${2 * samplingPeriodMs} ms)`,
        );
      }
    }
  } catch (err) {
    issues.push((err as Error).message);
  }
  // CELLBENCH_TOKENS, when set and not empty, replaces the file's auth.tokens (it does not add to them).
  const fileTokens = config.auth?.tokens ?? [];
  let tokens = fileTokens.map((t) => ({ ...t }));
  let tokenSource: NonNullable<BenchConfig["tokenSource"]> = { from: "file" };
  if (env.CELLBENCH_TOKENS !== undefined && env.CELLBENCH_TOKENS !== "") {
    const parsed = parseTokensEnv(env.CELLBENCH_TOKENS);
    issues.push(...parsed.issues);
    tokens = parsed.tokens;
    tokenSource = { from: "CELLBENCH_TOKENS", fileTokensReplaced: fileTokens.length };
  }
  const anonymous = config.auth?.anonymous;
  if (anonymous !== undefined && anonymous !== "viewer")
    issues.push(
      `auth.anonymous: ${shorten(anonymous)} is not allowed; only viewer may be given to requests without a token ` +
        "(anyone who reaches the port could otherwise start and stop runs): write `anonymous: viewer` and give operators tokens",
    );
  const corsOrigins = (config.http?.cors?.origins ?? []).filter((origin, i) => {
    const ok = ORIGIN_PATTERN.test(origin);
    if (!ok)
      issues.push(
        `http.cors.origins[${i}]: ${shorten(origin)} is not an origin; write scheme, host and port only, e.g. https://grafana.lab:3000`,
      );
    return ok;
  });
  const rateLimit: NonNullable<BenchConfig["http"]["rateLimit"]> = {};
  for (const kind of ["control", "check"] as const) {
    const limit = config.http?.rateLimit?.[kind];
    if (!limit) continue;
    try {
      const windowMs = parseDurationMs(limit.window, `http.rateLimit.${kind}.window`);
      if (windowMs < 1000) issues.push(`http.rateLimit.${kind}.window: use at least 1 s`);
      rateLimit[kind] = { max: limit.max, windowMs };
    } catch (err) {
      issues.push((err as Error).message);
    }
  }
  let grafana: BenchConfig["grafana"];
  if (config.grafana) {
    const problem = grafanaUrlProblem(config.grafana.url);
    if (problem) issues.push(`grafana.url: ${problem}`);
    else grafana = { url: config.grafana.url.replace(/\/+$/, "") };
  }
  let schema: SchemaOptions | undefined;
  if (config.influx?.retention?.raw !== undefined) {
    try {
      schema = { raw: { duration: parseRetention(config.influx.retention.raw, "influx.retention.raw") } };
    } catch (err) {
      issues.push((err as Error).message);
    }
  }
  if (issues.length > 0) throw new ConfigError(source, issues);

  const influx = influxWithEnv(config.influx, env);
  return build(influx && schema ? { ...influx, schema } : influx);

  function build(influxConfig: BenchConfig["influx"]): BenchConfig {
    const result: BenchConfig = {
      source,
      bench: config.bench,
      http: {
        host: config.http?.host ?? "127.0.0.1",
        port: config.http?.port ?? 8080,
        ...(corsOrigins.length > 0 ? { corsOrigins } : {}),
        ...(Object.keys(rateLimit).length > 0 ? { rateLimit } : {}),
        ...(config.http?.requestsPerSecond !== undefined
          ? { requestsPerSecond: config.http.requestsPerSecond }
          : {}),
      },
      store: config.store ?? "./var/cellbench.db",
      devices,
      chambers: (config.chambers ?? []).map((c, i) => {
        const sensors = chamberSensors[i];
        return { id: c.id, device: c.device, channels: [...c.channels], ...(sensors ? { sensors } : {}) };
      }),
      ...(Object.keys(cellSensors).length > 0 ? { cellSensors } : {}),
      samplingPeriodMs,
      ...(watchdogMs !== undefined ? { watchdogMs } : {}),
      ...(config.sampling?.realtime_priority !== undefined
        ? { realtimePriority: config.sampling.realtime_priority }
        : {}),
      tokens,
      tokenSource,
      ...(anonymous === "viewer" ? { anonymousRole: anonymous } : {}),
      ...(grafana ? { grafana } : {}),
    };
    if (influxConfig) result.influx = influxConfig;
    return result;
  }
}

/**
 * The file's influx settings with INFLUX_URL, INFLUX_DB and INFLUX_TOKEN applied, each on its own.
 * A URL or database alone also turns storage on (defaults for the rest); a token alone does not,
 * since it names no server (the InfluxDB 2.x CLI reads the same variable).
 */
function influxWithEnv(file: RawConfig["influx"], env: NodeJS.ProcessEnv): BenchConfig["influx"] {
  if (!file && !env.INFLUX_URL && !env.INFLUX_DB) return undefined;
  const { retention: _retention, ...settings } = file ?? {
    url: "http://127.0.0.1:8086",
    database: "cellbench",
  };
  const influx: NonNullable<BenchConfig["influx"]> = settings;
  if (env.INFLUX_URL) influx.url = env.INFLUX_URL;
  if (env.INFLUX_DB) influx.database = env.INFLUX_DB;
  if (env.INFLUX_TOKEN) influx.token = env.INFLUX_TOKEN;
  return influx;
}

/** A web origin as CORS compares it: scheme, host and optional port, nothing after. */
const ORIGIN_PATTERN =
  /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

/** Why a Grafana base URL is refused, or undefined. It is shown to every reader of the page: no credentials. */
function grafanaUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${shorten(value)} is not a URL; write e.g. http://127.0.0.1:3000`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `${shorten(value)} is not an http or https URL; write e.g. http://127.0.0.1:3000`;
  if (url.username !== "" || url.password !== "")
    return "the URL carries credentials, which every reader of the live page would see; remove them";
  if (url.search !== "" || url.hash !== "")
    return "the URL has a query or fragment; give Grafana's base URL only, e.g. https://lab.example/grafana";
  return undefined;
}

/** The characters a token may have: what `Authorization: Bearer <token>` carries (printable ASCII, no space). */
const TOKEN_PATTERN = /^[\x21-\x7e]{16,512}$/;

/**
 * Parses CELLBENCH_TOKENS: comma-separated entries `<role>:<token>`.
 * - Each entry is split at its FIRST colon: the role is before it, the token is all the rest, so a
 *   token may contain colons (but not commas, which separate entries).
 * - Spaces, tabs and line breaks around an entry are ignored; none may stand inside it: the role is
 *   exactly `viewer`, `operator` or `admin`, the token 16 to 512 printable ASCII characters without
 *   spaces (what an Authorization header carries).
 * - An empty entry (`a:…,,b:…`, a trailing comma) is an error, as is any malformed entry; messages
 *   name the entry by its position and never repeat any part of it, since it may be a secret.
 */
export function parseTokensEnv(value: string): { tokens: { role: Role; token: string }[]; issues: string[] } {
  const entries = value.split(",");
  const tokens: { role: Role; token: string }[] = [];
  const issues: string[] = [];
  for (const [i, raw] of entries.entries()) {
    const where = `CELLBENCH_TOKENS: entry ${i + 1} of ${entries.length}`;
    const entry = raw.trim();
    const colon = entry.indexOf(":");
    const role = colon < 0 ? undefined : entry.slice(0, colon);
    const token = colon < 0 ? undefined : entry.slice(colon + 1);
    if (entry === "") issues.push(`${where} is empty; remove the extra comma`);
    else if (role === undefined || token === undefined)
      issues.push(`${where} has no colon; write "<viewer|operator|admin>:<token>"`);
    else if (role !== "viewer" && role !== "operator" && role !== "admin")
      issues.push(`${where}: the role before the first colon must be viewer, operator or admin`);
    else if (!TOKEN_PATTERN.test(token))
      issues.push(
        `${where}: the ${role} token must be 16 to 512 printable ASCII characters without spaces (${tokenFault(token)})`,
      );
    else tokens.push({ role, token });
  }
  return { tokens, issues };
}

/** Why a token is refused, without a word of it. */
function tokenFault(token: string): string {
  if (/\s/.test(token)) return "it has a space or line break; none may stand around the colon either";
  if (/[^\x21-\x7e]/.test(token)) return "it has a character outside printable ASCII";
  return token.length < 16 ? "it is shorter than 16" : "it is longer than 512";
}

/** Turns a JSON pointer (`/devices/0/id`) into a config path (`devices[0].id`). */
function pointerToPath(pointer: string): string {
  if (pointer === "") return "(top level)";
  return pointer
    .slice(1)
    .split("/")
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("")
    .replace(/^\./, "");
}

/** Schema errors, one per path (the first is the most useful), phrased as what to change. */
function schemaErrors(raw: unknown, schema: TSchema = ConfigSchema, prefix = ""): string[] {
  const byPath = new Map<string, string>();
  for (const e of Value.Errors(schema, raw)) {
    const path = prefix + e.path;
    if (byPath.has(path)) continue;
    // A value that may be one of several shapes (a channel id, or an object): judge it by the shape
    // it has, so the message says what is wrong with it rather than "Expected union value".
    const branches = (e.schema as { anyOf?: TSchema[] }).anyOf;
    const branch = branches?.find((b) => (b as { type?: unknown }).type === jsonType(e.value));
    if (branch) {
      for (const issue of schemaErrors(e.value, branch, path)) byPath.set(issue, issue);
      continue;
    }
    const message =
      e.message === "Expected required property"
        ? "missing; add it"
        : e.message === "Unexpected property"
          ? "unknown key; remove it or check its spelling"
          : (e.schema as { pattern?: unknown }).pattern === ID_PATTERN && typeof e.value === "string"
            ? `${shorten(e.value)} is not an id; use ${ID_RULE}`
            : e.message;
    byPath.set(path, `${pointerToPath(path)}: ${message}`);
  }
  return [...byPath.values()];
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

/** A value quoted for a message, cut after 40 characters (an id of 70,000 is not repeated whole). */
function shorten(value: string): string {
  const chars = [...value];
  return chars.length <= 40
    ? JSON.stringify(value)
    : `${JSON.stringify(chars.slice(0, 40).join(""))}… (${chars.length} characters)`;
}
