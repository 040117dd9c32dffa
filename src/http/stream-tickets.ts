import { createHash, randomBytes } from "node:crypto";
import type { Principal } from "./auth.js";

/** How long a stream ticket opens streams: enough for a page to connect and for EventSource to reconnect after a blip. */
export const STREAM_TICKET_TTL_MS = 60_000;
/** Outstanding tickets kept at most; the oldest go first. */
const MAX_TICKETS = 1024;

export interface IssuedTicket {
  ticket: string;
  expiresMs: number;
}

/**
 * Short-lived tickets that open the Server-Sent Event streams from a browser: `EventSource` cannot
 * send an Authorization header, so a page asks for a ticket with its token and opens
 * `/api/v1/events?ticket=...`. A ticket carries the role of the token that asked for it, opens
 * streams only, and expires after STREAM_TICKET_TTL_MS (EventSource may reconnect with it until
 * then). Only digests are kept, and the ticket is cut from logged URLs.
 */
export class StreamTickets {
  private readonly tickets = new Map<string, { principal: Principal; expiresMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(principal: Principal): IssuedTicket {
    this.prune();
    while (this.tickets.size >= MAX_TICKETS) {
      const oldest = this.tickets.keys().next().value;
      if (oldest === undefined) break;
      this.tickets.delete(oldest);
    }
    const ticket = randomBytes(24).toString("base64url");
    const expiresMs = this.now() + STREAM_TICKET_TTL_MS;
    this.tickets.set(digest(ticket), { principal, expiresMs });
    return { ticket, expiresMs };
  }

  /** The principal a ticket stands for, or undefined when it is unknown or expired. */
  redeem(ticket: string): Principal | undefined {
    const entry = this.tickets.get(digest(ticket));
    if (!entry) return undefined;
    if (entry.expiresMs <= this.now()) {
      this.tickets.delete(digest(ticket));
      return undefined;
    }
    return entry.principal;
  }

  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.tickets) if (entry.expiresMs <= now) this.tickets.delete(key);
  }
}

/** Replaces the value of a `ticket` query parameter in a URL, for logs. */
export function withoutTicket(url: string): string {
  return url.replace(/([?&]ticket=)[^&#]*/gi, "$1[redacted]");
}

function digest(ticket: string): string {
  return createHash("sha256").update(ticket, "utf8").digest("hex");
}
