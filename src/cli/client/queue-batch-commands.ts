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

export const QUEUE_USAGE =
  "cellbench queue add --channel CH --cell FILE --profile FILE | queue show|resume|clear --channel CH | queue cancel RUN_ID";
export const BATCH_USAGE =
  "cellbench batch start --profile FILE --cell CH=FILE --cell CH=FILE ... | batch show|stop|resume BATCH_ID";

export async function queueCommand(
  client: ApiClient,
  args: string[],
  options: QueueBatchOptions,
  print: (line: string) => void,
): Promise<void> {
  const [sub, ...rest] = args;
  const channelPath = () => {
    if (!options.channel) throw new UsageError(`queue ${sub ?? ""} needs --channel; usage: ${QUEUE_USAGE}`);
    if (rest.length > 0) throw new UsageError(`unexpected "${rest.join(" ")}"; usage: ${QUEUE_USAGE}`);
    return `/api/v1/channels/${encodeURIComponent(options.channel)}/queue`;
  };
  switch (sub) {
    case "add": {
      const path = channelPath();
      const [cell, ...more] = options.cells;
      if (!cell || more.length > 0 || !options.profile)
        throw new UsageError(`queue add needs one --cell and --profile; usage: ${QUEUE_USAGE}`);
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
      if (!id || extra.length > 0) throw new UsageError(`usage: cellbench queue cancel RUN_ID`);
      const run = await client.delete<QueuedJson>(`/api/v1/queue/${encodeURIComponent(id)}`);
      print(`cancelled ${run.id} on ${run.channel}`);
      return;
    }
    default:
      throw new UsageError(`unknown queue command "${sub ?? ""}"; usage: ${QUEUE_USAGE}`);
  }
}

export async function batchCommand(
  client: ApiClient,
  args: string[],
  options: QueueBatchOptions,
  print: (line: string) => void,
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "start") {
    if (rest.length > 0 || !options.profile || options.cells.length === 0)
      throw new UsageError(
        `batch start needs --profile and a --cell CH=FILE per channel; usage: ${BATCH_USAGE}`,
      );
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
  if (!sub || !id || extra.length > 0) throw new UsageError(`usage: ${BATCH_USAGE}`);
  const path = `/api/v1/batches/${encodeURIComponent(id)}`;
  if (sub === "show" || sub === "stop" || sub === "resume") {
    const batch =
      sub === "show"
        ? await client.get<BatchJson>(path)
        : (await client.post<BatchJson>(`${path}/${sub}`)).body;
    for (const line of batchDetail(batch)) print(line);
    return;
  }
  throw new UsageError(`unknown batch command "${sub}"; usage: ${BATCH_USAGE}`);
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
