/**
 * Reads a real device's `options`: every option a driver takes is asked for by name, and done()
 * refuses the rest, so a misspelt option never silently falls back to its default. Errors name the
 * device, the driver and the option; each device kind throws its own typed error.
 */
import type { DeviceConfig } from "../capabilities.js";

export abstract class DeviceOptionReader {
  private readonly seen = new Set<string>();
  private readonly options: Record<string, unknown>;

  constructor(protected readonly config: DeviceConfig) {
    this.options = config.options ?? {};
  }

  /** Throws the device kind's typed options error carrying `problem`. */
  abstract fail(problem: string): never;

  /** Returns an integer in [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const v = this.take(name);
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      this.fail(`options.${name} must be an integer in [${min}, ${max}], got ${shown(v)}`);
    return v as number;
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

  /** Returns the entry's transport URL; throws `problem` when it has none. */
  protected requireTransport(problem: string): string {
    const url = this.config.transport;
    if (typeof url !== "string" || url.trim() === "") this.fail(problem);
    return url as string;
  }

  protected take(name: string): unknown {
    this.seen.add(name);
    return this.options[name];
  }
}

/**
 * Shows an option value as written: like JSON, but YAML's `.inf` and `.nan` read as Infinity and NaN,
 * which JSON.stringify would show as `null`.
 */
export function shown(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(shown).join(",")}]`;
  return JSON.stringify(value);
}
