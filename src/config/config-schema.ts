import { type Static, Type } from "@sinclair/typebox";
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

export const ConfigSchema = Type.Object(
  {
    bench: Id,
    http: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
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
      Type.Object({ period: Duration, watchdog: Type.Optional(Duration) }, { additionalProperties: false }),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          tokens: Type.Array(
            Type.Object(
              {
                role: Type.Union([Type.Literal("viewer"), Type.Literal("operator"), Type.Literal("admin")]),
                token: Type.String({ minLength: 16 }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;
