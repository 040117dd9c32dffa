import type { Profile } from "../profile/ast.js";
import { ProfileError } from "../profile/profile-error.js";
import { profileInput } from "./profile-resolve.js";
import { prefixProfileError } from "./request-input.js";
import type { ServerContext } from "./server.js";

/** A request's profile (inline or stored), parsed on the profile worker, with the field its issues name. */
export interface ParsedRequestProfile {
  profile: Profile;
  profileId: string | undefined;
  /** `body.profile`, or `profile P…` for a stored one. */
  field: string;
  source: { source: string; driveCycleDir?: string | undefined };
}

/** Parses the profile of a run, queue or batch request off the sampling loop (bounded per token). */
export async function parseRequestProfile(
  ctx: ServerContext,
  body: { profile?: unknown; profile_id?: string },
  token: string,
): Promise<ParsedRequestProfile> {
  const driveCycleDir = ctx.options.driveCycleDir;
  const { value, profileId, field } = profileInput(body, ctx.profiles);
  const parsed = await ctx.profileLimit.run(token, () =>
    ctx.work.run("parse", { value, field, driveCycleDir }),
  );
  return { profile: parsed.profile, profileId, field, source: { source: parsed.source, driveCycleDir } };
}

/** Runs `fn`; a profile error it throws names the request's profile field (`body.profile.steps[2]`). */
export async function withProfileField<T>(field: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProfileError) throw prefixProfileError(err, field);
    throw err;
  }
}
