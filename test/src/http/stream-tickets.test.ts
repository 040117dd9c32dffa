import { afterEach, describe, expect, it } from "vitest";
import { STREAM_TICKET_TTL_MS, StreamTickets, withoutTicket } from "../../../src/http/stream-tickets.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";

describe("StreamTickets", () => {
  it("stands for the principal that asked until it expires; unknown tickets stand for nobody", () => {
    let now = 1_000_000;
    const tickets = new StreamTickets(() => now);
    const issued = tickets.issue({ role: "viewer", id: "abcd" });
    expect(issued.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(issued.expiresMs).toBe(1_000_000 + STREAM_TICKET_TTL_MS);
    expect(tickets.redeem(issued.ticket)).toEqual({ role: "viewer", id: "abcd" });
    // Reusable until it expires: EventSource reconnects with the same URL.
    expect(tickets.redeem(issued.ticket)).toEqual({ role: "viewer", id: "abcd" });
    const last = issued.ticket.at(-1) === "x" ? "y" : "x";
    expect(tickets.redeem(`${issued.ticket.slice(0, 31)}${last}`)).toBeUndefined();
    now += STREAM_TICKET_TTL_MS;
    expect(tickets.redeem(issued.ticket)).toBeUndefined();
  });

  it("never hands out the same ticket twice", () => {
    const tickets = new StreamTickets();
    const seen = new Set(
      Array.from({ length: 200 }, () => tickets.issue({ role: "viewer", id: "x" }).ticket),
    );
    expect(seen.size).toBe(200);
  });

  it("cuts the ticket out of a URL for the log", () => {
    expect(withoutTicket("/api/v1/events?ticket=abc-DEF_123")).toBe("/api/v1/events?ticket=[redacted]");
    expect(withoutTicket("/api/v1/runs/R1/events?x=1&ticket=abc&y=2")).toBe(
      "/api/v1/runs/R1/events?x=1&ticket=[redacted]&y=2",
    );
    expect(withoutTicket("/api/v1/runs")).toBe("/api/v1/runs");
  });
});

describe("stream tickets over HTTP", () => {
  let h: HttpBench;
  afterEach(async () => {
    await h?.close();
  });

  async function ticket(headers: Record<string, string>) {
    return h.app.inject({ method: "POST", url: "/api/v1/stream-tickets", headers });
  }

  it("opens a run's event stream without an Authorization header, and nothing else; the ticket is not logged", async () => {
    h = await openHttpBench();
    expect((await ticket({})).statusCode).toBe(401);
    const issued = await ticket(auth("viewer"));
    expect(issued.statusCode).toBe(201);
    const body = issued.json();
    expect(body.expires_in_s).toBe(60);
    expect(Date.parse(body.expires) - Date.now()).toBeGreaterThan(50_000);

    const run = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "p", steps: ["Rest for 5 s"] } },
    });
    const id = run.json().id;
    await waitFor(() => h.runs.get(id).state === "completed", "the run to complete");
    const stream = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/events?ticket=${body.ticket}`,
    });
    expect(stream.statusCode).toBe(200);
    expect(stream.body).toContain("event: snapshot");
    expect(stream.body).toContain('"state":"completed"');

    // Only the event streams take a ticket.
    const list = await h.app.inject({ method: "GET", url: `/api/v1/runs?ticket=${body.ticket}` });
    expect([list.statusCode, list.json().code]).toEqual([401, "UNAUTHORIZED"]);
    const forged = await h.app.inject({
      method: "GET",
      url: `/api/v1/runs/${id}/events?ticket=${"A".repeat(32)}`,
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toBe(
      "the stream ticket is unknown or has expired; POST /api/v1/stream-tickets with your token for a new one",
    );
    const logged = h.logs.join("");
    expect(logged).toContain("ticket=[redacted]");
    expect(logged).not.toContain(body.ticket);
  });
});
