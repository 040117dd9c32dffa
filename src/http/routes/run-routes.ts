import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import type { RunState } from "../../run/records.js";
import type { StoredResponse } from "../idempotency.js";
import { PROBLEM_CONTENT_TYPE, problemOf } from "../problem.js";
import { profileInput } from "../profile-resolve.js";
import { DEFAULT_CONTROL_RATE_LIMIT } from "../rate-limits.js";
import { readCell } from "../request-input.js";
import { withProfileField } from "../run-request.js";
import {
  CreateRunBody,
  EmergencyStopBody,
  EmergencyStopResult,
  errorResponses,
  IdempotencyHeaders,
  RunIdParams,
  RunList,
  RunListQuery,
  RunView,
} from "../schemas.js";
import type { App, ServerContext } from "../server.js";
import { runView } from "../views.js";

const bearer = [{ bearer: [] }];
const ACTIONS = ["pause", "resume", "stop", "abort", "clear"] as const;
const ACTION_SUMMARY: Record<(typeof ACTIONS)[number], string> = {
  pause: "Pause a running run (output to rest; counters kept)",
  resume: "Resume a paused or interrupted run",
  stop: "Stop a run (ends as stopped)",
  abort: "Abort a run (ends as aborted)",
  clear: "Clear the latched fault of a faulted run so its channel can start another run",
};

/** Runs: create, list, detail, control; emergency stop. (Export: export-routes.ts.) */
export function registerRunRoutes(app: App, ctx: ServerContext): void {
  const limit = ctx.options.controlRateLimit ?? DEFAULT_CONTROL_RATE_LIMIT;
  const rateLimit = { max: limit.max, timeWindow: limit.windowMs };
  const driveCycleDir = ctx.options.driveCycleDir;
  // A queued run (channel queues) is a run too, until it starts under the same id.
  const view = (id: string) => runView(ctx.queues.info(id), ctx.bench.clock.wallNow());

  app.post(
    "/api/v1/runs",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary:
          "Start a run: a channel, a profile (inline or a stored profile_id) and the cell mounted on the channel or one inline",
        description:
          "The profile is validated against the cell's envelope and the channel's ranges before anything touches hardware. " +
          "A retry with the same Idempotency-Key and body returns the first response; the same key with another body is refused (422).",
        tags: ["runs"],
        security: bearer,
        headers: IdempotencyHeaders,
        body: CreateRunBody,
        response: {
          201: Type.Ref(RunView),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const token = request.principal?.id ?? "anonymous";
      const create = async (): Promise<StoredResponse> => {
        try {
          ctx.bench.channel(body.channel);
          const inline = body.cell === undefined ? undefined : readCell(body.cell, "body.cell");
          ctx.cells.cellForRun(body.channel, inline);
          const { value, profileId, field } = profileInput(body, ctx.profiles);
          const parsed = await ctx.profileLimit.run(token, () =>
            ctx.work.run("parse", { value, field, driveCycleDir }),
          );
          const id = ctx.ids.next(ctx.bench.clock.wallNow());
          const request = {
            channel: body.channel,
            // Again after the parse: the mount may have changed meanwhile; from here to the run's attach nothing awaits.
            cell: ctx.cells.cellForRun(body.channel, inline),
            profile: parsed.profile,
            profileSource: { source: parsed.source, driveCycleDir },
            ...(profileId ? { profileId } : {}),
            ...(body.temperature_override ? { temperatureOverride: body.temperature_override.reason } : {}),
          };
          const info = await withProfileField(field, () => ctx.runs.create(request, id));
          return {
            status: 201,
            body: runView(info, ctx.bench.clock.wallNow()),
            headers: {
              location: `/api/v1/runs/${info.id}`,
              "content-type": "application/json; charset=utf-8",
            },
          };
        } catch (err) {
          if (!(err instanceof CellbenchError)) throw err;
          const { problem, headers, expected } = problemOf(err, "/api/v1/runs");
          if (!expected) throw err;
          return {
            status: problem.status,
            body: problem,
            headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
          };
        }
      };
      const key = request.headers["idempotency-key"];
      const result = key
        ? await ctx.idempotency.run(request.principal?.id ?? "anonymous", key, body, create)
        : { ...(await create()), replayed: false };
      const raw = reply as FastifyReply;
      if (result.replayed) void raw.header("idempotent-replayed", "true");
      void raw.code(result.status).headers(result.headers);
      if (result.status >= 400) {
        request.log.info({ code: (result.body as { code?: string }).code }, "run not created");
        return raw.send(JSON.stringify(result.body));
      }
      return raw.send(result.body);
    },
  );

  app.get(
    "/api/v1/runs",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Runs, optionally only those in one state",
        tags: ["runs"],
        security: bearer,
        querystring: RunListQuery,
        response: { 200: RunList, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const state = request.query.state as RunState | undefined;
      const now = ctx.bench.clock.wallNow();
      const queued = state === undefined || state === "queued" ? ctx.queues.list() : [];
      return { runs: [...ctx.runs.list(state), ...queued].map((info) => runView(info, now)) };
    },
  );

  app.get(
    "/api/v1/runs/:id",
    {
      config: { role: "viewer" },
      schema: {
        summary:
          "A run: state, step path and text, cycle, elapsed times, Ah/Wh, last sample, progress and ETA",
        tags: ["runs"],
        security: bearer,
        params: RunIdParams,
        response: { 200: Type.Ref(RunView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => view(request.params.id),
  );

  for (const action of ACTIONS) {
    app.post(
      `/api/v1/runs/:id/${action}`,
      {
        config: { role: "operator", rateLimit },
        schema: {
          summary: ACTION_SUMMARY[action],
          description:
            "Answers 200 with the run in its new state, 409 when the run's state does not allow this.",
          tags: ["runs"],
          security: bearer,
          params: RunIdParams,
          response: { 200: Type.Ref(RunView), ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request) => {
        const info = await ctx.runs.control(request.params.id, action);
        request.log.info(
          { run: info.id, action, state: info.state, by: request.principal?.role },
          "run control",
        );
        return runView(info, ctx.bench.clock.wallNow());
      },
    );
  }

  app.post(
    "/api/v1/emergency-stop",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Every channel to safe state; every active run faulted",
        tags: ["runs"],
        security: bearer,
        body: Type.Optional(EmergencyStopBody),
        response: { 200: EmergencyStopResult, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const given = request.body?.reason?.trim();
      const reason = given ? `emergency stop: ${given}` : "emergency stop (API)";
      request.log.warn({ by: request.principal?.role, reason }, "emergency stop");
      const faulted = await ctx.runs.emergencyStop(reason);
      const now = ctx.bench.clock.wallNow();
      return {
        faulted: faulted.map((info) => runView(ctx.runs.get(info.id), now)),
        channels_safe: ctx.bench.channels.size,
      };
    },
  );
}
