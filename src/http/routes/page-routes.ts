/**
 * The live page (GET /) and its files (GET /assets/<name>): the page's own HTML, script and style
 * from src/http/live-page/, and uPlot's from node_modules. Every file is read once, when the routes
 * are registered; a request names one of those files or gets 404, so no request path reaches the
 * file system. GET /api/v1/session tells the page who it is (role) and where Grafana is.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import type { Principal } from "../auth.js";
import { errorResponses } from "../schemas.js";
import type { App, ServerContext } from "../server.js";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * The page loads nothing from elsewhere and runs no inline code. Styles: uPlot sizes its elements
 * through the CSSOM (allowed); Grafana is only linked to.
 */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

/** A name under /assets/ that is not one of the page's files. */
export class PageFileNotFoundError extends CellbenchError {
  constructor(name: string) {
    super("NOT_FOUND", `the live page has no file ${JSON.stringify(name.slice(0, 100))}; open the page at /`);
  }
}

/** The page's files could not be read at start-up (the API works without them). */
export class PageUnavailableError extends CellbenchError {
  constructor(why: string) {
    super(
      "PAGE_UNAVAILABLE",
      `the live page's files could not be read at start-up (${why}); reinstall (npm ci) and restart the daemon`,
    );
  }
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const SessionView = Type.Object({
  bench: Type.String(),
  role: Type.Union([Type.Literal("viewer"), Type.Literal("operator"), Type.Literal("admin")]),
  anonymous: Type.Boolean({ description: "Admitted without a token (auth.anonymous)" }),
  grafana_url: Type.Union([Type.String(), Type.Null()], {
    description: "Grafana's base URL (grafana.url); a run's `dashboard` path is relative to it",
  }),
});

/** GET /, GET /assets/:name and GET /api/v1/session. */
export function registerPageRoutes(app: App, ctx: ServerContext): void {
  const files = loadPageFiles();
  if (files instanceof Error) app.log.error({ err: files }, "the live page's files could not be read");

  const send = (request: FastifyRequest, reply: FastifyReply, name: string) => {
    if (files instanceof Error) throw new PageUnavailableError(files.message);
    const asset = files.get(name);
    if (!asset) throw new PageFileNotFoundError(name);
    void reply.header("etag", asset.etag).header("cache-control", "no-cache");
    if (asset.type.startsWith("text/html"))
      void reply.header("content-security-policy", PAGE_CSP).header("referrer-policy", "no-referrer");
    if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  app.get("/", { schema: { hide: true } }, async (request, reply) => send(request, reply, "index.html"));
  app.get<{ Params: { name: string } }>("/assets/:name", { schema: { hide: true } }, async (request, reply) =>
    send(request, reply, request.params.name),
  );

  app.get(
    "/api/v1/session",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Who the caller is (role, admitted without a token) and where Grafana is, for the live page",
        tags: ["system"],
        security: [{ bearer: [] }],
        response: { 200: SessionView, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const principal = request.principal as Principal;
      return {
        bench: ctx.config.bench,
        role: principal.role,
        anonymous: principal.anonymous === true,
        grafana_url: ctx.config.grafana?.url ?? null,
      };
    },
  );
}

/** The page's files by the name they are served under, or why they could not be read. */
function loadPageFiles(): Map<string, Asset> | Error {
  try {
    const files = new Map<string, Asset>();
    const dir = pageDir();
    for (const name of readdirSync(dir)) {
      const type = CONTENT_TYPES[extname(name)];
      if (type) files.set(name, asset(readFileSync(join(dir, name)), type));
    }
    const require = createRequire(import.meta.url);
    files.set("uplot.js", asset(readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js")), ".js"));
    files.set("uplot.css", asset(readFileSync(require.resolve("uplot/dist/uPlot.min.css")), ".css"));
    if (!files.has("index.html")) return new Error(`${dir} has no index.html`);
    return files;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function asset(body: Buffer, typeOrExt: string): Asset {
  const type = CONTENT_TYPES[typeOrExt] ?? typeOrExt;
  return { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

/**
 * src/http/live-page beside this module's folder; from the build (dist/src/http/routes) the same
 * folder of the source tree, since tsc copies no assets.
 */
function pageDir(): string {
  const beside = join(import.meta.dirname, "..", "live-page");
  if (existsSync(beside)) return beside;
  return join(import.meta.dirname, "..", "..", "..", "..", "src", "http", "live-page");
}
