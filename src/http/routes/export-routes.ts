import { Readable } from "node:stream";
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import { describePlan, downsampledSource, type ExportPlan } from "../../storage/export-source.js";
import { resolveSchema } from "../../storage/influx-schema.js";
import { ConcurrencyLimit } from "../concurrency-limit.js";
import { StorageUnavailableError } from "../http-errors.js";
import { ExportQuery, errorResponses, RunIdParams } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];

/** Exports in progress at once per token, and in total, unless HttpOptions.exports says otherwise. */
export const DEFAULT_EXPORTS = { perToken: 2, total: 4 } as const;

/**
 * Bytes of CSV read ahead of the HTTP response: the export reads its next slice (and its next page
 * from InfluxDB) only when what it produced has gone out to the socket, so a client that reads
 * slowly, or not at all, holds the export where it is.
 */
const READ_AHEAD_BYTES = 64 * 1024;

/**
 * Run export: a run's logged samples as CSV, streamed from InfluxDB. Exports are limited per token
 * (429 TOO_MANY_CONCURRENT) and in total (503 SERVER_BUSY), both with Retry-After; a slot is held
 * until the response has ended or the client has gone, and a client that goes away aborts the query.
 */
export function registerExportRoutes(app: App, ctx: ServerContext): void {
  const limit = new ConcurrencyLimit({
    what: "exports",
    perToken: ctx.options.exports?.perToken ?? DEFAULT_EXPORTS.perToken,
    total: ctx.options.exports?.total ?? DEFAULT_EXPORTS.total,
    retryAfterS: 10,
  });

  app.get(
    "/api/v1/runs/:id/data",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Export a run's logged samples as Battery Data Format CSV",
        description:
          "Streams the run's rows in time order. Rows whose raw samples have expired come from the downsampled " +
          "long-term data: the CSV then has a last column, Data Source (`raw` or `downsampled 1m`), and the " +
          "X-Cellbench-Data-Source header says raw, downsampled or mixed. " +
          "A token may have a few exports in progress at once (429 beyond), " +
          "and the daemon serves a few in total (503 beyond); both answers carry Retry-After.",
        tags: ["runs"],
        security: bearer,
        params: RunIdParams,
        querystring: ExportQuery,
        produces: ["text/csv"],
        response: {
          200: { content: { "text/csv": { schema: Type.String() } } },
          ...errorResponses(400, 401, 403, 404, 429, 502, 503),
        },
      },
    },
    async (request, reply) => {
      const info = ctx.runs.get(request.params.id);
      const storage = ctx.storage;
      if (!storage) throw new StorageUnavailableError();
      const release = limit.acquire(request.principal?.id ?? "anonymous");
      const abort = new AbortController();
      // "close" comes when the response has ended and when the client went away first: either way the
      // slot is free again, and a query still running has no one to answer.
      const done = () => {
        release();
        if (!reply.raw.writableFinished) abort.abort();
      };
      reply.raw.once("close", done);
      if (request.raw.socket?.destroyed) done();
      try {
        const chamber = ctx.bench.channels.get(info.channel)?.chamberId;
        const influx = ctx.config.influx;
        const read: { plan: ExportPlan } = { plan: { source: "raw" } };
        const chunks = storage.exportRunCsv({
          run: info.id,
          ...(chamber ? { chamber } : {}),
          ...(influx
            ? { downsampled: downsampledSource(resolveSchema(influx.database, influx.schema)) }
            : {}),
          onPlan: (plan) => {
            read.plan = plan;
          },
          signal: abort.signal,
        });
        // Read the header and the first slice before answering, so a failing query is still a problem response.
        const first: (string | Uint8Array)[] = [];
        for (let i = 0; i < 2; i++) {
          const next = await chunks.next();
          if (next.done) break;
          first.push(next.value);
        }
        async function* all(): AsyncGenerator<string | Uint8Array> {
          yield* first;
          yield* chunks;
        }
        return (reply as FastifyReply)
          .type("text/csv; charset=utf-8")
          .header(
            "content-disposition",
            `attachment; filename="${info.id}${read.plan.source === "raw" ? "" : `.${read.plan.source}`}.csv"`,
          )
          .header("x-cellbench-data-source", read.plan.source)
          .header("x-cellbench-data-note", describePlan(read.plan))
          .send(Readable.from(all(), { objectMode: false, highWaterMark: READ_AHEAD_BYTES }));
      } catch (err) {
        release();
        throw err;
      }
    },
  );
}
