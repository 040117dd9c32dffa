/** Request and response schemas of channel queues and batches (see schemas.ts for the conventions). */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { RUN_ID_PATTERN } from "./run-ids.js";
import { CellInput, ChannelId, CreateRunBody, PROFILE_ID_PATTERN, ProfileInput, RunView } from "./schemas.js";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const TemperatureOverride = CreateRunBody.properties.temperature_override;

export const ChannelParams = Type.Object({ id: ChannelId }, { additionalProperties: false });

export const QueueEntryParams = Type.Object(
  { entry: Type.String({ pattern: RUN_ID_PATTERN, description: "The run id the queued run was given" }) },
  { additionalProperties: false },
);

export const QueueRunBody = Type.Object(
  { ...CreateRunBody.properties, channel: Type.Optional(ChannelId) },
  {
    additionalProperties: false,
    description:
      "The body of POST /api/v1/runs; channel may be left out (the path names it). Give exactly one of profile and profile_id",
  },
);
export type QueueRunBodyT = Static<typeof QueueRunBody>;

export const QueueView = Type.Object({
  channel: Type.String(),
  held: Nullable(
    Type.String({
      description:
        "Why the queue starts nothing until an operator resumes it (a run did not complete, a start was refused, a restart); null: the next run starts when the current one completes",
    }),
  ),
  current: Nullable(Type.String({ description: "The run on the channel now, if it has not ended" })),
  runs: Type.Array(Type.Ref(RunView), { description: "The queued runs in order (state queued)" }),
});
export type QueueViewT = Static<typeof QueueView>;

export const BATCH_ID_PATTERN = "^B[0-9]{8}-[0-9]{4,6}$";
export const BatchIdParams = Type.Object(
  { id: Type.String({ pattern: BATCH_ID_PATTERN, description: "Batch id, B<yyyymmdd>-<sequence>" }) },
  { additionalProperties: false },
);

export const CreateBatchBody = Type.Object(
  {
    channels: Type.Array(
      Type.Object(
        { channel: ChannelId, cell: CellInput, temperature_override: TemperatureOverride },
        { additionalProperties: false },
      ),
      { minItems: 2, maxItems: 64, description: "Two or more channels of one chamber, each with its cell" },
    ),
    profile: Type.Optional(ProfileInput),
    profile_id: Type.Optional(Type.String({ pattern: PROFILE_ID_PATTERN, description: "A stored profile" })),
  },
  { additionalProperties: false, description: "Give exactly one of profile and profile_id" },
);
export type CreateBatchBodyT = Static<typeof CreateBatchBody>;

export const BatchView = Type.Object(
  {
    id: Type.String(),
    chamber: Type.String(),
    profile: Type.String({ description: "Profile name" }),
    profile_id: Nullable(Type.String()),
    created_at: Type.String({ format: "date-time" }),
    state: Type.Union([Type.Literal("running"), Type.Literal("held"), Type.Literal("ended")], {
      description: "held: the chamber is latched in safe state after a cell's fault (its other runs paused)",
    }),
    held: Nullable(Type.String({ description: "The chamber's latch reason while held" })),
    runs: Type.Array(
      Type.Object({
        channel: Type.String(),
        run: Nullable(Type.Ref(RunView)),
        waits_at: Nullable(
          Type.Object(
            {
              step: Type.String({
                description: "Chamber step path and loop iterations, e.g. steps[2].sweep[1]@1",
              }),
              phase: Type.Union([Type.Literal("set"), Type.Literal("soaked")], {
                description: "set: before the set point is sent; soaked: after its own soak",
              }),
            },
            { description: "The chamber step at which this run waits for the batch's other runs" },
          ),
        ),
      }),
    ),
  },
  { description: "One profile on several channels of one chamber, meeting at every chamber step" },
);
export type BatchViewT = Static<typeof BatchView>;

export const BatchList = Type.Object({ batches: Type.Array(BatchView) });
