import { BatchIdParams, BatchList, BatchView, CreateBatchBody } from "../queue-batch-schemas.js";
import { batchView } from "../queue-batch-views.js";
import { DEFAULT_CONTROL_RATE_LIMIT } from "../rate-limits.js";
import { readCell } from "../request-input.js";
import { parseRequestProfile, withProfileField } from "../run-request.js";
import { errorResponses } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];

/** Batches: one profile on several channels of one chamber, meeting at every chamber step. */
export function registerBatchRoutes(app: App, ctx: ServerContext): void {
  const limit = ctx.options.controlRateLimit ?? DEFAULT_CONTROL_RATE_LIMIT;
  const rateLimit = { max: limit.max, timeWindow: limit.windowMs };
  const now = () => ctx.bench.clock.wallNow();

  app.post(
    "/api/v1/batches",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Start one profile on several channels of one chamber, sharing its chamber steps",
        description:
          "Every channel must be in the same chamber and free, and every cell must allow every chamber set point of the profile; " +
          "nothing starts unless all do. The batch owns the chamber: at each chamber step every run waits for the others " +
          "before the set point is sent, and again after the soak. A run that ends early stops taking part.",
        tags: ["batches"],
        security: bearer,
        body: CreateBatchBody,
        response: { 201: BatchView, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const members = body.channels.map((m, i) => {
        ctx.bench.channel(m.channel);
        return {
          channel: m.channel,
          cell: ctx.cells.cellForRun(m.channel, readCell(m.cell, `body.channels[${i}].cell`)),
          ...(m.temperature_override ? { temperatureOverride: m.temperature_override.reason } : {}),
        };
      });
      const parsed = await parseRequestProfile(ctx, body, request.principal?.id ?? "anonymous");
      const runIds = members.map(() => ctx.ids.next(now()));
      const info = await withProfileField(parsed.field, () =>
        ctx.batches.start(
          {
            members,
            profile: parsed.profile,
            profileSource: parsed.source,
            ...(parsed.profileId ? { profileId: parsed.profileId } : {}),
          },
          runIds,
        ),
      );
      request.log.info(
        { batch: info.id, chamber: info.chamber, runs: runIds, by: request.principal?.role },
        "batch started",
      );
      return reply.code(201).header("location", `/api/v1/batches/${info.id}`).send(batchView(info, now()));
    },
  );

  app.get(
    "/api/v1/batches",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Batches",
        tags: ["batches"],
        security: bearer,
        response: { 200: BatchList, ...errorResponses(401, 403) },
      },
    },
    async () => ({ batches: ctx.batches.list().map((b) => batchView(b, now())) }),
  );

  app.get(
    "/api/v1/batches/:id",
    {
      config: { role: "viewer" },
      schema: {
        summary: "A batch: its runs, and the chamber step each waits at for the others",
        tags: ["batches"],
        security: bearer,
        params: BatchIdParams,
        response: { 200: BatchView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => batchView(ctx.batches.get(request.params.id), now()),
  );

  for (const action of ["stop", "resume"] as const) {
    app.post(
      `/api/v1/batches/:id/${action}`,
      {
        config: { role: "operator", rateLimit },
        schema: {
          summary:
            action === "stop"
              ? "Stop every run of the batch"
              : "Resume every paused or interrupted run of the batch (after its chamber's latch was cleared)",
          tags: ["batches"],
          security: bearer,
          params: BatchIdParams,
          response: { 200: BatchView, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request) => {
        const id = request.params.id;
        const info = action === "stop" ? await ctx.batches.stop(id) : await ctx.batches.resume(id);
        request.log.info({ batch: id, action, by: request.principal?.role }, "batch control");
        return batchView(info, now());
      },
    );
  }
}
