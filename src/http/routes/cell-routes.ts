import { Type } from "@sinclair/typebox";
import { type Cell, CellError } from "../../cell/cell.js";
import { parseYamlText } from "../../profile/yaml-text.js";
import {
  CellIdParams,
  CellList,
  CellView,
  MountCellBody,
  PatchCellBody,
  RegisterCellBody,
} from "../cell-schemas.js";
import { cellSummaryView, cellView } from "../cell-views.js";
import { DEFAULT_CONTROL_RATE_LIMIT } from "../rate-limits.js";
import { assertCellTypes, parseCellAt, readCell } from "../request-input.js";
import { ChannelId, errorResponses } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const bearer = [{ bearer: [] }];

/**
 * Cells as things on the bench: register, list, show, change metadata, mount on a channel.
 * (Unmounting is taking the cell out: DELETE /api/v1/channels/:id/cell, safety-routes.ts.)
 */
export function registerCellRoutes(app: App, ctx: ServerContext): void {
  const limit = ctx.options.controlRateLimit ?? DEFAULT_CONTROL_RATE_LIMIT;
  const rateLimit = { max: limit.max, timeWindow: limit.windowMs };

  app.post(
    "/api/v1/cells",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Register a cell: its limits (checked against its chemistry) and metadata",
        description:
          "The body is the cell document: JSON (types checked strictly), or the YAML/JSON text of a cell file " +
          "sent as application/yaml (read as leniently as cell files: `lot: 7`, `id: 0042`).",
        tags: ["cells"],
        security: bearer,
        body: RegisterCellBody,
        response: { 201: CellView, ...errorResponses(400, 401, 403, 409, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { document, cell } = readCellDocument(request.body);
      const info = ctx.cells.register(document, cell);
      request.log.info({ cell: info.stored.id, by: request.principal?.role }, "cell registered");
      void reply.code(201).header("location", `/api/v1/cells/${encodeURIComponent(info.stored.id)}`);
      return cellView(info);
    },
  );

  app.get(
    "/api/v1/cells",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Registered cells, where they are mounted and what their history adds up to",
        tags: ["cells"],
        security: bearer,
        response: { 200: CellList, ...errorResponses(401, 403) },
      },
    },
    async () => ({ cells: ctx.cells.list().map(cellSummaryView) }),
  );

  app.get(
    "/api/v1/cells/:id",
    {
      config: { role: "viewer" },
      schema: {
        summary: "A cell: limits, metadata, where it is mounted, its runs, cycles, Ah and capacity",
        tags: ["cells"],
        security: bearer,
        params: CellIdParams,
        response: { 200: CellView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => cellView(ctx.cells.get(request.params.id)),
  );

  app.patch(
    "/api/v1/cells/:id",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Change a cell's metadata (its limits only while it has no runs)",
        tags: ["cells"],
        security: bearer,
        params: CellIdParams,
        body: PatchCellBody,
        response: { 200: CellView, ...errorResponses(400, 401, 403, 404, 409, 415, 422, 429) },
      },
    },
    async (request) => {
      const changes = request.body as Record<string, unknown>;
      // null removes a key; what is set is checked as strictly as any JSON cell.
      assertCellTypes(Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== null)), "body");
      const info = ctx.cells.patch(request.params.id, changes, (document) => parseCellAt(document, "body"));
      request.log.info(
        { cell: info.stored.id, keys: Object.keys(changes), by: request.principal?.role },
        "cell changed",
      );
      return cellView(info);
    },
  );

  app.put(
    "/api/v1/channels/:id/cell",
    {
      config: { role: "operator", rateLimit },
      schema: {
        summary: "Mount a registered cell on this channel; runs on it then use that cell",
        description:
          "Refused while the channel holds another cell (mounted, or still inside its chamber after a run) " +
          "and while the cell is on another channel: DELETE /api/v1/channels/:id/cell records that a cell was taken out.",
        tags: ["bench", "cells"],
        security: bearer,
        params: Type.Object({ id: ChannelId }, { additionalProperties: false }),
        body: MountCellBody,
        response: { 200: CellView, ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const info = ctx.cells.mount(request.body.cell, request.params.id);
      request.log.info(
        { cell: info.stored.id, channel: request.params.id, by: request.principal?.role },
        "cell mounted",
      );
      return cellView(info);
    },
  );
}

/** The cell document of a registration: a JSON object, or the text of a cell file. */
function readCellDocument(body: unknown): { document: Record<string, unknown>; cell: Cell } {
  if (typeof body !== "string")
    return { document: body as Record<string, unknown>, cell: readCell(body, "body") };
  const parsed = parseYamlText(body);
  if (!parsed.ok)
    throw new CellError(
      parsed.errors.map((e) => ({ path: "body", message: `not valid YAML/JSON: ${e}` })),
      "body",
    );
  const cell = parseCellAt(parsed.value, "body");
  return { document: parsed.value as Record<string, unknown>, cell };
}
