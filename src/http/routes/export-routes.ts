import { Readable } from "node:stream";
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import { StorageUnavailableError } from "../http-errors.js";
import { ExportQuery, errorResponses, RunIdParams } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];

/** Run export: a run's logged samples as CSV. */
export function registerExportRoutes(app: App, ctx: ServerContext): void {
  app.get(
    "/api/v1/runs/:id/data",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Export a run's logged samples as Battery Data Format CSV",
        tags: ["runs"],
        security: bearer,
        params: RunIdParams,
        querystring: ExportQuery,
        produces: ["text/csv"],
        response: {
          200: { content: { "text/csv": { schema: Type.String() } } },
          ...errorResponses(400, 401, 403, 404, 502, 503),
        },
      },
    },
    async (request, reply) => {
      const info = ctx.runs.get(request.params.id);
      const storage = ctx.storage;
      if (!storage) throw new StorageUnavailableError();
      const chamber = ctx.bench.channels.get(info.channel)?.chamberId;
      const abort = new AbortController();
      request.raw.on("close", () => abort.abort());
      const chunks = storage.exportRunCsv({
        run: info.id,
        ...(chamber ? { chamber } : {}),
        signal: abort.signal,
      });
      // Read the header and the first page before answering, so a failing query is still a problem response.
      const first: string[] = [];
      for (let i = 0; i < 2; i++) {
        const next = await chunks.next();
        if (next.done) break;
        first.push(next.value);
      }
      async function* all(): AsyncGenerator<string> {
        yield* first;
        yield* chunks;
      }
      return (reply as FastifyReply)
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${info.id}.csv"`)
        .send(Readable.from(all()));
    },
  );
}
