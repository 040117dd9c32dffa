/**
 * `cellbench cell ...`: registered cells, a thin client of /api/v1/cells and /api/v1/channels/:id/cell.
 *
 *   cellbench cell add FILE                 register the cell of a YAML/JSON file (limits and metadata)
 *   cellbench cell list                     registered cells, where they are mounted, cycles, capacity
 *   cellbench cell show ID                  one cell: limits, metadata, mount, history of runs
 *   cellbench cell mount ID CHANNEL         runs on CHANNEL then use this cell
 *   cellbench cell unmount CHANNEL          the cell was taken off CHANNEL (out of its chamber)
 */
import { UsageError } from "../cli-error.js";
import { type CommandHelp, renderHelp, unhandledCommand, usageLine } from "../help.js";
import type { ApiClient } from "./api-client.js";
import { fixed, table } from "./format.js";
import { readText } from "./input-files.js";

type CellSub = "add" | "list" | "show" | "mount" | "unmount";

const CELL_SUBCOMMANDS: Readonly<Record<CellSub, CommandHelp>> = {
  add: {
    summary: "register the cell of a YAML/JSON file",
    args: "FILE",
    details: "example:\n  cellbench cell add examples/cells/nmc-18650.yaml",
  },
  list: { summary: "registered cells, their mounts, cycles, capacity" },
  show: { summary: "a cell's limits, metadata, mount and history of runs", args: "CELL_ID" },
  mount: {
    summary: "runs on CHANNEL then use this cell",
    details: "`cellbench run start --channel CHANNEL` then needs no --cell.",
    args: "CELL_ID CHANNEL",
  },
  unmount: { summary: "the cell was taken off CHANNEL (out of its chamber)", args: "CHANNEL" },
};

export const CELL_HELP: CommandHelp = {
  summary: "registered cells and the channels they are mounted on",
  subcommands: CELL_SUBCOMMANDS,
};

interface CellJson {
  id: string;
  chemistry: string;
  capacity_ah: number;
  voltage_v: number[];
  current_a: number[];
  temperature_c: number[];
  charge_temperature_c: number[];
  discharge_temperature_c: number[];
  description: string | null;
  maker: string | null;
  lot: string | null;
  format: string | null;
  mass_g: number | null;
  operator: string | null;
  project: string | null;
  notes: string | null;
  mounted: { channel: string; since: string } | null;
  inside: { channel: string; run: string } | null;
  history: {
    runs: {
      id: string;
      channel: string;
      state: string;
      started_at: string;
      cycles: number;
      charge_ah: number;
      discharge_ah: number;
    }[];
    cycle_count: number;
    charge_ah: number;
    discharge_ah: number;
    first_discharge_ah: number | null;
    last_discharge_ah: number | null;
    capacity_retention: number | null;
  };
}

interface CellSummaryJson {
  id: string;
  chemistry: string;
  capacity_ah: number;
  maker: string | null;
  lot: string | null;
  project: string | null;
  mounted_on: string | null;
  runs: number;
  cycle_count: number;
  last_discharge_ah: number | null;
  capacity_retention: number | null;
}

const ARITY: Readonly<Record<CellSub, number>> = { add: 1, list: 0, show: 1, mount: 2, unmount: 1 };

/** Runs `cellbench cell SUB ...` (args start at SUB); throws ApiError or UsageError. */
export async function cellCommand(
  client: ApiClient,
  args: string[],
  print: (line: string) => void,
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || !Object.hasOwn(ARITY, sub)) {
    throw new UsageError(`unknown cell command "${sub ?? ""}"\n${renderHelp(["cell"], CELL_HELP)}`);
  }
  const command = sub as CellSub;
  if (rest.length !== ARITY[command])
    throw new UsageError(`usage: ${usageLine(["cell", command], CELL_SUBCOMMANDS[command])}`);
  const [a = "", b = ""] = rest;
  const cellPath = (id: string) => `/api/v1/cells/${encodeURIComponent(id)}`;
  const channelPath = (channel: string) => `/api/v1/channels/${encodeURIComponent(channel)}/cell`;
  switch (command) {
    case "add": {
      // Sent as the file's text: the daemon reads it as leniently as a cell file (`lot: 7`).
      const body = await client.postText<CellJson>(
        "/api/v1/cells",
        readText(a, "cell add"),
        "application/yaml",
      );
      print(`registered cell ${body.id}: ${body.chemistry}, ${body.capacity_ah} Ah`);
      return;
    }
    case "list": {
      const { cells } = await client.get<{ cells: CellSummaryJson[] }>("/api/v1/cells");
      if (cells.length === 0) {
        print("no registered cells");
        return;
      }
      const rows = cells.map((c) => [
        c.id,
        c.chemistry,
        fixed(c.capacity_ah, 3),
        c.mounted_on ?? "-",
        String(c.runs),
        String(c.cycle_count),
        fixed(c.last_discharge_ah, 4),
        c.capacity_retention === null ? "-" : `${(c.capacity_retention * 100).toFixed(1)} %`,
        [c.maker, c.lot, c.project].filter((x) => x !== null).join(" / ") || "-",
      ]);
      for (const line of table(
        [
          "CELL",
          "CHEMISTRY",
          "AH",
          "CHANNEL",
          "RUNS",
          "CYCLES",
          "LAST AH",
          "RETENTION",
          "MAKER / LOT / PROJECT",
        ],
        rows,
      ))
        print(line);
      return;
    }
    case "show":
      for (const line of cellDetail(await client.get<CellJson>(cellPath(a)))) print(line);
      return;
    case "mount": {
      const body = await client.put<CellJson>(channelPath(b), { cell: a });
      print(`mounted cell ${body.id} on ${b}; runs on ${b} without --cell use it`);
      return;
    }
    case "unmount": {
      const body = await client.delete<{ channel: string; cell: string | null }>(channelPath(a));
      print(
        body.cell === null ? `no cell on ${body.channel}` : `cell ${body.cell} taken off ${body.channel}`,
      );
      return;
    }
    default:
      // A command in ARITY and the help but handled nowhere fails to compile here.
      return unhandledCommand(command);
  }
}

function cellDetail(c: CellJson): string[] {
  const range = (r: number[], unit: string) => `${r[0]}..${r[1]} ${unit}`;
  const h = c.history;
  const lines = [
    `cell      ${c.id}: ${c.chemistry}, ${c.capacity_ah} Ah${c.description ? ` (${c.description})` : ""}`,
    `limits    ${range(c.voltage_v, "V")}, ${range(c.current_a, "A")}, ${range(c.temperature_c, "°C")} (charge ${range(c.charge_temperature_c, "°C")}, discharge ${range(c.discharge_temperature_c, "°C")})`,
  ];
  const meta: [string, string | number | null][] = [
    ["maker", c.maker],
    ["lot", c.lot],
    ["format", c.format],
    ["mass", c.mass_g === null ? null : `${c.mass_g} g`],
    ["operator", c.operator],
    ["project", c.project],
  ];
  for (const [key, value] of meta) if (value !== null) lines.push(`${key.padEnd(10)}${value}`);
  if (c.notes !== null) lines.push(`notes     ${c.notes.replaceAll("\n", "\n          ")}`);
  lines.push(
    `mounted   ${c.mounted ? `on ${c.mounted.channel} since ${c.mounted.since}` : "no"}${c.inside ? ` (inside the chamber of ${c.inside.channel} since run ${c.inside.run})` : ""}`,
    `history   ${h.runs.length} run${h.runs.length === 1 ? "" : "s"}, ${h.cycle_count} cycles, ${fixed(h.charge_ah, 4)} Ah in, ${fixed(h.discharge_ah, 4)} Ah out`,
  );
  if (h.last_discharge_ah !== null)
    lines.push(
      `capacity  ${fixed(h.last_discharge_ah, 4)} Ah last cycle, ${fixed(h.first_discharge_ah, 4)} Ah first${h.capacity_retention === null ? "" : ` (${(h.capacity_retention * 100).toFixed(1)} %)`}`,
    );
  for (const r of h.runs)
    lines.push(
      `  ${r.id}  ${r.channel}  ${r.state}  ${r.started_at}  ${r.cycles} cycles  ${fixed(r.charge_ah, 4)} Ah in  ${fixed(r.discharge_ah, 4)} Ah out`,
    );
  return lines;
}
