import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import type { Principal } from "../auth.js";
import type { LiveEvent } from "../event-hub.js";
import { errorResponses, RunIdParams } from "../schemas.js";
import type { App, ServerContext } from "../server.js";
import { SseStream } from "../sse-stream.js";
import { STREAM_TICKET_TTL_MS } from "../stream-tickets.js";
import { channelsSnapshot, iso, isTerminalState, runView } from "../views.js";

const bearer = [{ bearer: [] }];
const bearerOrTicket: { [scheme: string]: string[] }[] = [{ bearer: [] }, { ticket: [] }];
const TicketQuery = Type.Object({
  ticket: Type.Optional(
    Type.String({
      pattern: "^[A-Za-z0-9_-]{32}$",
      description: "Stream ticket (POST /api/v1/stream-tickets), for clients that cannot send headers",
    }),
  ),
});
const StreamTicketView = Type.Object({
  ticket: Type.String({ description: "Pass as ?ticket= to the event streams" }),
  expires: Type.String({ format: "date-time" }),
  expires_in_s: Type.Number(),
});
const LastEventIdHeaders = Type.Object({
  "last-event-id": Type.Optional(
    Type.String({
      pattern: "^[0-9]{1,15}$",
      description: "Resume after this event id (sent by EventSource on reconnect)",
    }),
  ),
});
const SSE_RESPONSE = {
  200: {
    description:
      "text/event-stream. Events: snapshot (the run, on connect), sample (decimated), step, cycle, state; " +
      "the stream ends after the terminal state event. Ids increase; reconnect with Last-Event-ID to resume.",
    content: { "text/event-stream": { schema: Type.String() } },
  },
  204: { description: "The run has ended and the client has seen its last event", type: "null" },
};

/** GET /api/v1/runs/:id/events, GET /api/v1/events (Server-Sent Events) and POST /api/v1/stream-tickets. */
export function registerEventRoutes(app: App, ctx: ServerContext): void {
  const ticketLimit = ctx.options.checkRateLimit ?? { max: 20, windowMs: 60_000 };
  app.post(
    "/api/v1/stream-tickets",
    {
      config: { role: "viewer", rateLimit: { max: ticketLimit.max, timeWindow: ticketLimit.windowMs } },
      schema: {
        summary: "A short-lived ticket that opens the event streams from a browser (?ticket=)",
        description:
          "EventSource cannot send an Authorization header. The ticket carries this token's role, opens the " +
          "event streams only, and expires after 60 s (EventSource may reconnect with it until then).",
        tags: ["live"],
        security: bearer,
        response: { 201: StreamTicketView, ...errorResponses(401, 403, 429) },
      },
    },
    async (request, reply) => {
      const issued = ctx.tickets.issue(request.principal as Principal);
      return reply.code(201).send({
        ticket: issued.ticket,
        expires: iso(issued.expiresMs),
        expires_in_s: STREAM_TICKET_TTL_MS / 1000,
      });
    },
  );

  const streamOptions = { heartbeatMs: ctx.options.heartbeatMs ?? 15_000 };
  const open = (reply: FastifyReply): SseStream => {
    const stream = new SseStream(reply, streamOptions);
    ctx.streams.add(stream);
    stream.onClose(() => ctx.streams.delete(stream));
    return stream;
  };

  app.get(
    "/api/v1/runs/:id/events",
    {
      config: { role: "viewer", streamTicket: true },
      schema: {
        summary: "Live events of one run (Server-Sent Events)",
        tags: ["live"],
        security: bearerOrTicket,
        querystring: TicketQuery,
        params: RunIdParams,
        headers: LastEventIdHeaders,
        produces: ["text/event-stream"],
        response: { ...SSE_RESPONSE, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const header = request.headers["last-event-id"];
      const lastId = header === undefined ? undefined : Number(header);
      const before = ctx.runs.get(id);

      if (isTerminalState(before.state)) {
        const terminal = ctx.hub.terminalEvent(id);
        if (lastId !== undefined && (!terminal || terminal.id <= lastId)) return reply.code(204).send();
        const stream = open(reply);
        if (lastId === undefined) {
          stream.event("snapshot", runView(before, ctx.bench.clock.wallNow()));
          if (terminal) stream.write(terminal.text);
          else stream.event("state", endedState(before));
        } else {
          for (const e of ctx.hub.replayRun(id, lastId).events) stream.write(e.text);
        }
        stream.end();
        return reply;
      }

      const stream = open(reply);
      followLive(stream, lastId, {
        newestId: ctx.hub.lastId,
        listen: (listener) => ctx.hub.listenRun(id, listener),
        snapshot: () => stream.event("snapshot", runView(ctx.runs.get(id), ctx.bench.clock.wallNow())),
        replay: (after) => ctx.hub.replayRun(id, after),
        endOnTerminal: true,
      });
      return reply;
    },
  );

  app.get(
    "/api/v1/events",
    {
      config: { role: "viewer", streamTicket: true },
      schema: {
        summary: "Live events of every run and channel on the bench (Server-Sent Events)",
        description:
          "Run events as on the per-run stream, plus `channels` snapshots of every channel and chamber " +
          "(no id; at the sample rate). Never ends by itself.",
        tags: ["live"],
        security: bearerOrTicket,
        querystring: TicketQuery,
        headers: LastEventIdHeaders,
        produces: ["text/event-stream"],
        response: { 200: SSE_RESPONSE[200], ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const header = request.headers["last-event-id"];
      const lastId = header === undefined ? undefined : Number(header);
      const stream = open(reply);
      const rate = ctx.options.sampleRateHz ?? 1;
      const snapshots = setInterval(
        () => stream.event("channels", channelsSnapshot(ctx.bench)),
        rate > 0 && Number.isFinite(rate) ? Math.max(100, 1000 / rate) : 1000,
      );
      snapshots.unref();
      stream.onClose(() => clearInterval(snapshots));
      followLive(stream, lastId, {
        newestId: ctx.hub.lastId,
        listen: (listener) => ctx.hub.listenBench(listener),
        snapshot: () => stream.event("channels", channelsSnapshot(ctx.bench)),
        replay: (after) => ctx.hub.replayBench(after),
        endOnTerminal: false,
      });
      return reply;
    },
  );
}

interface LiveSource {
  /** The hub's newest event id: a client without Last-Event-ID starts after it. */
  newestId: number;
  listen(listener: (e: LiveEvent) => void): () => void;
  /** Writes the state a new client starts from. */
  snapshot(): void;
  replay(after: number): { events: LiveEvent[]; gap: boolean };
  /** Ends the stream after a terminal event (a run's stream; the bench's never ends). */
  endOnTerminal: boolean;
}

/**
 * Catches `stream` up (a snapshot, or a replay after `lastId`), then follows live events. It listens
 * first and holds live events back while catching up, so nothing falls between the two, and sends
 * every event id once, in order.
 */
function followLive(stream: SseStream, lastId: number | undefined, source: LiveSource): void {
  const held: LiveEvent[] = [];
  let live = false;
  let sentThrough = lastId ?? source.newestId;
  const send = (e: LiveEvent) => {
    if (e.id <= sentThrough) return;
    sentThrough = e.id;
    stream.write(e.text);
    if (source.endOnTerminal && e.terminal) stream.end();
  };
  stream.onClose(source.listen((e) => (live ? send(e) : held.push(e))));
  if (lastId === undefined) {
    source.snapshot();
  } else {
    const { events, gap } = source.replay(lastId);
    if (gap)
      stream.event("gap", { after: lastId, detail: "some events after this id are no longer buffered" });
    for (const e of events) send(e);
  }
  live = true;
  for (const e of held.splice(0)) send(e);
}

function endedState(info: {
  id: string;
  channel: string;
  state: string;
  reason: string;
  history: { tWallMs: number }[];
}) {
  const last = info.history[info.history.length - 1];
  return {
    run: info.id,
    channel: info.channel,
    time: new Date(last?.tWallMs ?? 0).toISOString(),
    state: info.state,
    reason: info.reason,
    step_index: null,
    terminal: true,
  };
}
