/**
 * The CLI's queue and batch commands (client-command.ts parses the options and dispatches here):
 *
 *   cellbench queue add --channel CH --cell FILE --profile FILE
 *   cellbench queue show|resume|clear --channel CH
 *   cellbench queue cancel RUN_ID
 *   cellbench batch start --profile FILE --cell CH=FILE --cell CH=FILE ...
 *   cellbench batch show|stop|resume BATCH_ID
 */
import { UsageError } from "../cli-error.js";
import { type CommandHelp, commandList, leafCommands, unhandledCommand, usageLine } from "../help.js";
import type { ApiClient } from "./api-client.js";
import { table } from "./format.js";

export interface QueueBatchOptions {
  channel?: string | undefined;
  cells: string[];
  profile?: string | undefined;
  readCell: (path: string) => unknown;
  readText: (path: string, option: string) => string;
}

interface QueuedJson {
  id: string;
  channel: string;
  cell: string;
  profile: string;
  state: string;
  reason: string;
}

interface QueueJson {
  channel: string;
  held: string | null;
  current: string | null;
  runs: QueuedJson[];
}

interface BatchJson {
  id: string;
  chamber: string;
  profile: string;
  state: string;
  held: string | null;
  runs: {
    channel: string;
    run: { id: string; state: string; reason: string; step: { path: string | null } | null } | null;
    waits_at: { step: string; phase: string } | null;
  }[];
}

type QueueSub = "add" | "show" | "resume" | "clear" | "cancel";
type BatchSub = "start" | "show" | "stop" | "resume";

const QUEUE_SUBCOMMANDS: Readonly<Record<QueueSub, CommandHelp>> = {
  add: {
    summary: "queue a run; it starts when the run before it completes",
    details: "A run queued on an idle channel whose queue is not held starts at once.",
    args: "--channel CH --cell FILE --profile FILE",
  },
  show: { summary: "a channel's queue, and why it is held if it is", args: "--channel CH" },
  resume: {
    summary: "lift a queue's hold",
    args: "--channel CH",
    details: "Its next run starts now if the channel is free; a start that is refused holds the queue again.",
  },
  clear: { summary: "empty a channel's queue (the run on the channel goes on)", args: "--channel CH" },
  cancel: { summary: "take a queued run out of its queue", args: "RUN_ID" },
};

const BATCH_SUBCOMMANDS: Readonly<Record<BatchSub, CommandHelp>> = {
  start: {
    summary: "one profile on channels of one chamber",
    args: "--profile FILE --cell CH=FILE --cell CH=FILE ...",
    details:
      "The chamber steps are shared: each run waits at a chamber step for the others.\n\nexample:\n" +
      "  cellbench batch start --profile p.yaml --cell ch1=cell-0041.yaml --cell ch2=cell-0042.yaml",
  },
  show: { summary: "a batch: its runs and where they wait", args: "BATCH_ID" },
  stop: { summary: "stop every run of a batch", args: "BATCH_ID" },
  resume: {
    summary: "resume a batch's paused or interrupted runs",
    details: "After the latch of the batch's chamber was cleared.",
    args: "BATCH_ID",
  },
};

export const QUEUE_HELP: CommandHelp = {
  summary: "a channel's queue of runs",
  subcommands: QUEUE_SUBCOMMANDS,
};
export const BATCH_HELP: CommandHelp = {
  summary: "batches: one profile on several channels of one chamber",
  subcommands: BATCH_SUBCOMMANDS,
};

const QUEUE_USAGE = commandList(leafCommands(["queue"], QUEUE_HELP)).join("\n");
const BATCH_USAGE = commandList(leafCommands(["batch"], BATCH_HELP)).join("\n");

export async function queueCommand(
  client: ApiClient,
  args: string[],
  options: QueueBatchOptions,
  print: (line: string) => void,
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || !Object.hasOwn(QUEUE_SUBCOMMANDS, sub))
    throw new UsageError(`unknown queue command "${sub ?? ""}"; usage:\n${QUEUE_USAGE}`);
  const command = sub as QueueSub;
  const usage = () => `usage: ${usageLine(["queue", command], QUEUE_SUBCOMMANDS[command])}`;
  const channelPath = () => {
    if (!options.channel) throw new UsageError(`queue ${command} needs --channel; ${usage()}`);
    if (rest.length > 0) throw new UsageError(`unexpected "${rest.join(" ")}"; ${usage()}`);
    return `/api/v1/channels/${encodeURIComponent(options.channel)}/queue`;
  };
  switch (command) {
    case "add": {
      const path = channelPath();
      const [cell, ...more] = options.cells;
      if (!cell || more.length > 0 || !options.profile)
        throw new UsageError(`queue add needs one --cell and --profile; ${usage()}`);
      const body = { cell: options.readCell(cell), profile: options.readText(options.profile, "--profile") };
      const { body: run } = await client.post<QueuedJson>(path, body);
      print(
        `${run.state === "queued" ? "queued" : "started"} ${run.id} on ${run.channel}: ${run.profile} on cell ${run.cell}`,
      );
      return;
    }
    case "show":
      return printQueue(await client.get<QueueJson>(channelPath()), print);
    case "resume":
      return printQueue((await client.post<QueueJson>(`${channelPath()}/resume`)).body, print);
    case "clear":
      return printQueue(await client.delete<QueueJson>(channelPath()), print);
    case "cancel": {
      const [id, ...extra] = rest;
      if (!id || extra.length > 0) throw new UsageError(usage());
      const run = await client.delete<QueuedJson>(`/api/v1/queue/${encodeURIComponent(id)}`);
      print(`cancelled ${run.id} on ${run.channel}`);
      return;
    }
    default:
      return unhandledCommand(command);
  }
}

export async function batchCommand(
  client: ApiClient,
  args: string[],
  options: QueueBatchOptions,
  print: (line: string) => void,
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || !Object.hasOwn(BATCH_SUBCOMMANDS, sub))
    throw new UsageError(`unknown batch command "${sub ?? ""}"; usage:\n${BATCH_USAGE}`);
  const command = sub as BatchSub;
  const usage = `usage: ${usageLine(["batch", command], BATCH_SUBCOMMANDS[command])}`;
  if (command === "start") {
    if (rest.length > 0 || !options.profile || options.cells.length === 0)
      throw new UsageError(`batch start needs --profile and a --cell CH=FILE per channel; ${usage}`);
    const channels = options.cells.map((given) => {
      const at = given.indexOf("=");
      if (at <= 0) throw new UsageError(`--cell ${given}: give CH=FILE, e.g. --cell ch1=cell-0042.yaml`);
      return { channel: given.slice(0, at), cell: options.readCell(given.slice(at + 1)) };
    });
    const { body } = await client.post<BatchJson>("/api/v1/batches", {
      channels,
      profile: options.readText(options.profile, "--profile"),
    });
    for (const line of batchDetail(body)) print(line);
    return;
  }
  const [id, ...extra] = rest;
  if (!id || extra.length > 0) throw new UsageError(usage);
  const path = `/api/v1/batches/${encodeURIComponent(id)}`;
  switch (command) {
    case "show":
      for (const line of batchDetail(await client.get<BatchJson>(path))) print(line);
      return;
    case "stop":
    case "resume":
      for (const line of batchDetail((await client.post<BatchJson>(`${path}/${command}`)).body)) print(line);
      return;
    default:
      return unhandledCommand(command);
  }
}

function printQueue(q: QueueJson, print: (line: string) => void): void {
  print(
    `queue of ${q.channel}: ${q.runs.length} queued${q.current ? `, ${q.current} on the channel` : ""}${q.held ? `; HELD: ${q.held}` : ""}`,
  );
  if (q.runs.length === 0) return;
  for (const line of table(
    ["#", "RUN", "CELL", "PROFILE"],
    q.runs.map((r, i) => [String(i + 1), r.id, r.cell, r.profile]),
  ))
    print(line);
}

function batchDetail(b: BatchJson): string[] {
  return [
    `batch ${b.id} in chamber ${b.chamber}: ${b.profile} (${b.state})${b.held ? `; HELD: ${b.held}` : ""}`,
    ...table(
      ["CHANNEL", "RUN", "STATE", "STEP", "WAITS AT"],
      b.runs.map((r) => [
        r.channel,
        r.run?.id ?? "-",
        r.run?.state ?? "not started",
        r.run?.step?.path ?? "-",
        r.waits_at ? `${r.waits_at.step} (${r.waits_at.phase})` : "-",
      ]),
    ),
  ];
}
