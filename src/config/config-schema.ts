import { type Static, Type } from "@sinclair/typebox";
import { REALTIME_PRIORITY } from "../sampling/realtime-priority.js";
import {
  CATCH_UP_AFTER_MS,
  CATCH_UP_POINTS_PER_SECOND,
  DEFAULT_CATCH_UP_POINTS_PER_SECOND,
} from "../storage/forwarder.js";
import { ID_PATTERN } from "../storage/tag-values.js";

/** A duration with its unit, e.g. "100 ms", "1 s", or a number of milliseconds. */
const Duration = Type.Union([Type.String({ minLength: 1 }), Type.Number({ exclusiveMinimum: 0 })]);

/** Bench, device, channel and chamber ids; bench, channel and chamber ids become InfluxDB tags. */
const Id = Type.String({ pattern: ID_PATTERN });

/** A temperature input of a sensor device (a DAQ's `101`, a module's `3`). */
const SensorRef = Type.Object(
  {
    device: Id,
    input: Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0 })]),
  },
  { additionalProperties: false },
);
const Sensors = Type.Array(SensorRef, { minItems: 1, maxItems: 16 });

/** A cycler channel: its id, or its id and the sensors on its cell (safety uses the hottest). */
const ChannelEntry = Type.Union([
  Id,
  Type.Object({ id: Id, temperature: Type.Optional(Sensors) }, { additionalProperties: false }),
]);

export const DeviceSchema = Type.Object(
  {
    id: Id,
    driver: Type.String({ pattern: "^[a-z0-9-]+/[a-z0-9-]+$" }),
    transport: Type.Optional(Type.String({ minLength: 1 })),
    channels: Type.Optional(Type.Array(ChannelEntry)),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const ChamberSchema = Type.Object(
  {
    id: Id,
    device: Id,
    channels: Type.Array(Id, { uniqueItems: true }),
    /** Extra temperature sensors in the chamber (recorded with its readings). */
    sensors: Type.Optional(Sensors),
  },
  { additionalProperties: false },
);

/** A rate limit: at most `max` requests per `window` per client (token, or address without one). */
const RateLimit = (description: string) =>
  Type.Object(
    { max: Type.Integer({ minimum: 1 }), window: Duration },
    { additionalProperties: false, description },
  );

export const ConfigSchema = Type.Object(
  {
    bench: Id,
    http: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          cors: Type.Optional(
            Type.Object(
              {
                origins: Type.Array(Type.String({ minLength: 1 }), {
                  description:
                    "Origins (scheme://host[:port]) whose pages may call the API from a browser, e.g. a Grafana at https://grafana.lab:3000; absent or empty: CORS off",
                }),
              },
              { additionalProperties: false },
            ),
          ),
          rateLimit: Type.Optional(
            Type.Object(
              {
                control: Type.Optional(
                  RateLimit(
                    "Requests that change things (start, pause, stop, store a profile, ...) per client and window; default 60 per 1 min",
                  ),
                ),
                check: Type.Optional(
                  RateLimit(
                    "Profile checks (dry runs) and stream tickets per client and window; default 20 per 1 min",
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
          requestsPerSecond: Type.Optional(
            Type.Integer({
              minimum: 10,
              maximum: 100_000,
              description:
                "Requests the API handles per second, all clients together, so that a client hammering it cannot take the sampling thread; more wait their turn, in arrival order; default 250",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    influx: Type.Optional(
      Type.Object(
        {
          url: Type.String({ minLength: 1 }),
          database: Type.String({ minLength: 1 }),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
          token: Type.Optional(Type.String()),
          catchUpPointsPerSecond: Type.Optional(
            Type.Integer({
              minimum: CATCH_UP_POINTS_PER_SECOND.min,
              maximum: CATCH_UP_POINTS_PER_SECOND.max,
              description: `Pace, points per second, at which a backlog (rows older than ${CATCH_UP_AFTER_MS / 1000} s: InfluxDB was away) is sent, so that catching up does not take the host's cores from the sampling thread; live points go at once; keep it well above the bench's logging rate; default ${DEFAULT_CATCH_UP_POINTS_PER_SECOND}`,
            }),
          ),
          /** How long InfluxDB keeps raw points: "inf" (the default) or a duration such as "400d". */
          retention: Type.Optional(
            Type.Object(
              { raw: Type.Optional(Type.String({ minLength: 1 })) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    store: Type.Optional(Type.String({ minLength: 1 })),
    devices: Type.Array(DeviceSchema, { minItems: 1 }),
    chambers: Type.Optional(Type.Array(ChamberSchema)),
    sampling: Type.Optional(
      Type.Object(
        {
          period: Duration,
          watchdog: Type.Optional(Duration),
          realtime_priority: Type.Optional(
            Type.Integer({
              minimum: REALTIME_PRIORITY.min,
              maximum: REALTIME_PRIORITY.max,
              description:
                "Run the sampling thread under SCHED_FIFO at this priority (Linux, util-linux chrt; CAP_SYS_NICE or an RLIMIT_RTPRIO of at least this, e.g. systemd LimitRTPRIO=); without it the daemon samples at nice -10",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    grafana: Type.Optional(
      Type.Object(
        {
          url: Type.String({
            minLength: 1,
            description:
              "Grafana's base URL as a browser reaches it (http or https, no credentials), e.g. http://127.0.0.1:3000; the live page links each run to its dashboard there",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          tokens: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  role: Type.Union([Type.Literal("viewer"), Type.Literal("operator"), Type.Literal("admin")]),
                  token: Type.String({ minLength: 16 }),
                },
                { additionalProperties: false },
              ),
            ),
          ),
          anonymous: Type.Optional(
            Type.String({
              description:
                "The role of requests without a token: only viewer (read the API and live streams, open the live page) may be given; absent: they are refused (401)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;
