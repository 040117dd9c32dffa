import { Type } from "@sinclair/typebox";
import { ChannelId, errorResponses } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];

/**
 * What only an operator can tell the supervisor: a cell was taken out of its chamber (it no longer
 * bounds the chamber's set points), and a chamber's safety latch may be lifted.
 */
export function registerSafetyRoutes(app: App, ctx: ServerContext): void {
  app.delete(
    "/api/v1/channels/:id/cell",
    {
      config: { role: "operator" },
      schema: {
        summary:
          "The cell on this channel was taken out of its chamber, and is no longer mounted (refused while a run drives it)",
        tags: ["bench"],
        security: bearer,
        params: Type.Object({ id: ChannelId }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            channel: Type.String(),
            cell: Type.Union([Type.String(), Type.Null()], {
              description: "The cell taken out, null if none",
            }),
          }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const removed = ctx.cells.unmount(request.params.id);
      request.log.info({ ...removed, by: request.principal?.role }, "cell taken out of its chamber");
      return removed;
    },
  );

  app.post(
    "/api/v1/chambers/:id/clear",
    {
      config: { role: "operator" },
      schema: {
        summary:
          "Lifts a chamber's safety latch once the cause is dealt with; its set points are accepted again",
        tags: ["bench"],
        security: bearer,
        params: Type.Object({ id: ChannelId }, { additionalProperties: false }),
        response: {
          200: Type.Object({ chamber: Type.String(), was: Type.Union([Type.String(), Type.Null()]) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const was = ctx.bench.chambers.get(request.params.id)?.latched ?? null;
      ctx.bench.clearChamber(request.params.id);
      request.log.warn(
        { chamber: request.params.id, was, by: request.principal?.role },
        "chamber latch cleared",
      );
      return { chamber: request.params.id, was };
    },
  );
}
