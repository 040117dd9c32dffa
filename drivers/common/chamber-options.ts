/** Reads a chamber device's `options` with errors naming the device and the option. */
import type { DeviceConfig } from "../capabilities.js";
import { ChamberOptionsError } from "./chamber-errors.js";

export class ChamberOptionReader {
  private readonly seen = new Set<string>();
  private readonly options: Record<string, unknown>;

  constructor(private readonly config: DeviceConfig) {
    this.options = config.options ?? {};
  }

  /** Returns the transport URL, which real drivers require. */
  transport(example: string): string {
    const url = this.config.transport;
    if (typeof url !== "string" || url.trim() === "")
      this.fail(`a transport URL is required, e.g. transport: ${example}`);
    return url as string;
  }

  number(
    name: string,
    fallback: number,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
  ): number {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      this.fail(`options.${name} must be a number in [${min}, ${max}], got ${shown(v)}`);
    return v as number;
  }

  integer(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      this.fail(`options.${name} must be an integer in [${min}, ${max}], got ${shown(v)}`);
    return v as number;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") this.fail(`options.${name} must be true or false, got ${shown(v)}`);
    return v as boolean;
  }

  /** Returns [low, high] with low < high, or undefined when absent. */
  range(name: string): [number, number] | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x)) ||
      !(v[0] < v[1])
    )
      this.fail(`options.${name} must be [low, high] in °C with low < high, got ${shown(v)}`);
    return [v[0], v[1]] as [number, number];
  }

  /** Throws for options nobody asked for. */
  done(): void {
    const unknown = Object.keys(this.options).filter((k) => !this.seen.has(k));
    if (unknown.length > 0)
      this.fail(
        `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; ` +
          `${this.config.driver} takes ${[...this.seen].sort().join(", ")}`,
      );
  }

  fail(problem: string): never {
    throw new ChamberOptionsError(this.config.id, this.config.driver, problem);
  }

  private take(name: string): unknown {
    this.seen.add(name);
    return this.options[name];
  }
}

/** Returns the intersection of two ranges, or undefined when they do not overlap. */
export function intersectRanges(
  a: readonly [number, number],
  b: readonly [number, number] | undefined,
): [number, number] | undefined {
  if (b === undefined) return [a[0], a[1]];
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo < hi ? [lo, hi] : undefined;
}

/**
 * Shows an option value as written: like JSON, but YAML's `.inf` and `.nan` read as Infinity and NaN,
 * which JSON.stringify would show as `null`.
 */
function shown(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(shown).join(",")}]`;
  return JSON.stringify(value);
}
