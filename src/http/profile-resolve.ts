import type { ChamberRanges, CyclerRanges } from "../../drivers/capabilities.js";
import type { Bench } from "../bench/bench.js";
import type { ProfileStore } from "../profile-store/profile-store.js";
import { RequestInvalidError, UnknownProfileError } from "./http-errors.js";

export interface ProfileInput {
  /** The profile as sent (text or object), or a stored profile's source. */
  value: unknown;
  profileId: string | undefined;
  /** Prefix of the profile's issue paths: `body.profile`, or `profile P…` for a stored one. */
  field: string;
}

/**
 * Takes the profile of a request body: inline (object or text) or a stored profile_id, exactly one.
 * Only picks it: parsing is the profile worker's (src/work), off the sampling loop.
 */
export function profileInput(
  body: { profile?: unknown; profile_id?: string },
  profiles: ProfileStore,
): ProfileInput {
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
    return { value: stored.source, profileId: stored.id, field: `profile ${stored.id}` };
  }
  return { value: body.profile, profileId: undefined, field: "body.profile" };
}

/** A channel's (and its chamber's) ranges, which a profile checked for that channel must fit. */
export function channelRanges(
  bench: Bench,
  channel: string,
): { cycler: CyclerRanges; chamber?: ChamberRanges } {
  const slot = bench.channel(channel);
  const chamber = slot.chamberId ? bench.chambers.get(slot.chamberId) : undefined;
  return chamber
    ? { cycler: slot.channel.ranges, chamber: chamber.chamber.ranges }
    : { cycler: slot.channel.ranges };
}
