/** Reads a chamber device's `options` with errors naming the device and the option. */
import { ChamberOptionsError } from "./chamber-errors.js";
import { DeviceOptionReader, shown } from "./device-option-reader.js";

export class ChamberOptionReader extends DeviceOptionReader {
  /** Returns the transport URL, which real drivers require. */
  transport(example: string): string {
    return this.requireTransport(`a transport URL is required, e.g. transport: ${example}`);
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

  fail(problem: string): never {
    throw new ChamberOptionsError(this.config.id, this.config.driver, problem);
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
