/** Per-token request limits of the API (http.rateLimit), where the configuration sets none. */
import type { RateLimitConfig } from "../config/load-config.js";

/** Control routes (runs, queue, batches, cells, profile writes): per token. */
export const DEFAULT_CONTROL_RATE_LIMIT: RateLimitConfig = { max: 60, windowMs: 60_000 };

/** Profile checks and stream tickets: per token. */
export const DEFAULT_CHECK_RATE_LIMIT: RateLimitConfig = { max: 20, windowMs: 60_000 };
