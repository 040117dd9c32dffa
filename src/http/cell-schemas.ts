/** Schemas of the cell registry routes (cell-routes.ts), in the style of schemas.ts. */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { MAX_LINE_CHARS, MAX_NOTES_CHARS } from "../cell/cell-metadata.js";
import { TAG_VALUE_MAX_CHARS } from "../storage/tag-values.js";
import { CellInput, RunStateSchema } from "./schemas.js";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Loose = (description: string) => Type.Unknown({ description });

/** What a cell document may say beyond its limits; nothing here bounds a run. */
const METADATA_INPUT = {
  maker: Type.Optional(Loose(`Who made the cell (text, at most ${MAX_LINE_CHARS} characters)`)),
  lot: Type.Optional(Loose("Production lot or batch (text)")),
  format: Type.Optional(Loose("18650, 21700, pouch, prismatic, ... (text)")),
  mass_g: Type.Optional(Loose('Mass, g: a number (46.5) or a string with its unit ("46.5 g", "0.0465 kg")')),
  operator: Type.Optional(Loose("Who looks after the cell (text)")),
  project: Type.Optional(Loose("The project the cell belongs to (text)")),
  notes: Type.Optional(Loose(`Free text, line breaks allowed, at most ${MAX_NOTES_CHARS} characters`)),
};

/** Largest cell file accepted as text. */
export const MAX_CELL_TEXT = 64 * 1024;

export const RegisterCellBody = Type.Union([
  Type.Object(
    { ...CellInput.properties, ...METADATA_INPUT },
    {
      additionalProperties: true,
      description:
        "A cell document, as in examples/cells/*.yaml: its limits (checked against its chemistry's envelope) and metadata",
    },
  ),
  Type.String({ minLength: 1, maxLength: MAX_CELL_TEXT, description: "A cell file's YAML/JSON text" }),
]);

export const PatchCellBody = Type.Object(
  {
    ...METADATA_INPUT,
    description: Type.Optional(Loose("Free text")),
    chemistry: Type.Optional(Loose("Only while the cell has no runs")),
    capacity_ah: Type.Optional(Loose("Only while the cell has no runs")),
    voltage: Type.Optional(Loose("Only while the cell has no runs")),
    current: Type.Optional(Loose("Only while the cell has no runs")),
    temperature: Type.Optional(Loose("Only while the cell has no runs")),
    charge_temperature: Type.Optional(Loose("Only while the cell has no runs")),
    discharge_temperature: Type.Optional(Loose("Only while the cell has no runs")),
    derating: Type.Optional(Loose("Only while the cell has no runs")),
    override: Type.Optional(Loose("Only while the cell has no runs")),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      "Keys to change; null removes an optional key. The limits of a cell with runs never change (409 CELL_LIMITS_LOCKED): its history was made under them",
  },
);

export const CellIdParams = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: TAG_VALUE_MAX_CHARS * 4,
      description: "A registered cell's id (URL-encoded)",
    }),
  },
  { additionalProperties: false },
);

export const MountCellBody = Type.Object(
  {
    cell: Type.String({
      minLength: 1,
      maxLength: TAG_VALUE_MAX_CHARS * 4,
      description: "A registered cell's id",
    }),
  },
  { additionalProperties: false },
);

const Range = (unit: string) =>
  Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: `[min, max], ${unit}` });

const CellHistoryView = Type.Object({
  runs: Type.Array(
    Type.Object({
      id: Type.String(),
      channel: Type.String(),
      state: RunStateSchema,
      started_at: Type.String({ format: "date-time" }),
      cycles: Type.Integer(),
      charge_ah: Type.Number(),
      discharge_ah: Type.Number(),
    }),
  ),
  cycle_count: Type.Integer({ description: "Cycles completed over every run of the cell" }),
  charge_ah: Type.Number({ description: "Charge into the cell over every run, Ah" }),
  discharge_ah: Type.Number({ description: "Charge out of the cell over every run, Ah" }),
  first_discharge_ah: Nullable(Type.Number({ description: "Discharge capacity of its first cycle, Ah" })),
  last_discharge_ah: Nullable(Type.Number({ description: "Discharge capacity of its latest cycle, Ah" })),
  capacity_retention: Nullable(Type.Number({ description: "last_discharge_ah / first_discharge_ah" })),
  last_cycle_at: Nullable(Type.String({ format: "date-time" })),
  last_channel: Nullable(Type.String()),
});

const MountView = Nullable(
  Type.Object(
    { channel: Type.String(), since: Type.String({ format: "date-time" }) },
    { description: "Where the cell is mounted" },
  ),
);
const InsideView = Nullable(
  Type.Object(
    { channel: Type.String(), run: Type.String() },
    {
      description:
        "The channel whose chamber the safety supervisor holds the cell in (from a run's start until an operator takes it out)",
    },
  ),
);

export const CellView = Type.Object(
  {
    id: Type.String(),
    chemistry: Type.String(),
    capacity_ah: Type.Number(),
    voltage_v: Range("V"),
    current_a: Range("A"),
    temperature_c: Range("°C"),
    charge_temperature_c: Range("°C"),
    discharge_temperature_c: Range("°C"),
    derating: Nullable(
      Type.Array(
        Type.Object({ temperature_c: Type.Number(), charge_a: Type.Number(), discharge_a: Type.Number() }),
      ),
    ),
    override: Nullable(
      Type.Record(Type.String(), Type.Unknown(), { description: "The widening and its reason" }),
    ),
    description: Nullable(Type.String()),
    maker: Nullable(Type.String()),
    lot: Nullable(Type.String()),
    format: Nullable(Type.String()),
    mass_g: Nullable(Type.Number()),
    operator: Nullable(Type.String()),
    project: Nullable(Type.String()),
    notes: Nullable(Type.String()),
    registered_at: Type.String({ format: "date-time" }),
    updated_at: Type.String({ format: "date-time" }),
    mounted: MountView,
    inside: InsideView,
    history: CellHistoryView,
  },
  { description: "A registered cell: limits, metadata, where it is, its history" },
);
export type CellViewT = Static<typeof CellView>;

export const CellSummaryView = Type.Object({
  id: Type.String(),
  chemistry: Type.String(),
  capacity_ah: Type.Number(),
  maker: Nullable(Type.String()),
  lot: Nullable(Type.String()),
  project: Nullable(Type.String()),
  operator: Nullable(Type.String()),
  mounted_on: Nullable(Type.String()),
  runs: Type.Integer(),
  cycle_count: Type.Integer(),
  last_discharge_ah: Nullable(Type.Number()),
  capacity_retention: Nullable(Type.Number()),
});
export type CellSummaryViewT = Static<typeof CellSummaryView>;

export const CellList = Type.Object({ cells: Type.Array(CellSummaryView) });

export const UnmountResult = Type.Object({
  channel: Type.String(),
  cell: Type.Union([Type.String(), Type.Null()], { description: "The cell taken out, null if none" }),
});
