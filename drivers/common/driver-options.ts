/** Options every real cycler driver takes, read with errors that name the device and the option. */
import type { CyclerMode, CyclerRanges } from "../capabilities.js";
import { CyclerOptionsError } from "./cycler-errors.js";
import { DeviceOptionReader, shown } from "./device-option-reader.js";

/** What an instrument can do at most (its nominal ratings). */
export interface Ratings {
  voltageV: number;
  currentA: number;
  powerW: number;
}

/** Narrower limits the lab sets for a channel (e.g. a 60 A supply driving a 3 Ah cell). */
export interface ChannelLimits {
  voltageV?: [number, number];
  currentA?: [number, number];
  powerW?: number;
}

export class DriverOptionReader extends DeviceOptionReader {
  /** Returns the transport URL; throws when the entry has none. */
  transport(): string {
    return this.requireTransport(
      "needs a transport URL (serial:///dev/serial/by-id/...?baud=..., tcp://host:port)",
    );
  }

  /** Returns the single channel id (default "ch1"). */
  channelId(): string {
    const ids = this.config.channels ?? [];
    if (ids.length > 1) this.fail(`has one output; list one channel id, not ${ids.length}`);
    return ids[0] ?? "ch1";
  }

  /** Returns a positive number, or `fallback`. */
  positive(name: string, fallback: number): number {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v))
      this.fail(`options.${name} must be a positive number, got ${shown(v)}`);
    return v as number;
  }

  /** Returns one of `allowed`, or `fallback`. */
  choice<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "string" || !allowed.includes(v as T))
      this.fail(`options.${name} must be one of ${allowed.join(", ")}, got ${shown(v)}`);
    return v as T;
  }

  /** Returns `{ voltageV, currentA, powerW }` (all positive), or undefined when absent. */
  ratings(name: string): Ratings | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    const r = v as Partial<Ratings>;
    const ok = (x: unknown) => typeof x === "number" && x > 0 && Number.isFinite(x);
    if (typeof v !== "object" || v === null || !ok(r.voltageV) || !ok(r.currentA) || !ok(r.powerW))
      this.fail(`options.${name} must be { voltageV, currentA, powerW }, all positive numbers`);
    return { voltageV: r.voltageV as number, currentA: r.currentA as number, powerW: r.powerW as number };
  }

  /** Returns the optional channel limits. */
  limits(): ChannelLimits {
    const v = this.take("limits");
    if (v === undefined) return {};
    if (typeof v !== "object" || v === null)
      this.fail("options.limits must be { voltageV?, currentA?, powerW? }");
    const l = v as Record<string, unknown>;
    for (const key of Object.keys(l))
      if (!["voltageV", "currentA", "powerW"].includes(key))
        this.fail(`options.limits takes voltageV, currentA, powerW; not "${key}"`);
    const pair = (p: unknown, name: string): [number, number] | undefined => {
      if (p === undefined) return undefined;
      if (
        !Array.isArray(p) ||
        p.length !== 2 ||
        !p.every((x) => typeof x === "number" && Number.isFinite(x)) ||
        !(p[0] < p[1])
      )
        this.fail(`options.limits.${name} must be [min, max] with min < max`);
      return [p[0], p[1]] as [number, number];
    };
    const powerW = l.powerW;
    if (powerW !== undefined && (typeof powerW !== "number" || !(powerW > 0)))
      this.fail("options.limits.powerW must be a positive number");
    return {
      voltageV: pair(l.voltageV, "voltageV"),
      currentA: pair(l.currentA, "currentA"),
      powerW: powerW as number | undefined,
    };
  }

  fail(problem: string): never {
    throw new CyclerOptionsError(this.config.id, this.config.driver, problem);
  }
}

/** Returns the channel ranges of an instrument with `ratings`, narrowed by the lab's `limits`. */
export function rangesFrom(
  ratings: Ratings,
  limits: ChannelLimits,
  modes: readonly CyclerMode[],
): CyclerRanges {
  const v = limits.voltageV ?? [0, ratings.voltageV];
  const i = limits.currentA ?? [-ratings.currentA, ratings.currentA];
  return {
    voltageV: [Math.max(0, v[0]), Math.min(ratings.voltageV, v[1])],
    currentA: [Math.max(-ratings.currentA, i[0]), Math.min(ratings.currentA, i[1])],
    powerW: Math.min(ratings.powerW, limits.powerW ?? ratings.powerW),
    modes,
  };
}

/**
 * Returns why the lab's `limits` leave nothing of the instrument's `ratings` (a window entirely
 * outside them, e.g. limits written in mV or mA), or undefined when they narrow the ratings.
 */
export function limitsOutsideRatings(ratings: Ratings, limits: ChannelLimits): string | undefined {
  const r = rangesFrom(ratings, limits, []);
  if (!(r.voltageV[0] < r.voltageV[1]))
    return `options.limits.voltageV [${limits.voltageV?.join(", ")}] V lies outside the instrument's 0..${ratings.voltageV} V; give a window within it`;
  if (!(r.currentA[0] < r.currentA[1]))
    return `options.limits.currentA [${limits.currentA?.join(", ")}] A lies outside the instrument's ±${ratings.currentA} A; give a window within it`;
  return undefined;
}

/** Ranges of a channel whose instrument has not told its ratings yet: nothing can be applied. */
export const UNKNOWN_RANGES: CyclerRanges = {
  voltageV: [0, 0],
  currentA: [0, 0],
  powerW: 0,
  modes: ["rest"],
};
