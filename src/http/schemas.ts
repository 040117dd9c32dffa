/**
 * The API's request and response schemas (TypeBox): the source of truth for validation, response
 * serialisation, the OpenAPI document at /docs/json, and the TypeScript types of the views.
 * Names are snake_case with units, like the InfluxDB fields; current positive = charge.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { ID_PATTERN, TAG_VALUE_MAX_CHARS } from "../storage/tag-values.js";
import { RUN_ID_PATTERN } from "./run-ids.js";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const RunStateSchema = Type.Union(
  ["queued", "running", "paused", "completed", "stopped", "aborted", "faulted", "interrupted"].map((s) =>
    Type.Literal(s),
  ),
  { description: "queued → running ⇄ paused → completed | stopped | aborted | faulted | interrupted" },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: "URI naming the kind of problem" }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: "What happened and what to change" }),
    code: Type.String({ description: "Stable error code, e.g. UNKNOWN_RUN, PROFILE_INVALID" }),
    instance: Type.String({ description: "The request path" }),
    issues: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({
            description: "The field (body.channel) or profile step (body.profile.steps[2])",
          }),
          message: Type.String(),
        }),
      ),
    ),
  },
  { $id: "Problem", description: "RFC 9457 problem details (application/problem+json)" },
);

/** Error responses every route may give; listed in OpenAPI. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: "Problem details with a stable code",
        content: { "application/problem+json": { schema: Type.Ref(ProblemSchema) } },
      },
    ]),
  );

// ---- shared pieces -------------------------------------------------------------------------------

export const RunIdParams = Type.Object(
  { id: Type.String({ pattern: RUN_ID_PATTERN, description: "Run id, R<yyyymmdd>-<sequence>" }) },
  { additionalProperties: false },
);

export const PROFILE_ID_PATTERN = "^P[0-9a-f]{12}$";
export const ProfileIdParams = Type.Object(
  { id: Type.String({ pattern: PROFILE_ID_PATTERN, description: "Stored profile id" }) },
  { additionalProperties: false },
);

export const ChannelId = Type.String({
  pattern: ID_PATTERN,
  description: "A channel of this bench (GET /api/v1/bench)",
});

/** Largest profile text accepted inline (the body limit still applies). */
export const MAX_PROFILE_TEXT = 512 * 1024;

export const ProfileInput = Type.Union(
  [
    Type.String({
      minLength: 1,
      maxLength: MAX_PROFILE_TEXT,
      description: "Profile document as YAML or JSON text",
    }),
    Type.Object(
      {},
      {
        additionalProperties: true,
        description: `Profile document (DESIGN §4): name (1 to ${TAG_VALUE_MAX_CHARS} characters, no control characters or backslashes), safety, log, steps`,
      },
    ),
  ],
  { description: "A profile: the document as an object, or its YAML/JSON text" },
);

const Loose = (description: string) => Type.Unknown({ description });

export const CellInput = Type.Object(
  {
    id: Loose(
      `Cell id (a string), e.g. NMC-0042; stored as an InfluxDB tag: 1 to ${TAG_VALUE_MAX_CHARS} characters, no control characters or backslashes`,
    ),
    chemistry: Loose("li-ion-nmc | li-ion-lfp | asslb-sulfide"),
    capacity_ah: Loose('Nominal capacity, Ah: a number (3) or a string with its unit ("3 Ah"), never "3"'),
    voltage: Type.Optional(Loose("[min, max] V; default the chemistry window")),
    current: Loose("[max discharge (≤ 0), max charge (≥ 0)] A"),
    temperature: Type.Optional(Loose("[min, max] °C")),
    charge_temperature: Type.Optional(Loose("[min, max] °C")),
    discharge_temperature: Type.Optional(Loose("[min, max] °C")),
    override: Type.Optional(Loose("Explicit widening of the chemistry envelope, with a reason")),
    description: Type.Optional(Loose("Free text")),
  },
  {
    additionalProperties: true,
    description:
      "The cell on the channel (DESIGN §5); checked against its chemistry's envelope. " +
      'Every quantity is a number in SI units or a string with its unit ("4.2 V"); a number in quotes is refused (400).',
  },
);

// ---- bench ---------------------------------------------------------------------------------------

/** Each configured temperature sensor's value, by `device:input`. */
const SensorValues = Type.Record(Type.String(), Type.Number(), {
  description: 'Each configured sensor, by "device:input" (temperature_c is the hottest)',
});

export const SampleView = Type.Object({
  time: Type.String({ format: "date-time" }),
  voltage_v: Nullable(Type.Number()),
  current_a: Nullable(Type.Number()),
  temperature_c: Nullable(Type.Number()),
  age_s: Type.Number({ description: "Seconds since the sample was taken (bench clock)" }),
  temperature_age_s: Nullable(
    Type.Number({ description: "Age of the sensor scan behind temperature_c (channels with sensors)" }),
  ),
  temperature_fault: Nullable(
    Type.String({ description: "Why a channel with sensors has no temperature: a safety fault" }),
  ),
  sensors_c: Nullable(SensorValues),
});

/** The link to a device as its driver reports it (simulated devices are always up). */
const LinkView = Type.Object({
  state: Type.Union([Type.Literal("up"), Type.Literal("down"), Type.Literal("unusable")]),
  /** When the state last changed; null while the link has never dropped. */
  since: Nullable(Type.String({ format: "date-time" })),
  reason: Nullable(Type.String()),
  losses: Type.Integer(),
  reconnects: Type.Integer(),
});

export const ClockView = Type.Object(
  {
    kind: Type.Union([Type.Literal("real"), Type.Literal("simulated")]),
    speed: Nullable(Type.Number({ description: "Target speed factor; null when as fast as possible" })),
    achieved_speed: Nullable(
      Type.Number({
        description:
          "Simulated seconds per real second over the last few seconds; below speed when the host cannot keep up (time slows down, no tick is skipped)",
      }),
    ),
    slowdowns: Type.Integer({ description: "Times the simulation fell behind and slowed down" }),
    lost_real_s: Type.Number({ description: "Real time those slowdowns cost, s" }),
  },
  {
    description:
      "The bench clock: real, or simulated time paced at --speed (timestamps are simulated wall time)",
  },
);

export type ClockViewT = Static<typeof ClockView>;

export const BenchView = Type.Object({
  bench: Type.String(),
  time: Type.String({ format: "date-time", description: "Bench clock, UTC" }),
  speed: Nullable(Type.Number({ description: "Clock speed factor; null when as fast as possible" })),
  clock: ClockView,
  sampling_period_ms: Type.Number(),
  channels: Type.Array(
    Type.Object({
      id: Type.String(),
      device: Type.String(),
      chamber: Nullable(Type.String()),
      cell: Nullable(
        Type.String({
          description:
            "The cell mounted on the channel (PUT /api/v1/channels/:id/cell); runs without cell use it",
        }),
      ),
      cell_inside: Nullable(
        Type.String({
          description:
            "The cell the safety supervisor holds in the channel's chamber: from its run's start until an operator takes it out (DELETE /api/v1/channels/:id/cell)",
        }),
      ),
      run: Nullable(Type.Object({ id: Type.String(), state: RunStateSchema })),
      read_errors: Type.Integer(),
      temperature_sensors: Type.Array(Type.String(), {
        description: 'The sensors on the cell ("device:input"); empty: the channel\'s own reading, if any',
      }),
      ranges: Type.Object({
        voltage_v: Type.Array(Type.Number()),
        current_a: Type.Array(Type.Number()),
        power_w: Type.Number(),
      }),
      last_sample: Nullable(SampleView),
    }),
  ),
  chambers: Type.Array(
    Type.Object({
      id: Type.String(),
      device: Type.String(),
      channels: Type.Array(Type.String()),
      owner: Nullable(Type.String({ description: "Run (R…) or batch (B…) that drives the set point" })),
      read_errors: Type.Integer(),
      last_reading: Nullable(
        Type.Object({
          time: Type.String({ format: "date-time" }),
          temperature_c: Nullable(Type.Number()),
          setpoint_c: Nullable(Type.Number()),
          output_pct: Nullable(Type.Number()),
          sensors_c: Nullable(SensorValues),
          sensor_fault: Nullable(Type.String()),
        }),
      ),
    }),
  ),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      driver: Type.String(),
      channels: Type.Array(Type.String()),
      temperature_inputs: Type.Array(Type.String(), {
        description: "Inputs of a sensor device; empty for others",
      }),
      link: LinkView,
    }),
  ),
});
export type BenchViewT = Static<typeof BenchView>;

// ---- runs ----------------------------------------------------------------------------------------

export const RecordView = Type.Object({
  time: Type.String({ format: "date-time" }),
  test_time_s: Type.Number(),
  step_time_s: Type.Number(),
  voltage_v: Nullable(Type.Number()),
  current_a: Nullable(Type.Number()),
  temperature_c: Nullable(Type.Number()),
  sensors_c: Type.Optional(SensorValues),
  power_w: Nullable(Type.Number()),
  charge_ah: Type.Number(),
  discharge_ah: Type.Number(),
  charge_wh: Type.Number(),
  discharge_wh: Type.Number(),
  step_index: Type.Integer(),
  cycle_index: Type.Integer(),
});
export type RecordViewT = Static<typeof RecordView>;

export const ProgressView = Type.Object({
  fraction: Type.Number({ minimum: 0, maximum: 1 }),
  remaining_s: Type.Number(),
  estimated_total_s: Type.Number(),
  eta: Type.String({ format: "date-time", description: "Bench clock" }),
});

export const RunView = Type.Object(
  {
    id: Type.String(),
    channel: Type.String(),
    cell: Type.String({ description: "Cell id" }),
    profile: Type.String({ description: "Profile name" }),
    profile_id: Nullable(Type.String()),
    state: RunStateSchema,
    reason: Type.String(),
    cleared: Type.Boolean({ description: "A latched fault was cleared by an operator" }),
    created_at: Type.String({ format: "date-time" }),
    step: Nullable(
      Type.Object({
        index: Type.Integer({ description: "Counts every step started, from 1" }),
        path: Nullable(
          Type.String({ description: "Where the step is in the profile, e.g. steps[2].steps[1]" }),
        ),
        text: Nullable(Type.String()),
        elapsed_s: Type.Number(),
      }),
    ),
    cycle_index: Nullable(Type.Integer()),
    test_time_s: Nullable(Type.Number()),
    charge_ah: Nullable(Type.Number()),
    discharge_ah: Nullable(Type.Number()),
    charge_wh: Nullable(Type.Number()),
    discharge_wh: Nullable(Type.Number()),
    last_sample: Nullable(RecordView),
    progress: Nullable(ProgressView),
    history: Type.Array(
      Type.Object({ state: RunStateSchema, at: Type.String({ format: "date-time" }), reason: Type.String() }),
    ),
    time_range: Type.Object(
      {
        from: Type.String({ format: "date-time", description: "When the run was created" }),
        to: Nullable(
          Type.String({ format: "date-time", description: "When it ended; null while it has not" }),
        ),
      },
      {
        description:
          "Bench clock. On a sped-up simulated bench this is simulated wall time, ahead of the real clock: query the run's data by this range, not by 'the last hour'",
      },
    ),
    dashboard: Type.String({
      description:
        "Path and query of the Grafana run dashboard (/d/cellbench-run) on this run (bench, channel, run and its time range), relative to Grafana's base URL",
    }),
  },
  { $id: "Run" },
);
export type RunViewT = Static<typeof RunView>;

export const RunList = Type.Object({ runs: Type.Array(Type.Ref(RunView)) });

export const RunListQuery = Type.Object(
  { state: Type.Optional(RunStateSchema) },
  { additionalProperties: false },
);

export const CreateRunBody = Type.Object(
  {
    channel: ChannelId,
    cell: Type.Optional(CellInput),
    profile: Type.Optional(ProfileInput),
    profile_id: Type.Optional(Type.String({ pattern: PROFILE_ID_PATTERN, description: "A stored profile" })),
    temperature_override: Type.Optional(
      Type.Object(
        { reason: Type.String({ minLength: 1, maxLength: 500 }) },
        {
          additionalProperties: false,
          description:
            "Run on a channel that measures no cell temperature (its temperature limits cannot be enforced); the reason is recorded with the run",
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Give exactly one of profile and profile_id. Leave out cell to run the cell mounted on the channel " +
      "(PUT /api/v1/channels/:id/cell); a channel with a mounted cell runs no other (409 CHANNEL_HAS_CELL)",
  },
);
export type CreateRunBodyT = Static<typeof CreateRunBody>;

export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      pattern: "^[\\x21-\\x7e]{1,255}$",
      description: "A retry with the same key and body returns the first response",
    }),
  ),
});

export const ControlAction = Type.Union(
  ["pause", "resume", "stop", "abort", "clear"].map((a) => Type.Literal(a)),
);

// ---- profiles ------------------------------------------------------------------------------------

export const StoreProfileBody = Type.Object({ profile: ProfileInput }, { additionalProperties: false });

export const ProfileSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  steps: Type.Integer({ description: "Top-level steps" }),
  created_at: Type.String({ format: "date-time" }),
  sha256: Type.String(),
});

export const StoredProfileView = Type.Composite([
  ProfileSummary,
  Type.Object({ format: Type.Union([Type.Literal("yaml"), Type.Literal("json")]), source: Type.String() }),
]);

export const ProfileList = Type.Object({ profiles: Type.Array(ProfileSummary) });

export const CheckProfileBody = Type.Object(
  {
    profile: Type.Optional(ProfileInput),
    profile_id: Type.Optional(Type.String({ pattern: PROFILE_ID_PATTERN })),
    cell: CellInput,
    channel: Type.Optional(ChannelId),
    initial_soc: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Default 0.5" })),
  },
  { additionalProperties: false, description: "Give exactly one of profile and profile_id" },
);

export const EstimateView = Type.Object({
  state: RunStateSchema,
  reason: Type.String(),
  complete: Type.Boolean({ description: "False when the dry run was cut at the simulation budget" }),
  sample_period_s: Type.Number({
    description:
      "Sample period of the simulation: 1 s (or the profile's fastest logging) when the profile fits the budget, 30 s beyond it (each step may end up to one sample late)",
  }),
  duration_s: Type.Number(),
  steps_executed: Type.Integer(),
  cycles: Type.Integer(),
  charge_ah: Type.Number(),
  discharge_ah: Type.Number(),
  charge_wh: Type.Number(),
  discharge_wh: Type.Number(),
  steps: Type.Array(
    Type.Object({
      index: Type.Integer(),
      path: Type.String(),
      text: Type.String(),
      start_s: Type.Number(),
      duration_s: Type.Number(),
    }),
    { description: "The first 200 steps executed" },
  ),
});

export const CheckResult = Type.Object({
  valid: Type.Boolean(),
  profile: Type.Object({ name: Type.String(), steps: Type.Integer() }),
  cell: Type.Object({ id: Type.String(), chemistry: Type.String(), capacity_ah: Type.Number() }),
  estimate: EstimateView,
});

// ---- configuration -------------------------------------------------------------------------------

/** What every secret of the configuration reads as in GET /api/v1/config. */
export const REDACTED = "***";
const Redacted = Type.Literal(REDACTED, { description: "Set; the value is never shown" });

const RateLimitView = Type.Object({ max: Type.Integer(), windowMs: Type.Integer() });

export const ConfigView = Type.Object(
  {
    source: Type.String({ description: "The configuration file the daemon read" }),
    bench: Type.String(),
    http: Type.Object({
      host: Type.String(),
      port: Type.Integer(),
      requestsPerSecond: Type.Number({
        description: "Requests the API handles per second, all clients together",
      }),
      rateLimit: Type.Object(
        { control: RateLimitView, check: RateLimitView },
        { description: "Per-token limits: control routes; profile checks and stream tickets" },
      ),
    }),
    influx: Nullable(
      Type.Object({
        url: Type.String({ description: "Credentials in the URL are redacted" }),
        database: Type.String(),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Redacted),
        token: Type.Optional(Redacted),
        retention: Type.Object({
          raw: Type.String({ description: 'How long raw points are kept: "INF" (forever) or e.g. "400d"' }),
        }),
        catchUpPointsPerSecond: Type.Integer({
          description: "Pace of a backlog after an outage, points per second (influx.catchUpPointsPerSecond)",
        }),
      }),
    ),
    store: Type.String({ description: "The database of runs and profiles" }),
    devices: Type.Array(
      Type.Object({
        id: Type.String(),
        driver: Type.String(),
        transport: Nullable(Type.String({ description: "Credentials in the URL are redacted" })),
        channels: Type.Array(Type.String()),
        options: Type.Record(Type.String(), Type.Unknown(), {
          description:
            "Driver options; values under keys naming a secret (password, token, api key, ...) are redacted",
        }),
      }),
    ),
    chambers: Type.Array(
      Type.Object({ id: Type.String(), device: Type.String(), channels: Type.Array(Type.String()) }),
    ),
    sampling: Type.Object({
      period_ms: Type.Number(),
      watchdog_ms: Type.Number({ description: "A channel silent this long goes to safe state" }),
      realtime_priority: Type.Union([Type.Integer(), Type.Null()], {
        description:
          "SCHED_FIFO priority asked for the sampling thread (sampling.realtime_priority); null: none",
      }),
    }),
    auth: Type.Object({
      tokens: Type.Array(
        Type.Object({
          role: Type.Union([Type.Literal("viewer"), Type.Literal("operator"), Type.Literal("admin")]),
          token: Redacted,
        }),
        { description: "From the configuration and CELLBENCH_TOKENS; the tokens themselves are never shown" },
      ),
    }),
  },
  { description: "The daemon's effective bench configuration (defaults applied), every secret redacted" },
);
export type ConfigViewT = Static<typeof ConfigView>;

// ---- export, emergency stop, health --------------------------------------------------------------

export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Literal("bdf-csv", { description: "Battery Data Format CSV (default)" })) },
  { additionalProperties: false },
);

export const EmergencyStopBody = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
  Type.Null(),
]);

export const EmergencyStopResult = Type.Object({
  faulted: Type.Array(Type.Ref(RunView)),
  channels_safe: Type.Integer(),
});

export const HealthView = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded"), Type.Literal("failing")]),
  problems: Type.Array(Type.String()),
  bench: Type.String(),
  uptime_s: Type.Number(),
  clock: ClockView,
  runs_active: Type.Integer(),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      driver: Type.String(),
      read_errors: Type.Integer(),
      last_sample_age_s: Nullable(Type.Number()),
      fresh: Type.Boolean(),
      link: LinkView,
    }),
  ),
  storage: Nullable(
    Type.Object({
      influx_reachable: Nullable(Type.Boolean()),
      backlog_rows: Type.Integer(),
      backlog_points: Type.Integer(),
      oldest_unsent_age_s: Nullable(Type.Number()),
      catching_up: Type.Boolean({
        description: "A backlog is being sent at the catch-up rate (influx.catchUpPointsPerSecond)",
      }),
      dead_letters: Type.Integer(),
      unencodable: Type.Integer({
        description: "Records not stored because line protocol cannot carry them",
      }),
    }),
  ),
});
