import type { ChamberRanges, CyclerRanges } from "../../drivers/capabilities.js";
import type { Bench } from "../bench/bench.js";
import type { Cell } from "../cell/cell.js";
import type { Profile } from "../profile/ast.js";
import { ProfileError } from "../profile/profile-error.js";
import { assertProfileValid } from "../profile/validate.js";
import type { ProfileStore } from "../profile-store/profile-store.js";
import { RequestInvalidError, UnknownProfileError } from "./http-errors.js";
import { type ProfileSourceOptions, prefixProfileError, readProfile } from "./request-input.js";

export interface ResolvedProfile {
  profile: Profile;
  profileId: string | undefined;
  /** Prefix of the profile's issue paths: `body.profile`, or `profile P…` for a stored one. */
  field: string;
}

/** Takes the profile of a request body: inline (object or text) or a stored profile_id, exactly one. */
export function resolveProfile(
  body: { profile?: unknown; profile_id?: string },
  profiles: ProfileStore,
  options: ProfileSourceOptions,
): ResolvedProfile {
  if ((body.profile === undefined) === (body.profile_id === undefined)) {
    throw new RequestInvalidError([
      {
        path: "body.profile",
        message:
          body.profile === undefined
            ? "missing; give the profile (an object or its YAML text) or a stored profile_id"
            : "give either profile or profile_id, not both",
      },
    ]);
  }
  if (body.profile_id !== undefined) {
    const stored = profiles.get(body.profile_id);
    if (!stored) throw new UnknownProfileError(body.profile_id);
    const field = `profile ${stored.id}`;
    return { profile: readProfile(stored.source, field, options).profile, profileId: stored.id, field };
  }
  return {
    profile: readProfile(body.profile, "body.profile", options).profile,
    profileId: undefined,
    field: "body.profile",
  };
}

/** Checks a profile against a cell and a channel's (and its chamber's) ranges; issue paths get `field`. */
export function assertFitsChannel(
  bench: Bench,
  channel: string,
  profile: Profile,
  cell: Cell,
  field: string,
): void {
  const slot = bench.channel(channel);
  const chamber = slot.chamberId ? bench.chambers.get(slot.chamberId) : undefined;
  const ranges: { cycler: CyclerRanges; chamber?: ChamberRanges } = { cycler: slot.channel.ranges };
  if (chamber) ranges.chamber = chamber.chamber.ranges;
  withProfileField(field, () => assertProfileValid(profile, cell, ranges));
}

/** Runs `fn`, prefixing the issue paths of a ProfileError it throws with `field`. */
export function withProfileField<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProfileError) throw prefixProfileError(err, field);
    throw err;
  }
}
