/**
 * Fault knobs of the emulators, set from options at start and from code (or the CLI) at run time:
 *
 *   emulator.faults.set({ timeout: { next: 3 } });          // the next 3 requests get no reply
 *   emulator.faults.set({ badCrc: { probability: 0.1 } });   // one reply in ten has a broken CRC
 *   emulator.faults.set({ exception: { next: 1, code: 6 } }); // the next request gets exception 6
 *   emulator.faults.set({ timeout: true });                  // every request (probability 1)
 *   emulator.faults.set({ timeout: undefined });             // off (false or null too)
 *
 * Each knob fires for its `next` N requests first, then with its `probability`. Randomness comes
 * from a seeded PRNG, so a test that sets `seed` sees the same faults every run.
 */
import { hashString, SeededRandom } from "../sim/sim-faults.js";
import { EmulatorOptionsError } from "./emulator-errors.js";

export interface FaultRate {
  /** The next N requests are hit (counted before the probability applies). */
  next?: number;
  /** Probability (0..1) that any one request is hit. */
  probability?: number;
}

/** Extra numeric or text parameters a knob takes, with their limits. */
export type KnobParams = Record<string, { min: number; max: number; integer?: boolean } | "text">;

type Settings = Record<string, (FaultRate & Record<string, unknown>) | undefined>;

/** The fault knobs of one emulated device. */
export class FaultDeck<S extends object> {
  private settings: Settings = {};
  private readonly pending = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private random: SeededRandom;

  constructor(
    private readonly target: string,
    private readonly specs: { readonly [K in keyof S]-?: KnobParams },
    initial?: unknown,
  ) {
    this.random = new SeededRandom(hashString(target));
    if (initial !== undefined) this.set(initial);
  }

  /** Returns the knobs as currently set. */
  get current(): Readonly<S> {
    return this.settings as S;
  }

  /** Returns how often each knob has fired since start. */
  get fired(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }

  /** Merges knobs in; a knob set to undefined, null or false turns off. Throws EMULATOR_BAD_OPTIONS on bad values. */
  set(patch: unknown): void {
    if (patch === undefined || patch === null) return;
    if (!isRecord(patch)) this.fail("faults must be an object of knobs");
    const next: Settings = { ...this.settings };
    const pending = new Map(this.pending);
    for (const [knob, value] of Object.entries(patch)) {
      if (knob === "seed") {
        if (typeof value !== "number" || !Number.isFinite(value)) this.fail("faults.seed must be a number");
        this.random = new SeededRandom((Math.trunc(value) ^ hashString(this.target)) | 0);
        continue;
      }
      const spec = (this.specs as Record<string, KnobParams>)[knob];
      if (spec === undefined)
        this.fail(
          `unknown fault knob "${knob}"; use one of ${[...Object.keys(this.specs), "seed"].join(", ")}`,
        );
      if (value === undefined || value === null || value === false) {
        delete next[knob];
        pending.delete(knob);
        continue;
      }
      const parsed = this.parseKnob(knob, spec, value === true ? { probability: 1 } : value);
      next[knob] = parsed;
      pending.set(knob, parsed.next ?? 0);
    }
    this.settings = next;
    this.pending.clear();
    for (const [k, v] of pending) this.pending.set(k, v);
  }

  /** Turns every knob off. */
  clear(): void {
    this.settings = {};
    this.pending.clear();
  }

  /** Decides whether `knob` hits the request being handled now; returns its settings when it does. */
  fire<K extends keyof S & string>(knob: K): NonNullable<S[K]> | undefined {
    const setting = this.settings[knob];
    if (setting === undefined) return undefined;
    const left = this.pending.get(knob) ?? 0;
    let hit = false;
    if (left > 0) {
      this.pending.set(knob, left - 1);
      hit = true;
    } else {
      const p = setting.probability ?? 0;
      hit = p > 0 && (p >= 1 || this.random.next() < p);
    }
    if (!hit) return undefined;
    this.counts.set(knob, (this.counts.get(knob) ?? 0) + 1);
    return setting as NonNullable<S[K]>;
  }

  /** Returns a uniform random integer in [0, n) from the deck's seeded PRNG. */
  randomInt(n: number): number {
    return Math.floor(this.random.next() * n);
  }

  private parseKnob(knob: string, spec: KnobParams, value: unknown): FaultRate & Record<string, unknown> {
    if (!isRecord(value))
      this.fail(`faults.${knob} must be true, false or { next?, probability?${paramList(spec)} }`);
    const out: FaultRate & Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      if (key === "next") {
        if (!Number.isInteger(v) || (v as number) < 0)
          this.fail(`faults.${knob}.next must be a whole number`);
        out.next = v as number;
      } else if (key === "probability") {
        if (typeof v !== "number" || !(v >= 0 && v <= 1))
          this.fail(`faults.${knob}.probability must be a number in [0, 1]`);
        out.probability = v;
      } else {
        const p = spec[key];
        if (p === undefined)
          this.fail(`faults.${knob} takes next, probability${paramList(spec)}; not "${key}"`);
        if (p === "text") {
          if (typeof v !== "string" || v.length === 0) this.fail(`faults.${knob}.${key} must be a text`);
        } else if (
          typeof v !== "number" ||
          !Number.isFinite(v) ||
          v < p.min ||
          v > p.max ||
          (p.integer && !Number.isInteger(v))
        ) {
          this.fail(
            `faults.${knob}.${key} must be ${p.integer ? "an integer" : "a number"} in [${p.min}, ${p.max}]`,
          );
        }
        out[key] = v;
      }
    }
    if (out.next === undefined && out.probability === undefined) out.probability = 1;
    return out;
  }

  private fail(problem: string): never {
    throw new EmulatorOptionsError(this.target, problem);
  }
}

function paramList(spec: KnobParams): string {
  const names = Object.keys(spec);
  return names.length > 0 ? `, ${names.map((n) => `${n}?`).join(", ")}` : "";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
