/** Reads an emulator's `options` record with errors that name the emulator and the option. */
import { EmulatorOptionsError } from "./emulator-errors.js";

export class OptionReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly emulator: string,
    private readonly options: Record<string, unknown> = {},
  ) {}

  /** Returns a number in [min, max], or `fallback` when the option is absent. */
  number(
    name: string,
    fallback: number,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
  ): number {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      this.fail(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v as number;
  }

  /** Returns an integer in [min, max], or `fallback`. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const v = this.number(name, fallback, min, max);
    if (!Number.isInteger(v)) this.fail(`${name} must be an integer, got ${v}`);
    return v;
  }

  /** Returns a list of integers in [min, max] (a single integer is accepted as a list of one). */
  integers(name: string, fallback: number[], min: number, max: number): number[] {
    const v = this.take(name);
    if (v === undefined) return fallback;
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || !list.every((x) => Number.isInteger(x) && x >= min && x <= max))
      this.fail(
        `${name} must be an integer or a list of integers in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    if (new Set(list).size !== list.length) this.fail(`${name} lists a value twice: ${JSON.stringify(v)}`);
    return list as number[];
  }

  /** Returns a boolean, or `fallback`. */
  boolean(name: string, fallback: boolean): boolean {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") this.fail(`${name} must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  }

  /** Returns one of `allowed`, or `fallback`. */
  choice<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "string" || !allowed.includes(v as T))
      this.fail(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  /** Returns a [low, high] pair with low < high, or `fallback`. */
  range(name: string, fallback: [number, number]): [number, number] {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x)) ||
      !(v[0] < v[1])
    )
      this.fail(`${name} must be [low, high] with low < high, got ${JSON.stringify(v)}`);
    return [v[0], v[1]] as [number, number];
  }

  /** Returns the raw value of an option validated elsewhere (e.g. fault knobs). */
  raw(name: string): unknown {
    return this.take(name);
  }

  /** Throws for any option no reader asked for. */
  done(): void {
    const unknown = Object.keys(this.options).filter((k) => !this.seen.has(k));
    if (unknown.length > 0)
      this.fail(
        `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; ` +
          `this emulator takes ${[...this.seen].sort().join(", ")}`,
      );
  }

  fail(problem: string): never {
    throw new EmulatorOptionsError(this.emulator, problem);
  }

  private take(name: string): unknown {
    this.seen.add(name);
    return this.options[name];
  }
}
