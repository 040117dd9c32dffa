import { parseArgs } from "node:util";
import { loadCellFile } from "../cell/load-cell.js";
import { type DryRunEstimate, dryRun } from "../engine/dry-run.js";
import { loadProfileFile } from "../profile/load-profile.js";
import { DryRunIncompleteError, DryRunTooLongError, TraceOutputError, UsageError } from "./cli-error.js";
import { PROFILE_CHECK_HELP } from "./profile-check-help.js";
import { TraceCsvWriter } from "./trace-csv.js";
import { traceTarget } from "./trace-output.js";

/** Simulated samples at most: 60 days at 1 s (about a minute of CPU); `--period` scales the reach. */
const MAX_SAMPLES = 60 * 86_400;

const USAGE = `usage: cellbench profile check ${PROFILE_CHECK_HELP.args}`;

/** Where the summary and a trace to stdout go; the CLI's are process.stdout and stderr. */
export interface ProfileCheckOutput {
  stdout: NodeJS.WritableStream;
  stderr: (line: string) => void;
}

const PROCESS_OUTPUT: ProfileCheckOutput = {
  stdout: process.stdout,
  stderr: (line) => console.error(line),
};

/** `cellbench profile check`: parses, validates and dry-runs a profile on the simulated cell; prints the estimate. */
export async function profileCheckCommand(
  argv: string[],
  printLine: (line: string) => void,
  output: ProfileCheckOutput = PROCESS_OUTPUT,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cell: { type: "string" },
      out: { type: "string" },
      trace: { type: "boolean" },
      soc: { type: "string" },
      period: { type: "string" },
    },
  });
  const [profilePath, ...extra] = positionals;
  if (!profilePath || extra.length > 0) throw new UsageError(`give exactly one profile file; ${USAGE}`);
  if (!values.cell)
    throw new UsageError(`--cell is required (e.g. --cell examples/cells/nmc-18650.yaml); ${USAGE}`);
  const initialSoc = values.soc === undefined ? 0.5 : Number(values.soc);
  if (!(initialSoc >= 0 && initialSoc <= 1))
    throw new UsageError(`--soc must be a number from 0 to 1, got "${values.soc}"`);

  const periodS = values.period === undefined ? 1 : Number(values.period);
  if (!(periodS >= 0.01 && periodS <= 60))
    throw new UsageError(`--period must be seconds from 0.01 to 60, got "${values.period}"`);

  const cell = loadCellFile(values.cell);
  const profile = loadProfileFile(profilePath);

  const target = traceTarget(values, profile.name);
  // With the trace on stdout, the summary goes to stderr so that stdout is the CSV alone.
  const print = target?.to === "stdout" ? output.stderr : printLine;
  const trace = target && openTrace(target.to === "file" ? target.path : output.stdout);
  const maxDurationS = MAX_SAMPLES * periodS;
  let estimate: DryRunEstimate;
  try {
    estimate = await dryRun(profile, cell, {
      initialSoc,
      periodS,
      maxDurationS,
      ...(trace ? { onRecord: (r: Parameters<TraceCsvWriter["write"]>[0]) => trace.write(r) } : {}),
    });
  } finally {
    await trace?.close().catch((err: unknown) => {
      throw new TraceOutputError(target?.to === "file" ? target.path : "stdout", errorReason(err));
    });
  }

  print(`profile   ${profile.name} (${profilePath})`);
  print(
    `cell      ${cell.id}: ${cell.chemistry}, ${cell.capacityAh} Ah, start at ${Math.round(initialSoc * 100)} % SOC`,
  );
  print(`result    ${estimate.state}${estimate.reason ? ` (${estimate.reason})` : ""}`);
  print(
    `steps     ${estimate.stepsExecuted} executed, ${estimate.cycleCount} cycles (simulated every ${periodS} s)`,
  );
  print(`duration  ${formatDuration(estimate.durationS)} (${Math.round(estimate.durationS)} s)`);
  print(
    `capacity  charged ${estimate.chargeAh.toFixed(3)} Ah / ${estimate.chargeWh.toFixed(2)} Wh, discharged ${estimate.dischargeAh.toFixed(3)} Ah / ${estimate.dischargeWh.toFixed(2)} Wh`,
  );
  for (const c of estimate.cycles.slice(0, 20)) {
    print(
      `  cycle ${c.cycleIndex}: charge ${c.chargeAh.toFixed(3)} Ah, discharge ${c.dischargeAh.toFixed(3)} Ah, CE ${Number.isNaN(c.coulombicEfficiency) ? "n/a" : `${(c.coulombicEfficiency * 100).toFixed(1)} %`}, T ${c.minTemperatureC.toFixed(1)}..${c.maxTemperatureC.toFixed(1)} °C`,
    );
  }
  if (estimate.cycleCount > estimate.cycles.length)
    print(`  ... ${estimate.cycleCount - estimate.cycles.length} more cycles`);
  if (target?.to === "file") print(`trace     ${target.path}`);
  if (estimate.state === "stopped" && estimate.durationS >= maxDurationS) {
    throw new DryRunTooLongError(maxDurationS, periodS);
  }
  if (estimate.state !== "completed") {
    throw new DryRunIncompleteError(estimate.state, estimate.reason);
  }
}

function openTrace(target: string | NodeJS.WritableStream): TraceCsvWriter {
  try {
    return new TraceCsvWriter(target);
  } catch (err) {
    throw new TraceOutputError(String(target), errorReason(err));
  }
}

function errorReason(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d} d` : "", h ? `${h} h` : "", m ? `${m} min` : "", `${s % 60} s`].filter(Boolean);
  return parts.slice(0, 3).join(" ");
}
