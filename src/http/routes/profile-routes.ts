import { Type } from "@sinclair/typebox";
import type { StoredProfile } from "../../profile-store/profile-store.js";
import { ConcurrencyLimit } from "../concurrency-limit.js";
import { ProfileStoreFullError, UnknownProfileError } from "../http-errors.js";
import { channelRanges, profileInput } from "../profile-resolve.js";
import { DEFAULT_CHECK_RATE_LIMIT, DEFAULT_CONTROL_RATE_LIMIT } from "../rate-limits.js";
import { readCell } from "../request-input.js";
import {
  CheckProfileBody,
  CheckResult,
  errorResponses,
  ProfileIdParams,
  ProfileList,
  StoredProfileView,
  StoreProfileBody,
} from "../schemas.js";
import type { App, ServerContext } from "../server.js";
import { estimateView, iso } from "../views.js";

const bearer = [{ bearer: [] }];

/** GET/POST /api/v1/profiles, GET /api/v1/profiles/:id, POST /api/v1/profiles/check. */
export function registerProfileRoutes(app: App, ctx: ServerContext): void {
  const dryRuns = new ConcurrencyLimit({
    what: "dry runs",
    perToken: Number.POSITIVE_INFINITY,
    total: ctx.options.dryRun?.maxConcurrent ?? 1,
    maxQueued: ctx.options.dryRun?.maxQueued ?? 4,
    totalCode: "DRY_RUN_BUSY",
  });
  const maxSamples = ctx.options.dryRun?.maxSamples ?? 200_000;
  const driveCycleDir = ctx.options.driveCycleDir;
  const checkLimit = ctx.options.checkRateLimit ?? DEFAULT_CHECK_RATE_LIMIT;
  const controlLimit = ctx.options.controlRateLimit ?? DEFAULT_CONTROL_RATE_LIMIT;

  app.get(
    "/api/v1/profiles",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Stored profiles, newest first",
        tags: ["profiles"],
        security: bearer,
        response: { 200: ProfileList, ...errorResponses(401, 403) },
      },
    },
    async () => ({
      profiles: ctx.profiles.list().map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        steps: p.steps,
        created_at: iso(p.createdMs),
        sha256: p.sha256,
      })),
    }),
  );

  app.get(
    "/api/v1/profiles/:id",
    {
      config: { role: "viewer" },
      schema: {
        summary: "A stored profile with its source",
        tags: ["profiles"],
        security: bearer,
        params: ProfileIdParams,
        response: { 200: StoredProfileView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stored = ctx.profiles.get(request.params.id);
      if (!stored) throw new UnknownProfileError(request.params.id);
      return storedView(stored);
    },
  );

  app.post(
    "/api/v1/profiles",
    {
      config: { role: "operator", rateLimit: { max: controlLimit.max, timeWindow: controlLimit.windowMs } },
      schema: {
        summary: "Validate and store a profile (JSON {profile}, or the YAML text as application/yaml)",
        description: "Storing the same document twice returns the same id (200 instead of 201).",
        tags: ["profiles"],
        security: bearer,
        body: Type.Union([StoreProfileBody, Type.String({ minLength: 1 })]),
        response: {
          200: StoredProfileView,
          201: StoredProfileView,
          ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const value = typeof body === "string" ? body : body.profile;
      const field = typeof body === "string" ? "body" : "body.profile";
      const parsed = await ctx.profileLimit.run(request.principal?.id ?? "anonymous", () =>
        ctx.work.run("parse", { value, field, driveCycleDir }),
      );
      const saved = ctx.profiles.save(
        {
          name: parsed.profile.name,
          description: parsed.profile.description,
          steps: parsed.profile.steps.length,
          format: parsed.format,
          source: parsed.source,
        },
        ctx.bench.clock.wallNow(),
      );
      if (!saved) throw new ProfileStoreFullError(ctx.profiles.capacity);
      return reply
        .code(saved.created ? 201 : 200)
        .header("location", `/api/v1/profiles/${saved.profile.id}`)
        .send(storedView(saved.profile));
    },
  );

  app.post(
    "/api/v1/profiles/check",
    {
      config: { role: "viewer", rateLimit: { max: checkLimit.max, timeWindow: checkLimit.windowMs } },
      schema: {
        summary: "Validate a profile against a cell (and a channel) and dry-run it on the simulated cell",
        description:
          "Returns the expected duration, charge and energy, the estimate a run's progress and ETA come from. " +
          "Long profiles are simulated up to a budget of samples; `estimate.complete` says whether it was reached.",
        tags: ["profiles"],
        security: bearer,
        body: CheckProfileBody,
        response: { 200: CheckResult, ...errorResponses(400, 401, 403, 404, 413, 415, 422, 429, 503) },
      },
    },
    async (request) => {
      const body = request.body;
      const ranges = body.channel === undefined ? undefined : channelRanges(ctx.bench, body.channel);
      const { value, field } = profileInput(body, ctx.profiles);
      const cell = readCell(body.cell, "body.cell");
      const token = request.principal?.id ?? "anonymous";
      const result = await ctx.profileLimit.run(token, () =>
        dryRuns.run(token, () =>
          ctx.work.run("check", {
            value,
            field,
            driveCycleDir,
            cell,
            ...(ranges ? { ranges } : {}),
            samples: maxSamples,
            initialSoc: body.initial_soc ?? 0.5,
          }),
        ),
      );
      return {
        valid: true,
        profile: { name: result.name, steps: result.steps },
        cell: { id: cell.id, chemistry: cell.chemistry, capacity_ah: cell.capacityAh },
        estimate: estimateView(result.estimate, result.complete),
      };
    },
  );
}

function storedView(p: StoredProfile) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    steps: p.steps,
    created_at: iso(p.createdMs),
    sha256: p.sha256,
    format: p.format,
    source: p.source,
  };
}
