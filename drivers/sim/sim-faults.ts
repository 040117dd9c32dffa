/**
 * Fault knobs of the simulated devices. Each sim channel and sim chamber carries a `faults` object;
 * the same settings come from the device's `options.faults` at start-up and from code at run time:
 *
 *   channel.faults.set({ dropReplies: { next: 3 } });       // the next 3 commands get no reply
 *   channel.faults.set({ noise: { voltageV: 0.002 }, seed: 7 });
 *   channel.faults.set({ runaway: { triggerC: 80 } });       // cell self-heats above 80 °C
 *   chamber.faults.set({ unregulated: true });               // controller dead, air drifts to the room
 *   channel.faults.set({ stuck: undefined });                 // `undefined` (or false) turns a knob off
 *   channel.faults.clear();                                   // everything off, PRNG re-seeded
 *
 * `set` merges: keys it does not name keep their values. Randomness comes from a seeded PRNG
 * (never Math.random), so a test that sets `seed` sees the same drops and the same noise every run.
 */
import type { RunawayHeat } from "./cell-model.js";
import { SimOptionsError } from "./sim-errors.js";

export interface DropReplies {
  /** Probability (0..1) that any one command gets no reply. */
  probability?: number;
  /** The next N commands get no reply (counted before the probability applies). */
  next?: number;
}

export interface NoiseSigmas {
  /** Standard deviations of gaussian noise added to readings. */
  voltageV?: number;
  currentA?: number;
  temperatureC?: number;
}

interface CommonFaults {
  /** Reads return the values of the last successful read, frozen. */
  stuck?: boolean;
  /** Commands (read, apply, setSetpoint, toSafeState) get no reply and are not carried out. */
  dropReplies?: DropReplies;
  noise?: NoiseSigmas;
  /** PRNG seed of drops and noise; default 1 (mixed with the channel or chamber id). */
  seed?: number;
}

export interface CyclerFaults extends CommonFaults {
  /** Exponentially growing self-heating above triggerC (default powerW 0.5 W, doublingC 5 °C). */
  runaway?: { triggerC: number; powerW?: number; doublingC?: number };
}

export interface ChamberFaults extends CommonFaults {
  /** Only `temperatureC` applies to a chamber. */
  noise?: Pick<NoiseSigmas, "temperatureC">;
  /** The controller stops regulating: set points are accepted and ignored, the air drifts to the room. */
  unregulated?: boolean;
}

export type FaultKind = "cycler" | "chamber";

/** Small seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Returns a standard-normal sample (Box–Muller). */
  gaussian(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** Returns a 32-bit FNV-1a hash of a string (to give each channel its own stream). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The fault knobs of one sim channel or chamber, with the randomness they need. */
export class FaultKnobs<S extends CommonFaults> {
  private settings: S = {} as S;
  private dropsPending = 0;
  private drops: SeededRandom;
  private noise: SeededRandom;

  /**
   * @param target name used in error messages (`cycler1/ch1`)
   * @param onChange called after every change (the channel forwards `runaway` to its cell)
   */
  constructor(
    private readonly target: string,
    private readonly kind: FaultKind,
    initial: unknown = {},
    private readonly onChange: (settings: Readonly<S>) => void = () => undefined,
  ) {
    this.drops = new SeededRandom(0);
    this.noise = new SeededRandom(0);
    this.reseed(1);
    this.set(initial as S);
  }

  /** Returns the knobs as currently set. */
  get current(): Readonly<S> {
    return this.settings;
  }

  /** Merges knobs in; a key set to `undefined` or `false` turns that knob off. Throws on bad values. */
  set(patch: S): void {
    const valid = validateFaults<S>(this.kind, patch, this.target);
    const next: Record<string, unknown> = { ...(this.settings as Record<string, unknown>) };
    for (const [key, value] of Object.entries(valid)) {
      if (value === undefined || value === false) delete next[key];
      else next[key] = value;
    }
    this.settings = next as S;
    if ("seed" in valid) this.reseed(valid.seed ?? 1);
    if ("dropReplies" in valid) this.dropsPending = valid.dropReplies?.next ?? 0;
    this.onChange(this.settings);
  }

  /** Turns every knob off and re-seeds the PRNG with the default seed. */
  clear(): void {
    this.settings = {} as S;
    this.dropsPending = 0;
    this.reseed(1);
    this.onChange(this.settings);
  }

  /** Decides whether the command being handled now gets no reply (consumes a pending drop). */
  dropsThisReply(): boolean {
    if (this.dropsPending > 0) {
      this.dropsPending--;
      return true;
    }
    const p = this.settings.dropReplies?.probability ?? 0;
    return p > 0 && this.drops.next() < p;
  }

  /** Returns `value` plus gaussian noise of standard deviation `sigma` (unchanged when sigma is 0). */
  noisy(value: number, sigma: number | undefined): number {
    if (!sigma) return value;
    return value + sigma * this.noise.gaussian();
  }

  private reseed(seed: number): void {
    const mixed = (seed ^ hashString(this.target)) | 0;
    this.drops = new SeededRandom(mixed);
    this.noise = new SeededRandom(mixed ^ 0x5bd1e995);
  }
}

/** Returns the runaway heat parameters of a cycler fault setting, with defaults filled in. */
export function runawayHeat(faults: Readonly<CyclerFaults>): RunawayHeat | undefined {
  const r = faults.runaway;
  if (!r) return undefined;
  return { triggerC: r.triggerC, powerW: r.powerW ?? 0.5, doublingC: r.doublingC ?? 5 };
}

const COMMON_KEYS = ["stuck", "dropReplies", "noise", "seed"];
const KEYS: Record<FaultKind, readonly string[]> = {
  cycler: [...COMMON_KEYS, "runaway"],
  chamber: [...COMMON_KEYS, "unregulated"],
};
const NOISE_KEYS: Record<FaultKind, readonly string[]> = {
  cycler: ["voltageV", "currentA", "temperatureC"],
  chamber: ["temperatureC"],
};

/** Checks fault settings from options or code; throws SimOptionsError naming the bad key. */
export function validateFaults<S extends CommonFaults>(kind: FaultKind, value: unknown, target: string): S {
  const bad = (problem: string): never => {
    throw new SimOptionsError(target, `faults: ${problem}`);
  };
  if (value === undefined || value === null) return {} as S;
  if (!isRecord(value)) return bad("must be an object");
  for (const key of Object.keys(value)) {
    if (!KEYS[kind].includes(key)) bad(`unknown knob "${key}"; use one of ${KEYS[kind].join(", ")}`);
  }
  const isOff = (v: unknown) => v === undefined || v === false || v === null;
  const number = (v: unknown, name: string, min: number, max = Number.POSITIVE_INFINITY): number => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      bad(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isOff(v)) {
      out[key] = undefined;
      continue;
    }
    switch (key) {
      case "stuck":
      case "unregulated":
        if (v !== true) bad(`${key} must be true or false`);
        out[key] = true;
        break;
      case "seed":
        out[key] = Math.trunc(number(v, "seed", -(2 ** 31), 2 ** 32));
        break;
      case "dropReplies": {
        if (!isRecord(v)) return bad("dropReplies must be { probability?, next? }");
        const d: DropReplies = {};
        for (const k of Object.keys(v)) if (k !== "probability" && k !== "next") bad(`dropReplies.${k}?`);
        if (v.probability !== undefined)
          d.probability = number(v.probability, "dropReplies.probability", 0, 1);
        if (v.next !== undefined) d.next = Math.trunc(number(v.next, "dropReplies.next", 0));
        out[key] = d;
        break;
      }
      case "noise": {
        if (!isRecord(v)) return bad("noise must be an object of sigmas");
        const n: Record<string, number> = {};
        for (const [k, sigma] of Object.entries(v)) {
          if (!NOISE_KEYS[kind].includes(k)) bad(`noise.${k}: use ${NOISE_KEYS[kind].join(", ")}`);
          if (sigma !== undefined) n[k] = number(sigma, `noise.${k}`, 0);
        }
        out[key] = n;
        break;
      }
      case "runaway": {
        if (!isRecord(v)) return bad("runaway must be { triggerC, powerW?, doublingC? }");
        const r: NonNullable<CyclerFaults["runaway"]> = {
          triggerC: number(v.triggerC, "runaway.triggerC", -100, 1000),
        };
        if (v.powerW !== undefined) r.powerW = number(v.powerW, "runaway.powerW", 0);
        if (v.doublingC !== undefined) r.doublingC = number(v.doublingC, "runaway.doublingC", 0.1);
        out[key] = r;
        break;
      }
    }
  }
  return out as S;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
