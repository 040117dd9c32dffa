import { createHash } from "node:crypto";
import { IdempotencyKeyReusedError } from "./http-errors.js";

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface Entry {
  fingerprint: string;
  expiresMs: number;
  /** Pending while the first request is still being handled; retries wait for it. */
  response: Promise<StoredResponse>;
}

/**
 * Remembers the responses of requests sent with an Idempotency-Key, per client, for `ttlMs`
 * (bounded to `maxEntries`, oldest first out). A retry with the same key and the same body gets
 * the first response again (also while the first is still in flight); the same key with another
 * body is refused. Server errors (5xx) are not remembered, so a retry after one runs again.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {}

  /** Returns the remembered response for this key, or runs `handle` once and remembers its response. */
  async run(
    scope: string,
    key: string,
    body: unknown,
    handle: () => Promise<StoredResponse>,
  ): Promise<StoredResponse & { replayed: boolean }> {
    const now = (this.options.now ?? Date.now)();
    this.expire(now);
    const id = `${scope}\u0000${key}`;
    const fingerprint = fingerprintOf(body);
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(key);
      return { ...(await existing.response), replayed: true };
    }
    const response = handle();
    const entry: Entry = { fingerprint, expiresMs: now + (this.options.ttlMs ?? 86_400_000), response };
    this.entries.set(id, entry);
    this.trim();
    try {
      const result = await response;
      if (result.status >= 500) this.entries.delete(id);
      return { ...result, replayed: false };
    } catch (err) {
      this.entries.delete(id);
      throw err;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresMs > now) break;
      this.entries.delete(id);
    }
  }

  private trim(): void {
    const max = this.options.maxEntries ?? 10_000;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(id);
    }
  }
}

/** Hashes a JSON value with its object keys sorted, so key order does not change the fingerprint. */
export function fingerprintOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
