/**
 * The HTTP API (DESIGN §7): fastify with TypeBox schemas on every route, OpenAPI at /docs/json,
 * problem+json errors, bearer tokens with roles, rate limits on control routes, live events.
 *
 *   const app = await buildServer({ bench, runs, store, storage, config, logger });
 *   await app.listen({ host: config.http.host, port: config.http.port });
 *   ...
 *   await app.close();   // ends live streams, closes the profile store it opened
 */
import fastifyCors from "@fastify/cors";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifySwagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import type { Bench } from "../bench/bench.js";
import { CellRegistry } from "../cell/cell-registry.js";
import { CellStore } from "../cell/cell-store.js";
import type { AnonymousRole, BenchConfig, RateLimitConfig, Role } from "../config/load-config.js";
import { LOG_REDACT, LOG_SERIALIZERS, type Logger, redactHeaders } from "../log.js";
import { ProfileStore } from "../profile-store/profile-store.js";
import { Batches } from "../run/batch.js";
import { BatchStore } from "../run/batch-store.js";
import { QueueStore } from "../run/queue-store.js";
import type { RunManager } from "../run/run-manager.js";
import { RunQueues } from "../run/run-queue.js";
import type { RunStore } from "../run/run-store.js";
import type { Storage } from "../storage/storage.js";
import { type Principal, TokenAuthenticator } from "./auth.js";
import { EventHub } from "./event-hub.js";
import "./fastify-types.js";
import { ProfileWork } from "../work/profile-work.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { HttpProtocolError, UnauthorizedError } from "./http-errors.js";
import { IdempotencyCache } from "./idempotency.js";
import { BenchMetrics } from "./metrics.js";
import { PROBLEM_CONTENT_TYPE, problem, problemOf } from "./problem.js";
import { assertDepth } from "./request-input.js";
import { registerBatchRoutes } from "./routes/batch-routes.js";
import { registerCellRoutes } from "./routes/cell-routes.js";
import { registerEventRoutes } from "./routes/event-routes.js";
import { registerExportRoutes } from "./routes/export-routes.js";
import { registerPageRoutes } from "./routes/page-routes.js";
import { registerProfileRoutes } from "./routes/profile-routes.js";
import { registerQueueRoutes } from "./routes/queue-routes.js";
import { registerRecordRoutes } from "./routes/record-routes.js";
import { registerRunRoutes } from "./routes/run-routes.js";
import { registerSafetyRoutes } from "./routes/safety-routes.js";
import { registerSystemRoutes } from "./routes/system-routes.js";
import { RunIdGenerator } from "./run-ids.js";
import { ProblemSchema, RunView } from "./schemas.js";
import type { SseStream } from "./sse-stream.js";
import { StreamTickets } from "./stream-tickets.js";
import { TurnGate } from "./turn-gate.js";

export interface HttpOptions {
  /**
   * Largest request body, bytes (default 256 KiB: a profile of the 5000 steps a profile may hold).
   * The body is parsed on the daemon's loop before the profile worker gets it: this bounds that.
   */
  bodyLimitBytes?: number;
  /** Samples per second per run on live streams (default 1; 0 = every sample). */
  sampleRateHz?: number;
  /** SSE heartbeat comment period, ms (default 15 s). */
  heartbeatMs?: number;
  /** Requests per window per client on routes that change things (default DEFAULT_CONTROL_RATE_LIMIT). */
  controlRateLimit?: RateLimitConfig;
  /** Profile checks (dry runs) per window per client (default DEFAULT_CHECK_RATE_LIMIT). */
  checkRateLimit?: RateLimitConfig;
  /** Origins allowed by CORS; none (the default) leaves CORS off. */
  corsOrigins?: string[];
  /** Requests handled per second, all clients together (default DEFAULT_REQUESTS_PER_SECOND); more wait their turn. */
  requestsPerSecond?: number;
  /** Role of requests without a token (config auth.anonymous); by default they are refused (401). */
  anonymousRole?: AnonymousRole;
  /** Folder from which API profiles may read drive-cycle CSV files; by default they may not. */
  driveCycleDir?: string;
  /** Limits of the dry run behind POST /api/v1/profiles/check. */
  dryRun?: { maxSamples?: number; maxConcurrent?: number; maxQueued?: number };
  /**
   * Live event streams (SSE): open streams per token (default 8) and in total (default 64); beyond them
   * 429 / 503 with Retry-After. A client that leaves 64 KiB unread, or stays back-pressured for 10 s,
   * is dropped with a reason; a Last-Event-ID replay sends at most the newest 512 events (128 KiB).
   */
  streams?: { perToken?: number; total?: number };
  /**
   * Profile parses (POST /api/v1/runs, /profiles) and checks on the profile worker: per token
   * (default 2, waiting ones included), in total (default 4) and waiting (default 8).
   */
  profileWork?: { perToken?: number; total?: number; maxQueued?: number };
  /** Run exports (CSV/BDF) in progress at once: per token (default 2; beyond: 429 TOO_MANY_CONCURRENT) and in total (default 4; beyond: 503 SERVER_BUSY), both with Retry-After: 10. */
  exports?: { perToken?: number; total?: number };
}

export interface ServerDeps {
  bench: Bench;
  runs: RunManager;
  store: RunStore;
  storage?: Storage;
  config: BenchConfig;
  logger: Logger;
  /** Metrics the daemon also feeds (lateness, device errors); created when absent. */
  metrics?: BenchMetrics;
  /** Stored profiles; opened on config.store (and closed with the server) when absent. */
  profiles?: ProfileStore;
  /** The profile worker (parsing, validation, dry runs off the sampling loop); started (and closed with the server) when absent. */
  work?: ProfileWork;
  /** Channel queues and batches; opened on config.store (and closed with the server) when absent. */
  queues?: RunQueues;
  batches?: Batches;
  /** Registered cells and their mounts; opened on config.store (and closed with the server) when absent. */
  cells?: CellRegistry;
  options?: HttpOptions;
}

/** What route handlers share. */
export interface ServerContext {
  bench: Bench;
  runs: RunManager;
  queues: RunQueues;
  batches: Batches;
  storage: Storage | undefined;
  config: BenchConfig;
  profiles: ProfileStore;
  cells: CellRegistry;
  work: ProfileWork;
  /** Profile parses and checks in progress, per token and in total. */
  profileLimit: ConcurrencyLimit;
  hub: EventHub;
  metrics: BenchMetrics;
  ids: RunIdGenerator;
  idempotency: IdempotencyCache;
  auth: TokenAuthenticator;
  streams: Set<SseStream>;
  tickets: StreamTickets;
  options: HttpOptions;
  startedMs: number;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Builds the API server, not listening: the caller listens (config.http) and closes it. Plugins and
 * routes load on ready()/listen()/inject().
 */
export function buildServer(deps: ServerDeps): App {
  // The configuration's settings, then the caller's where it gives one.
  const given = Object.entries(deps.options ?? {}).filter(([, value]) => value !== undefined);
  const options: HttpOptions = { ...optionsOf(deps.config), ...Object.fromEntries(given) };
  // Whatever logger the caller passes: request lines show the URL through urlForLog (stream tickets and
  // other secret query parameters redacted, however encoded) and `headers` without secret values.
  const logger = deps.logger.child(
    { component: "http" },
    { redact: LOG_REDACT, serializers: LOG_SERIALIZERS },
  );
  logger.info(tokenSummary(deps.config), "API tokens");
  if (options.anonymousRole && !LOOPBACK.test(deps.config.http.host))
    logger.warn(
      { host: deps.config.http.host, anonymousRole: options.anonymousRole },
      "requests without a token may read the bench, and the API listens beyond this computer; remove auth.anonymous or listen on 127.0.0.1",
    );
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimitBytes ?? 256 * 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: true },
    },
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: (error, request, reply) => {
      const tooLong = error.code === "FST_ERR_MAX_PARAM_LENGTH";
      const body = problem(
        tooLong ? "URI_TOO_LONG" : "REQUEST_INVALID",
        tooLong
          ? "a path segment is longer than 200 characters; check the id in the URL"
          : "the URL is not valid; check its escapes",
        pathOf(request.url).slice(0, 200),
      );
      void (reply as FastifyReply).code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
    },
    clientErrorHandler: (err, socket) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ECONNRESET" || !socket.writable) {
        socket.destroy(err);
        return;
      }
      const tooLarge = code === "HPE_HEADER_OVERFLOW";
      const body = JSON.stringify(
        problem(
          tooLarge ? "HEADERS_TOO_LARGE" : "REQUEST_INVALID",
          tooLarge ? "the request headers are too large" : "the request is not valid HTTP",
          "",
        ),
      );
      socket.end(
        `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const ownProfiles = deps.profiles === undefined;
  const profiles = deps.profiles ?? new ProfileStore(deps.config.store);
  const ownCells = deps.cells === undefined;
  const cells =
    deps.cells ?? new CellRegistry(new CellStore(deps.config.store), deps.runs, deps.bench, logger);
  const ownWork = deps.work === undefined;
  const work = deps.work ?? new ProfileWork();
  const queueStore = deps.queues ? undefined : new QueueStore(deps.config.store);
  const queues =
    deps.queues ?? new RunQueues(deps.bench, deps.runs, { ...(queueStore ? { store: queueStore } : {}) });
  const batchStore = deps.batches ? undefined : new BatchStore(deps.config.store);
  const batches =
    deps.batches ?? new Batches(deps.bench, deps.runs, { ...(batchStore ? { store: batchStore } : {}) });
  const metrics = deps.metrics ?? new BenchMetrics();
  metrics.attach({ bench: deps.bench, runs: deps.runs, ...(deps.storage ? { storage: deps.storage } : {}) });
  const hub = new EventHub(deps.runs, {
    sampleRateHz: options.sampleRateHz ?? 1,
    onError: (err) => logger.warn({ err }, "live event delivery failed"),
    progress: (run) => {
      const p = deps.runs.get(run).progress;
      return p ? { fraction: p.fraction, remaining_s: p.remainingS } : null;
    },
  });
  hub.start();
  const ctx: ServerContext = {
    bench: deps.bench,
    runs: deps.runs,
    queues,
    batches,
    storage: deps.storage,
    config: deps.config,
    profiles,
    cells,
    work,
    profileLimit: new ConcurrencyLimit({
      what: "profile parses and checks",
      perToken: options.profileWork?.perToken ?? 2,
      total: options.profileWork?.total ?? 4,
      maxQueued: options.profileWork?.maxQueued ?? 8,
    }),
    hub,
    metrics,
    ids: new RunIdGenerator(
      (prefix) => deps.store.lastSequence(prefix),
      () => [...deps.runs.list().map((r) => r.id), ...queues.ids()],
    ),
    idempotency: new IdempotencyCache(),
    auth: new TokenAuthenticator(deps.config.tokens, options.anonymousRole),
    streams: new Set(),
    tickets: new StreamTickets(),
    options,
    startedMs: performance.now(),
  };

  app.decorateRequest("principal", null);
  app.decorate("liveClients", () => hub.listenerCount);
  app.addSchema(ProblemSchema);
  app.addSchema(RunView);

  app.setErrorHandler((err, request, reply) => {
    const { problem: body, headers, expected } = problemOf(err, pathOf(request.url));
    if (expected) request.log.info({ code: body.code, status: body.status }, body.detail);
    else request.log.error({ err }, "request failed");
    void reply.code(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) => {
    const body = problem(
      "NOT_FOUND",
      `no route ${request.method} ${pathOf(request.url)}; the API is described at /docs/json`,
      pathOf(request.url),
    );
    void reply.code(404).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });

  app.addHook("onRequest", async (request) => {
    const role = request.routeOptions.config?.role;
    if (!role) return;
    let principal: Principal;
    try {
      principal =
        ticketPrincipal(request) ?? ctx.auth.authenticate(request.headers.authorization, request.ip);
    } catch (err) {
      // The headers help to debug a client; credentials and secret-named headers are redacted.
      request.log.debug({ headers: redactHeaders(request.headers) }, "authentication failed");
      throw err;
    }
    ctx.auth.authorize(principal, role);
    request.principal = principal;
  });
  /** A stream route's `?ticket=`, when no Authorization header is sent: its principal, or 401. */
  function ticketPrincipal(request: FastifyRequest): Principal | undefined {
    if (!request.routeOptions.config?.streamTicket || request.headers.authorization !== undefined)
      return undefined;
    const ticket = (request.query as { ticket?: unknown } | undefined)?.ticket;
    if (typeof ticket !== "string") return undefined;
    const principal = ctx.tickets.redeem(ticket);
    if (!principal)
      throw new UnauthorizedError(
        "the stream ticket is unknown or has expired; POST /api/v1/stream-tickets with your token for a new one",
      );
    return principal;
  }

  // After authentication and body parsing, before the handler: one request's handler per loop turn.
  const turns = new TurnGate(options.requestsPerSecond);
  app.addHook("preHandler", (_request, _reply, done) => turns.pass(done));
  app.addHook("preValidation", async (request) => {
    if (request.body !== null && typeof request.body === "object") assertDepth(request.body, "body");
  });
  app.addHook("onSend", async (request, reply, payload) => {
    void reply.header("x-content-type-options", "nosniff");
    if (request.url.startsWith("/api/")) void reply.header("cache-control", "no-store");
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    metrics.countRequest(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode);
  });
  app.addHook("preClose", async () => {
    for (const stream of [...ctx.streams]) stream.end();
    hub.stop();
  });
  app.addHook("onClose", async () => {
    if (ownProfiles) profiles.close();
    if (ownCells) cells.close();
    if (ownWork) await work.close();
    if (queueStore) {
      queues.close();
      queueStore.close();
    }
    if (batchStore) {
      batches.close();
      batchStore.close();
    }
  });

  app.addContentTypeParser(
    ["application/yaml", "application/x-yaml", "text/yaml"],
    { parseAs: "string" },
    (_request, body, done) => done(null, body),
  );

  void app.register(fastifySwagger, {
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "cellbench API",
        description:
          "Battery cell-test bench: runs, profiles, live events. Errors are application/problem+json with a stable code. Current: positive = charge.",
        version: "1",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          ticket: {
            type: "apiKey",
            in: "query",
            name: "ticket",
            description:
              "A stream ticket from POST /api/v1/stream-tickets (for EventSource, which cannot send headers)",
          },
        },
      },
    },
  });
  void app.register(fastifyRateLimit, {
    global: false,
    keyGenerator: (request) => request.principal?.id ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new HttpProtocolError(
        "RATE_LIMITED",
        context.statusCode,
        `more than ${context.max} such requests in the rate window; retry in ${context.after}`,
      ),
  });
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    void app.register(fastifyCors, { origin: options.corsOrigins, credentials: false });
  }

  // Routes load after the plugins above, so the rate limiter and OpenAPI see every one of them.
  void app.register((instance, _options, done) => {
    const api = instance.withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
    registerSystemRoutes(api, ctx);
    registerProfileRoutes(api, ctx);
    registerRunRoutes(api, ctx);
    registerQueueRoutes(api, ctx);
    registerBatchRoutes(api, ctx);
    registerExportRoutes(api, ctx);
    registerRecordRoutes(api, ctx);
    registerSafetyRoutes(api, ctx);
    registerCellRoutes(api, ctx);
    registerEventRoutes(api, ctx);
    registerPageRoutes(api, ctx);
    done();
  });
  return app;
}

/** Hosts that only this computer reaches. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

/** The HTTP options the bench configuration sets (http.cors, http.rateLimit, http.requestsPerSecond, auth.anonymous); the caller's options win. */
function optionsOf(config: BenchConfig): HttpOptions {
  const { corsOrigins, rateLimit, requestsPerSecond } = config.http;
  return {
    ...(corsOrigins ? { corsOrigins } : {}),
    ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
    ...(rateLimit?.control ? { controlRateLimit: rateLimit.control } : {}),
    ...(rateLimit?.check ? { checkRateLimit: rateLimit.check } : {}),
    ...(config.anonymousRole ? { anonymousRole: config.anonymousRole } : {}),
  };
}

/** Where the API tokens came from and how many of each role: never the tokens. */
function tokenSummary(config: BenchConfig): Record<string, unknown> {
  const tokenRoles: Partial<Record<Role, number>> = {};
  for (const { role } of config.tokens) tokenRoles[role] = (tokenRoles[role] ?? 0) + 1;
  const source = config.tokenSource ?? { from: "file" };
  return {
    tokenSource: source.from,
    ...(source.from === "CELLBENCH_TOKENS" ? { fileTokensReplaced: source.fileTokensReplaced } : {}),
    tokenRoles,
    anonymousRole: config.anonymousRole ?? null,
  };
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(0, q) : url;
}
