import { Type } from "@sinclair/typebox";
import { BenchJson } from "../bench-json.js";
import { configView } from "../config-view.js";
import { BenchView, type BenchViewT, ConfigView, errorResponses, HealthView } from "../schemas.js";
import type { App, ServerContext } from "../server.js";
import { clockView, linkView } from "../views.js";

const bearer = [{ bearer: [] }];
const JSON_TYPE = "application/json; charset=utf-8";

/** GET /health, /metrics, /docs, /docs/json, /api/v1/bench and /api/v1/config. */
export function registerSystemRoutes(app: App, ctx: ServerContext): void {
  const benchJson = new BenchJson();
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness and readiness: devices sampling, InfluxDB reachable, outbox backlog (public)",
        tags: ["system"],
        response: { 200: HealthView, 503: HealthView },
      },
    },
    async (_request, reply) => {
      const health = healthOf(ctx);
      return reply.code(health.status === "failing" ? 503 : 200).send(health);
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics (public; no run ids as labels)",
        tags: ["system"],
        produces: ["text/plain"],
        response: { 200: { content: { "text/plain": { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.render();
      return reply.type(ctx.metrics.contentType).send(text);
    },
  );

  // The document is fixed once the routes are registered: serialised once (117 KB of JSON, a
  // millisecond or more of the loop per request of this public route otherwise).
  let docsJson: string | undefined;
  app.get("/docs/json", { schema: { hide: true } }, async (_request, reply) => {
    docsJson ??= JSON.stringify(app.swagger());
    return reply.type(JSON_TYPE).send(docsJson);
  });
  app.get("/docs", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .send(
        '<!doctype html><meta charset="utf-8"><title>cellbench API</title><p>The OpenAPI document of this API is at <a href="/docs/json">/docs/json</a>.</p>',
      ),
  );

  app.get(
    "/api/v1/bench",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Channels, chambers and devices with their state and last sample",
        tags: ["bench"],
        security: bearer,
        response: { 200: BenchView, ...errorResponses(401, 403) },
      },
    },
    async (_request, reply) => {
      const text = benchJson.render(ctx.bench, (channel) => ctx.cells.mountOn(channel)?.cell);
      // Already JSON (BenchView): fastify sends a string with a JSON content type as it is.
      return reply.type(JSON_TYPE).send(text as unknown as BenchViewT);
    },
  );

  app.get(
    "/api/v1/config",
    {
      config: { role: "admin" },
      schema: {
        summary: "The daemon's effective bench configuration, every secret shown as *** (admin)",
        description:
          "Defaults applied and CELLBENCH_TOKENS / INFLUX_* overrides included. API tokens show their role only; " +
          "the InfluxDB password and token, credentials in URLs and secret-named driver options read as ***.",
        tags: ["system"],
        security: bearer,
        response: { 200: ConfigView, ...errorResponses(401, 403) },
      },
    },
    async () => configView(ctx.config),
  );
}

function healthOf(ctx: ServerContext) {
  const { bench } = ctx;
  const now = bench.clock.now();
  const staleAfterMs = Math.max(5 * ctx.config.samplingPeriodMs, 1000);
  const problems: string[] = [];
  const devices = bench.devices.map((device) => {
    const times: number[] = [];
    let readErrors = 0;
    for (const ch of device.channels) {
      const slot = bench.channels.get(ch.id);
      if (slot?.latest) times.push(slot.latest.tMonoMs);
      readErrors += slot?.readErrors ?? 0;
    }
    for (const slot of bench.chambers.values()) {
      if (slot.device !== device) continue;
      if (slot.latest) times.push(slot.latest.tMonoMs);
      readErrors += slot.readErrors;
    }
    const oldest = times.length > 0 ? Math.min(...times) : undefined;
    const age = oldest === undefined ? null : Math.max(0, (now - oldest) / 1000);
    const fresh = age !== null && age * 1000 <= staleAfterMs;
    if (!fresh) problems.push(`device ${device.id} has no fresh sample`);
    const link = linkView(bench.links.of(device.id));
    if (link.state !== "up")
      problems.push(
        `device ${device.id} link ${link.state === "down" ? "down" : "back but the instrument is unusable"} since ${link.since}: ${link.reason}`,
      );
    return {
      id: device.id,
      driver: device.driver,
      read_errors: readErrors,
      last_sample_age_s: age,
      fresh,
      link,
    };
  });
  let storage = null;
  if (ctx.storage) {
    const s = ctx.storage.status();
    storage = {
      influx_reachable: s.influx.reachable,
      backlog_rows: s.backlog.rows,
      backlog_points: s.backlog.points,
      oldest_unsent_age_s: s.backlog.oldestUnsentAgeS,
      catching_up: s.backlog.catchingUp,
      dead_letters: s.deadLetters.total,
      unencodable: s.unencodable.sinceStart,
    };
    if (s.influx.reachable === false)
      problems.push("InfluxDB is unreachable; samples are spooled in the outbox");
    if (s.deadLetters.total > 0)
      problems.push(`${s.deadLetters.total} lines were refused by InfluxDB (dead letters)`);
    if (s.unencodable.sinceStart > 0)
      problems.push(
        `${s.unencodable.sinceStart} records could not be encoded and are not stored (last: ${s.unencodable.lastMessage})`,
      );
  }
  for (const chamber of bench.chambers.values())
    if (chamber.latched)
      problems.push(`chamber ${chamber.id} in safe state after a safety fault: ${chamber.latched}`);
  for (const run of ctx.runs.list("faulted"))
    if (!run.cleared)
      problems.push(`run ${run.id} on ${run.channel} faulted (latched until cleared): ${run.reason}`);
  const allStale = devices.length > 0 && devices.every((d) => !d.fresh);
  const status: "ok" | "degraded" | "failing" = allStale
    ? "failing"
    : problems.length > 0
      ? "degraded"
      : "ok";
  return {
    status,
    problems,
    bench: ctx.config.bench,
    uptime_s: (performance.now() - ctx.startedMs) / 1000,
    clock: clockView(bench.clock),
    runs_active: ctx.runs.activeRuns().length,
    devices,
    storage,
  };
}
