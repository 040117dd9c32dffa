/**
 * Errors as RFC 9457 problem details (`application/problem+json`): every error the API returns has
 * a stable `code`, an HTTP status from ONE table (ERROR_STATUS) and a `detail` saying what to change.
 */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { HttpProtocolError, type RequestIssue } from "./http-errors.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  issues?: RequestIssue[];
}

/** HTTP status and title of every error code the API may answer with. Unknown codes are 500. */
export const ERROR_STATUS: Readonly<Record<string, { status: number; title: string }>> = {
  REQUEST_INVALID: { status: 400, title: "The request is malformed" },
  IDEMPOTENCY_KEY_INVALID: { status: 400, title: "The Idempotency-Key header is malformed" },
  EXPORT_FORMAT_INVALID: { status: 400, title: "Unsupported export format" },
  UNAUTHORIZED: { status: 401, title: "Authentication required" },
  FORBIDDEN: { status: 403, title: "The token's role does not allow this" },
  NOT_FOUND: { status: 404, title: "No such resource" },
  UNKNOWN_RUN: { status: 404, title: "No such run" },
  UNKNOWN_CHANNEL: { status: 404, title: "No such channel" },
  UNKNOWN_CHAMBER: { status: 404, title: "No such chamber" },
  UNKNOWN_PROFILE: { status: 404, title: "No such stored profile" },
  QUEUE_ENTRY_UNKNOWN: { status: 404, title: "No such queued run" },
  UNKNOWN_BATCH: { status: 404, title: "No such batch" },
  CELL_UNKNOWN: { status: 404, title: "No such registered cell" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  NOT_ACCEPTABLE: { status: 406, title: "Not acceptable" },
  RUN_INVALID_TRANSITION: { status: 409, title: "The run cannot make this transition" },
  CHANNEL_BUSY: { status: 409, title: "The channel is running another test" },
  CHAMBER_OWNED: { status: 409, title: "The chamber is driven by another run" },
  SOC_UNKNOWN: { status: 409, title: "The cell's state of charge cannot be read now" },
  CHANNEL_FAULTED: { status: 409, title: "The channel holds an uncleared fault" },
  CHAMBER_SETPOINT_REFUSED: { status: 409, title: "A cell inside the chamber does not allow this set point" },
  CHAMBER_LATCHED: { status: 409, title: "The chamber is in safe state after a safety fault" },
  SPEED_REAL_HARDWARE: { status: 409, title: "Speed-up is only for simulated benches" },
  PROFILE_STORE_FULL: { status: 409, title: "The profile store is full" },
  CELL_EXISTS: { status: 409, title: "A cell with this id is already registered" },
  CELL_MOUNTED_ELSEWHERE: { status: 409, title: "The cell is on another channel" },
  CHANNEL_HAS_CELL: { status: 409, title: "The channel holds another cell" },
  NO_CELL_MOUNTED: { status: 409, title: "The channel has no cell mounted" },
  CELL_NOT_MOUNTED: { status: 409, title: "The registered cell is not mounted on this channel" },
  CELL_SPEC_MISMATCH: { status: 409, title: "The cell sent differs from the registered cell" },
  CELL_LIMITS_LOCKED: { status: 409, title: "The limits of a cell with runs cannot change" },
  BODY_TOO_LARGE: { status: 413, title: "The request body is too large" },
  URI_TOO_LONG: { status: 414, title: "The URL is too long" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  PROFILE_INVALID: { status: 422, title: "The profile is invalid" },
  BATCH_CHANNELS_INVALID: { status: 422, title: "A batch needs two or more distinct channels" },
  BATCH_CHANNELS_NOT_IN_ONE_CHAMBER: { status: 422, title: "A batch's channels must share one chamber" },
  PROFILE_TOO_COSTLY: { status: 422, title: "Checking the profile exceeded its time or memory budget" },
  CELL_INVALID: { status: 422, title: "The cell is invalid" },
  TEMPERATURE_UNMEASURED: { status: 422, title: "The channel measures no cell temperature" },
  TEMPERATURE_SENSOR_FAULT: { status: 409, title: "A temperature sensor of the channel has failed" },
  STEP_STRING_INVALID: { status: 422, title: "A step string is invalid" },
  QUANTITY_INVALID: { status: 422, title: "A quantity is invalid" },
  DRIVE_CYCLE_INVALID: { status: 422, title: "A drive cycle is invalid" },
  SETPOINT_OUT_OF_RANGE: { status: 422, title: "A set point is outside the instrument's range" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "The Idempotency-Key was used for a different request" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  TOO_MANY_CONCURRENT: { status: 429, title: "This token has too many of these requests in progress" },
  HEADERS_TOO_LARGE: { status: 431, title: "Request headers too large" },
  INTERNAL: { status: 500, title: "Internal error" },
  EXPORT_QUERY_FAILED: { status: 502, title: "InfluxDB did not answer the export query" },
  STORAGE_UNAVAILABLE: { status: 503, title: "No storage configured" },
  PAGE_UNAVAILABLE: { status: 503, title: "The live page's files could not be read" },
  DRY_RUN_BUSY: { status: 503, title: "The dry-run simulator is busy" },
  SERVER_BUSY: { status: 503, title: "The daemon is at its limit for this kind of request" },
  SIM_BAD_OPTIONS: { status: 422, title: "The simulator cannot model this cell" },
  SIM_NOT_CONNECTED: { status: 503, title: "A simulated device is not connected" },
  TRANSPORT_CLOSED: { status: 503, title: "An instrument connection is closed" },
  TRANSPORT_DISCONNECTED: { status: 503, title: "An instrument is disconnected" },
  TRANSPORT_WRITE_FAILED: { status: 503, title: "Writing to an instrument failed" },
  SCPI_DEVICE_ERROR: { status: 503, title: "An instrument reported an error" },
  SCPI_BAD_REPLY: { status: 503, title: "An instrument answered unexpectedly" },
};

/** Returns the HTTP status for an error code (500 for codes the table does not know). */
export function statusOfCode(code: string): number {
  return ERROR_STATUS[code]?.status ?? 500;
}

/** Turns a code into the problem `type` URI (`urn:cellbench:problem:unknown-run`). */
export function problemType(code: string): string {
  return `urn:cellbench:problem:${code.toLowerCase().replaceAll("_", "-")}`;
}

/** Builds the problem document for a code and detail. */
export function problem(code: string, detail: string, instance: string, issues?: RequestIssue[]): Problem {
  const entry = ERROR_STATUS[code];
  const status = entry?.status ?? 500;
  const body: Problem = {
    type: problemType(code),
    title: entry?.title ?? "Error",
    status,
    detail,
    code,
    instance,
  };
  if (issues && issues.length > 0) body.issues = issues;
  return body;
}

/** Fastify error codes raised before a handler runs, with the code and message the API uses instead. */
const FASTIFY_CODES: Record<string, { code: string; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: "BODY_TOO_LARGE",
    detail:
      "the request body is larger than this API accepts; send a smaller profile (store long ones once with POST /api/v1/profiles)",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "UNSUPPORTED_MEDIA_TYPE",
    detail: "send the body as application/json (or a profile as application/yaml or text/plain)",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "REQUEST_INVALID",
    detail: "Content-Length does not match the body",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: "REQUEST_INVALID",
    detail:
      "the body is empty but Content-Type says JSON; send a JSON object or drop the Content-Type header",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "REQUEST_INVALID" },
  FST_ERR_CTP_INVALID_TYPE: { code: "UNSUPPORTED_MEDIA_TYPE" },
  FST_ERR_NOT_FOUND: { code: "NOT_FOUND" },
};

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: AjvIssue[];
  validationContext?: string;
}

/** Maps anything thrown while handling a request to a problem document plus extra headers. */
export function problemOf(
  err: unknown,
  instance: string,
): { problem: Problem; headers: Record<string, string>; expected: boolean } {
  if (err instanceof HttpProtocolError) {
    const body = problem(err.code, err.message, instance);
    body.status = err.status;
    return { problem: body, headers: err.headers, expected: true };
  }
  if (err instanceof CellbenchError) {
    const issues = issuesOf(err);
    const body = problem(err.code, detailOf(err, issues), instance, issues);
    const retryAfterS = (err as CellbenchError & { retryAfterS?: unknown }).retryAfterS;
    const headers: Record<string, string> =
      typeof retryAfterS === "number" ? { "retry-after": String(retryAfterS) } : {};
    if (err.code === "UNAUTHORIZED") headers["www-authenticate"] = 'Bearer realm="cellbench"';
    return { problem: body, headers, expected: body.status < 500 || typeof retryAfterS === "number" };
  }
  const e = err as FastifyLikeError;
  if (e && Array.isArray(e.validation)) {
    const issues = validationIssues(e.validation, e.validationContext ?? "body");
    const first = issues[0];
    const detail = first ? `${first.path}: ${first.message}` : "the request does not match the schema";
    return { problem: problem("REQUEST_INVALID", detail, instance, issues), headers: {}, expected: true };
  }
  const status = typeof e?.statusCode === "number" ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
    const code =
      mapped?.code ?? (status === 429 ? "RATE_LIMITED" : status === 404 ? "NOT_FOUND" : "REQUEST_INVALID");
    const body = problem(code, mapped?.detail ?? e.message, instance);
    body.status = status;
    return { problem: body, headers: {}, expected: true };
  }
  return {
    problem: problem(
      "INTERNAL",
      "the server failed to handle this request; the error is in its log",
      instance,
    ),
    headers: {},
    expected: false,
  };
}

function issuesOf(err: CellbenchError): RequestIssue[] | undefined {
  const issues = (err as CellbenchError & { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  return issues.flatMap((i: unknown) => {
    if (typeof i === "string") return [{ path: "", message: i }];
    const issue = i as { path?: unknown; message?: unknown };
    if (typeof issue?.message !== "string") return [];
    return [{ path: typeof issue.path === "string" ? issue.path : "", message: issue.message }];
  });
}

function detailOf(err: CellbenchError, issues: RequestIssue[] | undefined): string {
  if (!issues || issues.length === 0) return err.message;
  const first = issues[0] as RequestIssue;
  const line = first.path ? `${first.path}: ${first.message}` : first.message;
  return issues.length === 1
    ? line
    : `${line} (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""}, see issues)`;
}

/** Turns Ajv errors into issues naming the field (`body.cell`, `query.state`). */
export function validationIssues(errors: AjvIssue[], context: string): RequestIssue[] {
  const byPath = new Map<string, RequestIssue>();
  const typesAt = new Map<string, string[]>();
  for (const e of errors) {
    const base = `${context}${pointerToPath(e.instancePath)}`;
    if (e.keyword === "type") {
      const list = typesAt.get(base) ?? [];
      list.push(String(e.params.type));
      typesAt.set(base, list);
    }
  }
  for (const e of errors) {
    const base = `${context}${pointerToPath(e.instancePath)}`;
    let path = base;
    let message = e.message ?? "is invalid";
    switch (e.keyword) {
      case "required":
        path = `${base}.${String(e.params.missingProperty)}`;
        message = "missing; add it";
        break;
      case "additionalProperties":
        path = `${base}.${String(e.params.additionalProperty)}`;
        message = "unknown field; remove it or check its spelling";
        break;
      case "enum":
        message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        break;
      case "anyOf": {
        const types = typesAt.get(base);
        message = types
          ? `must be ${[...new Set(types)].map(article).join(" or ")}`
          : "matches none of the allowed forms";
        byPath.set(path, { path, message });
        continue;
      }
      case "type":
        message = `must be ${article(String(e.params.type))}`;
        break;
    }
    if (!byPath.has(path)) byPath.set(path, { path, message });
  }
  return [...byPath.values()];
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function pointerToPath(pointer: string): string {
  if (!pointer) return "";
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("");
}
