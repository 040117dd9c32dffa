import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { type SseMessage, SseParser } from "./sse-parser.js";

/** An error answer of the API: the problem's code and detail. */
export class ApiError extends CellbenchError {
  constructor(
    code: string,
    readonly status: number,
    detail: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(
      code,
      issues.length > 1 ? `${detail}\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}` : detail,
    );
  }
}

export class ServerUnreachableError extends CellbenchError {
  constructor(url: string, reason: string) {
    super(
      "SERVER_UNREACHABLE",
      `cannot reach the cellbench daemon at ${url} (${reason}); is it running? Set --url or CELLBENCH_URL`,
    );
  }
}

export interface ApiClientOptions {
  url: string;
  token?: string | undefined;
  /** Per-request timeout for non-streaming calls, ms (default 30 s). */
  timeoutMs?: number;
}

/** A thin client of the cellbench HTTP API: JSON in and out, problems thrown as ApiError. */
export class ApiClient {
  readonly base: string;

  constructor(private readonly options: ApiClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
  }

  async get<T>(path: string): Promise<T> {
    return (await this.send<T>("GET", path)).body;
  }

  async post<T>(
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    return this.send<T>("POST", path, body, headers);
  }

  /** Posts text as it is (a YAML file), not as JSON. */
  async postText<T>(path: string, text: string, contentType: string): Promise<T> {
    return (await this.send<T>("POST", path, new RawBody(text, contentType))).body;
  }

  async put<T>(path: string, body?: unknown): Promise<T> {
    return (await this.send<T>("PUT", path, body)).body;
  }

  async delete<T>(path: string): Promise<T> {
    return (await this.send<T>("DELETE", path)).body;
  }

  /**
   * Follows a Server-Sent Events stream until the server ends it (or `signal` aborts). A dropped
   * connection is resumed with Last-Event-ID, up to `maxReconnects` times in a row.
   */
  async *events(
    path: string,
    options: { signal?: AbortSignal; maxReconnects?: number; lastEventId?: string } = {},
  ): AsyncGenerator<SseMessage> {
    let lastEventId = options.lastEventId ?? "";
    let failures = 0;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, {
          headers: {
            accept: "text/event-stream",
            ...this.auth(),
            ...(lastEventId ? { "last-event-id": lastEventId } : {}),
          },
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        if (options.signal?.aborted) return;
        if (++failures > (options.maxReconnects ?? 5)) throw this.unreachable(err);
        await delay(500 * failures);
        continue;
      }
      if (response.status === 204) return;
      if (!response.ok) throw await apiError(response);
      const parser = new SseParser();
      parser.lastEventId = lastEventId;
      const decoder = new TextDecoder();
      let ended = false;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
            failures = 0;
            yield message;
          }
        }
        ended = true;
      } catch (err) {
        if (options.signal?.aborted) return;
        if (++failures > (options.maxReconnects ?? 5)) throw this.unreachable(err);
      }
      lastEventId = parser.lastEventId;
      if (ended) return;
      await delay(parser.retryMs ?? 1000);
    }
  }

  private async send<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          accept: "application/json",
          ...this.auth(),
          ...(body instanceof RawBody
            ? { "content-type": body.contentType }
            : body !== undefined
              ? { "content-type": "application/json" }
              : {}),
          ...headers,
        },
        ...(body instanceof RawBody
          ? { body: body.text }
          : body !== undefined
            ? { body: JSON.stringify(body) }
            : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    if (!response.ok) throw await apiError(response);
    return { status: response.status, body: (await response.json()) as T };
  }

  private auth(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }

  private unreachable(err: unknown): ServerUnreachableError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
    return new ServerUnreachableError(this.base, reason);
  }
}

class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const problem = JSON.parse(text) as { code?: unknown; detail?: unknown; issues?: unknown };
    if (typeof problem.code === "string" && typeof problem.detail === "string") {
      const issues = Array.isArray(problem.issues)
        ? (problem.issues as { path: string; message: string }[])
        : [];
      return new ApiError(problem.code, response.status, problem.detail, issues);
    }
  } catch {
    // not a problem document
  }
  return new ApiError(
    `HTTP_${response.status}`,
    response.status,
    `the server answered ${response.status} ${response.statusText}: ${text.slice(0, 200)}`,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
