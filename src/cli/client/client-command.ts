/**
 * The CLI's client commands, a thin client of the HTTP API:
 *
 *   cellbench bench                                   channels, chambers, last samples
 *   cellbench runs [--state S]                        runs
 *   cellbench run start --channel ch1 [--cell FILE] --profile FILE [--watch]
 *                                                     without --cell: the cell mounted on the channel
 *   cellbench cell add|list|show|mount|unmount ...    registered cells (cell-commands.ts)
 *   cellbench run show|pause|resume|stop|abort|clear ID
 *   cellbench run watch ID                            live progress until the run ends
 *   cellbench queue ... / batch ...                   channel queues and batches (queue-batch-commands.ts)
 *
 * Every command takes --url (or CELLBENCH_URL, default http://127.0.0.1:8080) and --token (or,
 * better, CELLBENCH_TOKEN: command lines are visible to other users).
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { UsageError } from "../cli-error.js";
import { type CommandHelp, findHelpTarget, renderHelp, unhandledCommand, usageLine } from "../help.js";
import { ApiClient, ServerUnreachableError } from "./api-client.js";
import { CELL_HELP, cellCommand } from "./cell-commands.js";
import { duration, fixed, progressBar, table } from "./format.js";
import { readCellFile, readText } from "./input-files.js";
import { BATCH_HELP, batchCommand, QUEUE_HELP, queueCommand } from "./queue-batch-commands.js";

const STATES = ["queued", "running", "paused", "completed", "stopped", "aborted", "faulted", "interrupted"];
type RunSub = "start" | "show" | "watch" | "pause" | "resume" | "stop" | "abort" | "clear";

/** What every client command takes, in its help. */
const CLIENT_OPTIONS = `common options:
  --url URL      the daemon (default: CELLBENCH_URL, else http://127.0.0.1:8080)
  --token TOKEN  its bearer token (better: CELLBENCH_TOKEN, since a command line is visible to other users)`;

const RUN_SUBCOMMANDS: Readonly<Record<RunSub, CommandHelp>> = {
  start: {
    summary: "start a run (without --cell: of the cell mounted on CH)",
    args: "--channel CH [--cell FILE] --profile FILE [--watch]",
    details: `options:
  --channel CH    the channel (cellbench bench lists them)
  --cell FILE     the cell's YAML/JSON file (limits, chemistry); optional when a cell is mounted on CH
  --profile FILE  the profile's YAML/JSON file
  --watch         then follow the run live until it ends (as run watch)

example (npm start's simulated bench, two minutes):
  cellbench run start --channel ch1 --cell examples/cells/nmc-18650.yaml \\
    --profile examples/profiles/first-test.yaml --watch`,
  },
  show: { summary: "a run's state, step, counters, progress and history", args: "RUN_ID" },
  watch: {
    summary: "follow a run live until it ends",
    details: "exit status: 0 when the run completed or was stopped, 1 when it ended otherwise",
    args: "RUN_ID",
  },
  pause: { summary: "pause a running run (output to rest; counters kept)", args: "RUN_ID" },
  resume: { summary: "resume a paused or interrupted run", args: "RUN_ID" },
  stop: { summary: "stop a run (it ends as stopped)", args: "RUN_ID" },
  abort: { summary: "abort a run (it ends as aborted)", args: "RUN_ID" },
  clear: { summary: "clear a faulted run's latched fault (frees its channel)", args: "RUN_ID" },
};

type ClientCommand = "bench" | "runs" | "run" | "queue" | "batch" | "cell";

/** The help of each client command, the common options added to each of its commands' details. */
export const CLIENT_HELP: Readonly<Record<ClientCommand, CommandHelp>> = {
  bench: withClientOptions({ summary: "channels, chambers and their last samples" }),
  runs: withClientOptions({
    summary: "list runs",
    args: "[--state STATE]",
    details: `options:\n  --state STATE  only runs in STATE: ${STATES.join(", ")}`,
  }),
  run: withClientOptions({ summary: "start, follow and control runs", subcommands: RUN_SUBCOMMANDS }),
  queue: withClientOptions(QUEUE_HELP),
  batch: withClientOptions(BATCH_HELP),
  cell: withClientOptions(CELL_HELP),
};

export const CLIENT_COMMANDS: readonly string[] = Object.keys(CLIENT_HELP);

function withClientOptions(node: CommandHelp): CommandHelp {
  const details = node.details === undefined ? CLIENT_OPTIONS : `${node.details}\n\n${CLIENT_OPTIONS}`;
  if (!node.subcommands) return { ...node, details };
  const subcommands = Object.fromEntries(
    Object.entries(node.subcommands).map(([name, sub]) => [name, withClientOptions(sub)]),
  );
  return { ...node, details, subcommands };
}

/** The daemon closed the live stream of a run that has not ended (it is shutting down). */
export class StreamEndedError extends CellbenchError {
  constructor(id: string, state: string) {
    super(
      "STREAM_ENDED",
      `the daemon closed the live stream while run ${id} is ${state} (shutting down?); watch it again when the daemon is back`,
    );
  }
}

/** A run ended some other way than completed or stopped (for `run watch`'s exit code). */
export class RunNotCompletedError extends CellbenchError {
  constructor(id: string, state: string, reason: string) {
    super("RUN_NOT_COMPLETED", `run ${id} ended ${state}${reason ? `: ${reason}` : ""}`);
  }
}

interface RunJson {
  id: string;
  channel: string;
  cell: string;
  profile: string;
  state: string;
  reason: string;
  step: { index: number; path: string | null; text: string | null; elapsed_s: number } | null;
  cycle_index: number | null;
  test_time_s: number | null;
  charge_ah: number | null;
  discharge_ah: number | null;
  charge_wh: number | null;
  discharge_wh: number | null;
  last_sample: { voltage_v: number | null; current_a: number | null; temperature_c: number | null } | null;
  progress: { fraction: number; remaining_s: number; eta: string } | null;
  history: { state: string; at: string; reason: string }[];
}

interface BenchJson {
  bench: string;
  time: string;
  channels: {
    id: string;
    device: string;
    chamber: string | null;
    run: { id: string; state: string } | null;
    read_errors: number;
    last_sample: {
      voltage_v: number | null;
      current_a: number | null;
      temperature_c: number | null;
      age_s: number;
    } | null;
  }[];
  chambers: {
    id: string;
    owner: string | null;
    last_reading: { temperature_c: number | null; setpoint_c: number | null } | null;
  }[];
}

/** Runs one client command (`bench`, `runs`, `run ...`); throws CellbenchError (ApiError, UsageError) on failure. */
export async function clientCommand(
  argv: string[],
  print: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { values, positionals } = parse(argv);
  const url = values.url ?? env.CELLBENCH_URL ?? "http://127.0.0.1:8080";
  if (!/^https?:\/\/[^\s/]+/.test(url))
    throw new UsageError(`--url must be an http:// or https:// URL, got "${url}"`);
  const client = new ApiClient({ url, token: values.token ?? env.CELLBENCH_TOKEN });
  const [command, sub, ...rest] = positionals;
  if (command === undefined || !Object.hasOwn(CLIENT_HELP, command))
    throw new UsageError(`unknown command "${command ?? ""}"\n${renderHelp([], CLIENT_ROOT)}`);
  const name = command as ClientCommand;
  switch (name) {
    case "bench":
      noExtra(positionals.slice(1), "cellbench bench");
      return printBench(await client.get<BenchJson>("/api/v1/bench"), print);
    case "runs": {
      noExtra(positionals.slice(1), "cellbench runs [--state STATE]");
      if (values.state !== undefined && !STATES.includes(values.state)) {
        throw new UsageError(`--state must be one of ${STATES.join(", ")}, got "${values.state}"`);
      }
      const query = values.state ? `?state=${encodeURIComponent(values.state)}` : "";
      const { runs } = await client.get<{ runs: RunJson[] }>(`/api/v1/runs${query}`);
      if (runs.length === 0) {
        print(values.state ? `no ${values.state} runs` : "no runs");
        return;
      }
      for (const line of runTable(runs)) print(line);
      return;
    }
    case "run":
      return runCommand(client, sub, rest, values, print);
    case "queue":
    case "batch": {
      const options = {
        channel: values.channel,
        cells: values.cell ?? [],
        profile: values.profile,
        readCell: readCellFile,
        readText,
      };
      const args = positionals.slice(1);
      return name === "queue"
        ? queueCommand(client, args, options, print)
        : batchCommand(client, args, options, print);
    }
    case "cell":
      return cellCommand(client, positionals.slice(1), print);
    default:
      return unhandledCommand(name);
  }
}

/** The client commands as one tree, for their list in an error message. */
const CLIENT_ROOT: CommandHelp = { summary: "client of a running daemon", subcommands: CLIENT_HELP };

type ClientOptions = ReturnType<typeof parse>["values"];

/** `cellbench run SUB ...`. */
async function runCommand(
  client: ApiClient,
  sub: string | undefined,
  rest: string[],
  values: ClientOptions,
  print: (line: string) => void,
): Promise<void> {
  if (sub === undefined || !Object.hasOwn(RUN_SUBCOMMANDS, sub))
    throw new UsageError(`unknown run command "${sub ?? ""}"\n${renderHelp(["run"], CLIENT_HELP.run)}`);
  const command = sub as RunSub;
  const usage = `usage: ${usageLine(["run", command], RUN_SUBCOMMANDS[command])}`;
  if (command === "start") {
    noExtra(rest, usageLine(["run", "start"], RUN_SUBCOMMANDS.start));
    if ((values.cell?.length ?? 0) > 1) throw new UsageError("run start takes at most one --cell");
    const cell = values.cell?.[0];
    if (!values.channel || !values.profile) {
      throw new UsageError(
        "run start needs --channel and --profile, and --cell unless a cell is mounted on the channel, e.g. --channel ch1 --cell cell.yaml --profile profile.yaml",
      );
    }
    const body = {
      channel: values.channel,
      ...(cell ? { cell: readCellFile(cell) } : {}),
      profile: readText(values.profile, "--profile"),
    };
    const key = randomUUID();
    let created: RunJson;
    try {
      created = (await client.post<RunJson>("/api/v1/runs", body, { "idempotency-key": key })).body;
    } catch (err) {
      // The request may have reached the daemon: the same Idempotency-Key makes the retry safe.
      if (!(err instanceof ServerUnreachableError)) throw err;
      created = (await client.post<RunJson>("/api/v1/runs", body, { "idempotency-key": key })).body;
    }
    print(
      `started ${created.id} on ${created.channel}: ${created.profile} on cell ${created.cell} (${created.state})`,
    );
    if (values.watch) await watch(client, created.id, print);
    return;
  }

  const id = rest[0];
  if (!id || rest.length > 1) throw new UsageError(usage);
  const path = `/api/v1/runs/${encodeURIComponent(id)}`;
  switch (command) {
    case "show":
      for (const line of runDetail(await client.get<RunJson>(path))) print(line);
      return;
    case "watch":
      return watch(client, id, print);
    case "pause":
    case "resume":
    case "stop":
    case "abort":
    case "clear": {
      const { body } = await client.post<RunJson>(`${path}/${command}`);
      print(`${body.id}: ${body.state}${body.reason ? ` (${body.reason})` : ""}`);
      return;
    }
    default:
      return unhandledCommand(command);
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        state: { type: "string" },
        channel: { type: "string" },
        cell: { type: "string", multiple: true },
        profile: { type: "string" },
        watch: { type: "boolean" },
      },
    });
  } catch (err) {
    const target = findHelpTarget(CLIENT_ROOT, argv);
    throw new UsageError(
      `${(err as Error).message}\nusage: ${usageLine(target.path, target.node)} (--help for more)`,
    );
  }
}

function noExtra(args: string[], usage: string): void {
  if (args.length > 0) throw new UsageError(`unexpected "${args.join(" ")}"; usage: ${usage}`);
}

function printBench(bench: BenchJson, print: (line: string) => void): void {
  print(`bench ${bench.bench} at ${bench.time}`);
  const rows = bench.channels.map((c) => [
    c.id,
    c.device,
    c.chamber ?? "-",
    c.run?.id ?? "-",
    c.run?.state ?? "idle",
    fixed(c.last_sample?.voltage_v, 4),
    fixed(c.last_sample?.current_a, 3),
    fixed(c.last_sample?.temperature_c, 1),
    c.read_errors > 0 ? String(c.read_errors) : "",
  ]);
  for (const line of table(["CHANNEL", "DEVICE", "CHAMBER", "RUN", "STATE", "V", "A", "°C", "ERRORS"], rows))
    print(line);
  for (const ch of bench.chambers) {
    const r = ch.last_reading;
    print(
      `chamber ${ch.id}: ${fixed(r?.temperature_c, 1)} °C (set point ${fixed(r?.setpoint_c, 1)} °C)${ch.owner ? `, driven by ${ch.owner}` : ""}`,
    );
  }
}

function runTable(runs: RunJson[]): string[] {
  return table(
    ["RUN", "CHANNEL", "STATE", "CELL", "PROFILE", "STEP", "PROGRESS", "REMAINING"],
    runs.map((r) => [
      r.id,
      r.channel,
      r.state,
      r.cell,
      r.profile,
      r.step?.path ?? "-",
      r.progress ? `${(r.progress.fraction * 100).toFixed(1)} %` : "-",
      r.progress ? duration(r.progress.remaining_s) : "-",
    ]),
  );
}

function runDetail(r: RunJson): string[] {
  const lines = [
    `run       ${r.id} on ${r.channel}: ${r.profile} on cell ${r.cell}`,
    `state     ${r.state}${r.reason ? ` (${r.reason})` : ""}`,
  ];
  if (r.step)
    lines.push(
      `step      ${r.step.index} ${r.step.path ?? ""} ${r.step.text ? `"${r.step.text}"` : ""} for ${duration(r.step.elapsed_s)}`,
    );
  if (r.cycle_index !== null) lines.push(`cycle     ${r.cycle_index}, test time ${duration(r.test_time_s)}`);
  if (r.charge_ah !== null) {
    lines.push(
      `charge    ${fixed(r.charge_ah, 4)} Ah / ${fixed(r.charge_wh, 3)} Wh in, ${fixed(r.discharge_ah, 4)} Ah / ${fixed(r.discharge_wh, 3)} Wh out`,
    );
  }
  if (r.last_sample) {
    const s = r.last_sample;
    lines.push(
      `sample    ${fixed(s.voltage_v, 4)} V  ${fixed(s.current_a, 3)} A  ${fixed(s.temperature_c, 1)} °C`,
    );
  }
  if (r.progress)
    lines.push(
      `progress  ${progressBar(r.progress.fraction)}  ${duration(r.progress.remaining_s)} left, ETA ${r.progress.eta}`,
    );
  for (const h of r.history) lines.push(`  ${h.at}  ${h.state}${h.reason ? `  ${h.reason}` : ""}`);
  return lines;
}

/** Follows a run's live events, printing a progress line per sample, until it ends. */
async function watch(client: ApiClient, id: string, print: (line: string) => void): Promise<void> {
  let final: { state: string; reason: string } | undefined;
  for await (const message of client.events(`/api/v1/runs/${encodeURIComponent(id)}/events`)) {
    const data = safeJson(message.data);
    if (!data) continue;
    switch (message.event) {
      case "snapshot": {
        const run = data as unknown as RunJson;
        print(`${run.id} on ${run.channel}: ${run.profile} on cell ${run.cell}, ${run.state}`);
        if (run.step?.path) print(`  step ${run.step.index} ${run.step.path}: ${run.step.text ?? ""}`);
        break;
      }
      case "sample": {
        const progress = data.progress as { fraction: number; remaining_s: number } | null;
        print(
          `${progressBar(progress?.fraction)}  ${fixed(data.voltage_v as number, 4)} V  ${fixed(data.current_a as number, 3)} A  ${fixed(data.temperature_c as number, 1)} °C  t ${duration(data.test_time_s as number)}${progress ? `  ${duration(progress.remaining_s)} left` : ""}`,
        );
        break;
      }
      case "step":
        print(
          `  step ${String(data.step_index)} ${String(data.path)}: ${String(data.text)}${data.ended_because ? `  (previous: ${String(data.ended_because)})` : ""}`,
        );
        break;
      case "cycle":
        print(
          `  cycle ${String(data.cycle_index)} done: ${fixed(data.charge_ah as number, 4)} Ah in, ${fixed(data.discharge_ah as number, 4)} Ah out`,
        );
        break;
      case "state":
        print(`  ${String(data.state)}${data.reason ? `: ${String(data.reason)}` : ""}`);
        if (data.terminal === true) final = { state: String(data.state), reason: String(data.reason ?? "") };
        break;
      case "gap":
        print("  (some events were missed while reconnecting)");
        break;
    }
  }
  if (!final) {
    const run = await client.get<RunJson>(`/api/v1/runs/${encodeURIComponent(id)}`).catch((err: unknown) => {
      if (err instanceof ServerUnreachableError) throw new StreamEndedError(id, "in an unknown state");
      throw err;
    });
    if (!["completed", "stopped", "aborted", "faulted"].includes(run.state)) {
      throw new StreamEndedError(id, run.state);
    }
    final = { state: run.state, reason: run.reason };
  }
  if (final.state !== "completed" && final.state !== "stopped")
    throw new RunNotCompletedError(id, final.state, final.reason);
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
