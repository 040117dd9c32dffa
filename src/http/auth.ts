import { createHash, timingSafeEqual } from "node:crypto";
import type { AnonymousRole, Role } from "../config/load-config.js";
import { ForbiddenError, UnauthorizedError } from "./http-errors.js";

const RANK: Readonly<Record<Role, number>> = { viewer: 1, operator: 2, admin: 3 };

/** Who made a request: the role of the token and a short, non-reversible id of it (rate limits, idempotency). */
export interface Principal {
  role: Role;
  /**
   * First 16 hex digits of the token's SHA-256; safe to log. Without a token (auth.anonymous):
   * `anonymous@<client address>`, so each client has its own rate and stream limits.
   */
  id: string;
  /** Admitted without a token (auth.anonymous). */
  anonymous?: true;
}

/** Returns true when `role` is `needed` or higher (viewer < operator < admin). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * Checks bearer tokens against the configured ones. Tokens are kept only as SHA-256 digests and
 * compared with timingSafeEqual against every configured digest (no early exit), so neither the
 * token nor which entry matched leaks through timing.
 */
export class TokenAuthenticator {
  private readonly entries: { role: Role; digest: Buffer }[];

  constructor(
    tokens: readonly { role: Role; token: string }[],
    private readonly anonymousRole?: AnonymousRole,
  ) {
    this.entries = tokens.map((t) => ({ role: t.role, digest: digest(t.token) }));
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /**
   * Resolves the Authorization header to a principal; throws UnauthorizedError. A request without
   * one gets the anonymous role when configured; `client` (its address) tells anonymous clients apart.
   */
  authenticate(header: string | undefined, client = "unknown"): Principal {
    if (header === undefined || header === "") {
      if (this.anonymousRole) return { role: this.anonymousRole, id: `anonymous@${client}`, anonymous: true };
      throw new UnauthorizedError(
        this.configured
          ? "send Authorization: Bearer <token> (cellbench CLI: --token or CELLBENCH_TOKEN)"
          : "this daemon has no API tokens configured; add auth.tokens to the bench configuration or set CELLBENCH_TOKENS=operator:<token>",
      );
    }
    const match = /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i.exec(header);
    if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"');
    const presented = digest(match[1] as string);
    let role: Role | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented) && (role === undefined || RANK[entry.role] > RANK[role])) {
        role = entry.role;
      }
    }
    if (!role)
      throw new UnauthorizedError(
        "the bearer token is not valid for this daemon; check --token or CELLBENCH_TOKEN",
      );
    return { role, id: presented.subarray(0, 8).toString("hex") };
  }

  /**
   * Throws unless the principal has at least `needed`: ForbiddenError for a token, UnauthorizedError
   * for an anonymous request (a token would help: the client should ask for one).
   */
  authorize(principal: Principal, needed: Role): void {
    if (roleAtLeast(principal.role, needed)) return;
    if (principal.anonymous)
      throw new UnauthorizedError(
        `requests without a token may only read (auth.anonymous: ${principal.role}); this one needs ${needed} or higher: send Authorization: Bearer <${needed} token>`,
      );
    throw new ForbiddenError(principal.role, needed);
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
