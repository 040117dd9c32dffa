import { Type } from "@sinclair/typebox";
import { RequestInvalidError } from "../http-errors.js";
import { ChannelParams, QueueEntryParams, QueueRunBody, QueueView } from "../queue-batch-schemas.js";
import { queueView } from "../queue-batch-views.js";
import { DEFAULT_CONTROL_RATE_LIMIT } from "../rate-limits.js";
import { readCell } from "../request-input.js";
import { parseRequestProfile, withProfileField } from "../run-request.js";
import { errorResponses, RunView } from "../schemas.js";
import type { App, ServerContext } from "../server.js";
import { runView } from "../views.js";

const bearer = [{ bearer: [] }];

/** Channel queues: runs that start one after the other, each when the one before completed. */
export function registerQueueRoutes(app: App, ctx: ServerContext): void {
  const limit = ctx.options.controlRateLimit ?? DEFAULT_CONTROL_RATE_LIMIT;
  const rateLimit = { max: limit.max, timeWindow: limit.windowMs };
  const now = () => ctx.bench.clock.wallNow();

  app.post(
    "/api/v1/channels/:id/queue",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Queue a run on a channel (the body of POST /api/v1/runs)",
        description:
          "Validated now as a run start is (profile against the cell, the channel and its chamber): a bad one is refused at once. " +
          "It starts at once when the channel is free and its queue not held, else when the run before it completes. " +
          "Answers 201 with the run (state queued, or running when it started), its id kept when it starts.",
        tags: ["queues"],
        security: bearer,
        params: ChannelParams,
        body: QueueRunBody,
        response: { 201: Type.Ref(RunView), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const channel = request.params.id;
      const body = request.body;
      if (body.channel !== undefined && body.channel !== channel)
        throw new RequestInvalidError([
          {
            path: "body.channel",
            message: `names ${body.channel} but the path names ${channel}; leave it out`,
          },
        ]);
      ctx.bench.channel(channel);
      // The channel's mounted cell, if any, must be the one named (the registry's rules for runs).
      const cell = ctx.cells.cellForRun(channel, readCell(body.cell, "body.cell"));
      const parsed = await parseRequestProfile(ctx, body, request.principal?.id ?? "anonymous");
      const id = ctx.ids.next(now());
      const info = await withProfileField(parsed.field, () =>
        ctx.queues.add(
          {
            channel,
            cell,
            profile: parsed.profile,
            profileSource: parsed.source,
            ...(parsed.profileId ? { profileId: parsed.profileId } : {}),
            ...(body.temperature_override ? { temperatureOverride: body.temperature_override.reason } : {}),
          },
          id,
        ),
      );
      request.log.info({ run: id, channel, state: info.state, by: request.principal?.role }, "run queued");
      return reply.code(201).header("location", `/api/v1/runs/${id}`).send(runView(info, now()));
    },
  );

  app.get(
    "/api/v1/channels/:id/queue",
    {
      config: { role: "viewer" },
      schema: {
        summary: "A channel's queue: its runs in order, and why it is held if it is",
        tags: ["queues"],
        security: bearer,
        params: ChannelParams,
        response: { 200: QueueView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => queueView(ctx.queues.queue(request.params.id), now()),
  );

  app.delete(
    "/api/v1/channels/:id/queue",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Empty a channel's queue (the run on the channel, if any, goes on)",
        tags: ["queues"],
        security: bearer,
        params: ChannelParams,
        response: { 200: QueueView, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      request.log.info({ channel: request.params.id, by: request.principal?.role }, "run queue cleared");
      return queueView(ctx.queues.clear(request.params.id), now());
    },
  );

  app.post(
    "/api/v1/channels/:id/queue/resume",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Lift a queue's hold: its next run starts now if the channel is free",
        description:
          "A start that is refused (its code and detail answered) holds the queue again, the run still first in it.",
        tags: ["queues"],
        security: bearer,
        params: ChannelParams,
        response: { 200: QueueView, ...errorResponses(400, 401, 403, 404, 409, 422, 429) },
      },
    },
    async (request) => {
      request.log.info({ channel: request.params.id, by: request.principal?.role }, "run queue resumed");
      return queueView(await ctx.queues.resume(request.params.id), now());
    },
  );

  app.delete(
    "/api/v1/queue/:entry",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Cancel a queued run (it never starts)",
        tags: ["queues"],
        security: bearer,
        params: QueueEntryParams,
        response: { 200: Type.Ref(RunView), ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const info = ctx.queues.cancel(request.params.entry);
      request.log.info(
        { run: info.id, channel: info.channel, by: request.principal?.role },
        "queued run cancelled",
      );
      return runView(info, now());
    },
  );
}
