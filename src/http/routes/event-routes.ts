import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../auth.js";
import { ConcurrencyLimit } from "../concurrency-limit.js";
import { type LiveEvent, REPLAY_MAX_EVENTS, type Replay } from "../event-hub.js";
import { DEFAULT_CHECK_RATE_LIMIT } from "../rate-limits.js";
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
      "the stream ends after the terminal state event. Ids increase; reconnect with Last-Event-ID to resume " +
      `(at most the newest ${REPLAY_MAX_EVENTS} events are replayed; a gap event says when more were missed). ` +
      "A client that leaves 64 KiB of output unread, or keeps it back-pressured for 10 s, gets a `dropped` " +
      "event with the reason and the stream ends. Beyond the stream limits: 429 (this token) or 503 (all).",
    content: { "text/event-stream": { schema: Type.String() } },
  },
  204: { description: "The run has ended and the client has seen its last event", type: "null" },
};

/** Default most open event streams per token (HttpOptions.streams.perToken). */
export const STREAMS_PER_TOKEN = 8;
/** Default most open event streams in total (HttpOptions.streams.total). */
export const STREAMS_TOTAL = 64;
/** Events written at once while replaying; the replay yields to the event loop between slices. */
const REPLAY_SLICE_EVENTS = 32;
/** Replay slices written per event-loop turn, over all streams replaying at once. */
const REPLAY_SLICES_PER_TURN = 4;

/**
 * Takes turns between the replays in progress: each slice waits for a turn, and a few turns are
 * given per event-loop turn (setImmediate), so however many clients resume at once, a replay never
 * holds the loop for more than a few slices.
 */
class ReplayTurns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  /** Resolves when the caller may write one slice. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const resolve of this.waiting.splice(0, REPLAY_SLICES_PER_TURN)) resolve();
      if (this.waiting.length > 0) this.schedule();
    });
  }
}

/**
 * GET /api/v1/runs/:id/events, GET /api/v1/events (Server-Sent Events) and POST /api/v1/stream-tickets.
 * Open streams are limited per token and in total (HttpOptions.streams; 429 / 503 with Retry-After
 * beyond), a slow reader is dropped with a reason (SseStream), and a Last-Event-ID replay is bounded
 * and written in slices that yield to the event loop.
 */
export function registerEventRoutes(app: App, ctx: ServerContext): void {
  const ticketLimit = ctx.options.checkRateLimit ?? DEFAULT_CHECK_RATE_LIMIT;
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

  const turns = new ReplayTurns();
  const limit = new ConcurrencyLimit({
    what: "event streams",
    perToken: ctx.options.streams?.perToken ?? STREAMS_PER_TOKEN,
    total: ctx.options.streams?.total ?? STREAMS_TOTAL,
    retryAfterS: 5,
  });
  /** Takes a stream slot (or throws BusyError: 429 / 503 before any header goes out), then opens the stream. */
  const open = (request: FastifyRequest, reply: FastifyReply): SseStream => {
    const principal = request.principal as Principal;
    const release = limit.acquire(principal.id);
    let stream: SseStream;
    try {
      stream = new SseStream(reply, {
        heartbeatMs: ctx.options.heartbeatMs ?? 15_000,
        onDrop: (reason, bufferedBytes) =>
          request.log.warn(
            { principal: principal.id, url: request.routeOptions.url, bufferedBytes, reason },
            "event stream client dropped",
          ),
      });
    } catch (err) {
      release();
      throw err;
    }
    ctx.streams.add(stream);
    stream.onClose(() => {
      ctx.streams.delete(stream);
      release();
    });
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
        response: { ...SSE_RESPONSE, ...errorResponses(400, 401, 403, 404, 429, 503) },
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
        const stream = open(request, reply);
        if (lastId === undefined) {
          stream.event("snapshot", runView(before, ctx.bench.clock.wallNow()));
          if (terminal) stream.write(terminal.text);
          else stream.event("state", endedState(before));
          stream.end();
        } else {
          const { events, gap } = ctx.hub.replayRun(id, lastId);
          if (gap) stream.event("gap", gapNotice(lastId));
          void writeInSlices(turns, stream, events).then(() => stream.end());
        }
        return reply;
      }

      const stream = open(request, reply);
      followLive(turns, stream, lastId, {
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
        response: { 200: SSE_RESPONSE[200], ...errorResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const header = request.headers["last-event-id"];
      const lastId = header === undefined ? undefined : Number(header);
      const stream = open(request, reply);
      const rate = ctx.options.sampleRateHz ?? 1;
      const snapshots = setInterval(
        () => stream.event("channels", channelsSnapshot(ctx.bench)),
        rate > 0 && Number.isFinite(rate) ? Math.max(100, 1000 / rate) : 1000,
      );
      snapshots.unref();
      stream.onClose(() => clearInterval(snapshots));
      followLive(turns, stream, lastId, {
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
  /** The bounded replay after an id (EventHub.replayRun / replayBench). */
  replay(after: number): Replay;
  /** Ends the stream after a terminal event (a run's stream; the bench's never ends). */
  endOnTerminal: boolean;
}

const gapNotice = (after: number) => ({
  after,
  detail: `some events after this id are not replayed (no longer buffered, or beyond the newest ${REPLAY_MAX_EVENTS})`,
});

/**
 * Writes `events` a slice at a time, each in its turn (ReplayTurns: a few slices per event-loop
 * turn over all replays), after the client has taken the previous slice (a client that does not is
 * dropped by the stream's stall deadline): a replay is never one long synchronous burst nor a pile
 * of unread output.
 */
async function writeInSlices(
  turns: ReplayTurns,
  stream: SseStream,
  events: readonly LiveEvent[],
  write = (slice: readonly LiveEvent[]) => stream.write(slice.map((e) => e.text).join("")),
): Promise<void> {
  for (let i = 0; i < events.length; i += REPLAY_SLICE_EVENTS) {
    await stream.whenDrained();
    if (!stream.isClosed) await turns.next();
    if (stream.isClosed) return;
    write(events.slice(i, i + REPLAY_SLICE_EVENTS));
  }
}

/**
 * Catches `stream` up (a snapshot, or a bounded replay after `lastId`, written in slices), then
 * follows live events. It listens first and holds live events back while catching up, so nothing
 * falls between the two, and sends every event id once, in order. A client that falls more than
 * REPLAY_MAX_EVENTS behind while catching up is dropped.
 */
function followLive(
  turns: ReplayTurns,
  stream: SseStream,
  lastId: number | undefined,
  source: LiveSource,
): void {
  const held: LiveEvent[] = [];
  let live = false;
  let sentThrough = lastId ?? source.newestId;
  const send = (e: LiveEvent) => {
    if (e.id <= sentThrough) return;
    sentThrough = e.id;
    stream.queue(e.text);
    if (source.endOnTerminal && e.terminal) stream.end();
  };
  stream.onClose(
    source.listen((e) => {
      if (live) send(e);
      else if (held.length < REPLAY_MAX_EVENTS) held.push(e);
      else stream.drop(`slow reader: fell more than ${REPLAY_MAX_EVENTS} events behind while catching up`);
    }),
  );
  const goLive = () => {
    live = true;
    for (const e of held.splice(0)) send(e);
  };
  if (lastId === undefined) {
    source.snapshot();
    goLive();
    return;
  }
  const { events, gap } = source.replay(lastId);
  if (gap) stream.event("gap", gapNotice(lastId));
  const sendSlice = (slice: readonly LiveEvent[]) => {
    const fresh = slice.filter((e) => e.id > sentThrough);
    const newest = fresh[fresh.length - 1];
    if (!newest) return;
    sentThrough = newest.id;
    stream.write(fresh.map((e) => e.text).join(""));
    if (source.endOnTerminal && fresh.some((e) => e.terminal)) stream.end();
  };
  void writeInSlices(turns, stream, events, sendSlice).then(() => {
    if (!stream.isClosed) goLive();
  });
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
