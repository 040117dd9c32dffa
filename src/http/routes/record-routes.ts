import { Type } from "@sinclair/typebox";
import { runMetadata } from "../../run/run-metadata.js";
import type { RecordKind } from "../../storage/run-records-query.js";
import { StorageUnavailableError } from "../http-errors.js";
import { errorResponses, RunIdParams } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];
/** Records per page at most (about 400 bytes each as JSON). */
export const RECORDS_PAGE_MAX = 1000;

// Query strings arrive as text (the API does not coerce types): the patterns are the ranges.
const RecordsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        pattern: "^[0-9]{1,9}$",
        description: "Only records with a higher step/cycle index (paging); default 0",
      }),
    ),
    limit: Type.Optional(
      Type.String({
        pattern: "^(?:[1-9][0-9]{0,2}|1000)$",
        description: `1 to ${RECORDS_PAGE_MAX}; default 500`,
      }),
    ),
  },
  { additionalProperties: false },
);

const RecordsPage = Type.Object({
  run: Type.String(),
  records: Type.Array(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()]))),
  next_after: Type.Union([Type.Integer(), Type.Null()], {
    description: "Pass as `after` for the next page; null when this page was the last",
  }),
});

const SUMMARY: Record<RecordKind, string> = {
  step: "A run's completed steps: type, end reason, duration, Ah, Wh, start/end V, max T, DCIR at 0.1/1/10 s",
  cycle: "A run's cycles: Ah, Wh, coulombic and energy efficiency, capacity retention, min/max T",
};

/** The run's step and cycle records, as written to InfluxDB, and its metadata (what a lab publishes). */
export function registerRecordRoutes(app: App, ctx: ServerContext): void {
  app.get(
    "/api/v1/runs/:id/metadata",
    {
      config: { role: "viewer" },
      schema: {
        summary:
          "The run's metadata: its cell (identity, chemistry, capacity, limits) and test, the BDF CSV's companion",
        tags: ["runs"],
        security: bearer,
        params: RunIdParams,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => runMetadata(ctx.runs.stored(request.params.id), ctx.bench.config.bench),
  );

  for (const kind of ["step", "cycle"] as const) {
    app.get(
      `/api/v1/runs/:id/${kind}s`,
      {
        config: { role: "viewer" },
        schema: {
          summary: SUMMARY[kind],
          description:
            "Read from InfluxDB: a record is there once the outbox has forwarded it (seconds after the step or cycle ends).",
          tags: ["runs"],
          security: bearer,
          params: RunIdParams,
          querystring: RecordsQuery,
          response: { 200: RecordsPage, ...errorResponses(400, 401, 403, 404, 502, 503) },
        },
      },
      async (request) => {
        const info = ctx.runs.get(request.params.id);
        const storage = ctx.storage;
        if (!storage) throw new StorageUnavailableError();
        const limit = Number(request.query.limit ?? 500);
        const rows = await storage.runRecords({
          kind,
          run: info.id,
          after: Number(request.query.after ?? 0),
          limit,
        });
        const index = kind === "step" ? "step_index" : "cycle_index";
        const records = rows.map((r) => ({
          ...r,
          time: typeof r.time === "number" ? new Date(r.time).toISOString() : (r.time ?? null),
        }));
        const last = rows[rows.length - 1]?.[index];
        return {
          run: info.id,
          records,
          next_after: rows.length === limit && typeof last === "number" ? last : null,
        };
      },
    );
  }
}
