import { parseArgs } from "node:util";
import { ScaledClock, SystemClock } from "../../drivers/clock.js";
import {
  emulatorInfo,
  type RunningEmulator,
  registeredEmulators,
  startEmulator,
} from "../../drivers/emulators/registry.js";
import { UsageError } from "./cli-error.js";
import { EMULATE_HELP } from "./emulate-help.js";

const USAGE = `usage: cellbench emulate ${EMULATE_HELP.args}\n${EMULATE_HELP.details}`;

/**
 * `cellbench emulate`: runs a wire-level device emulator until SIGINT/SIGTERM, so the real driver can
 * be tried without the instrument (point the daemon's transport at the other end of the pty pair).
 */
export async function emulateCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await runEmulateCommand(argv, print, controller.signal);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** Runs `cellbench emulate` until `signal` aborts (what emulateCommand wires to SIGINT/SIGTERM). */
export async function runEmulateCommand(
  argv: string[],
  print: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      listen: { type: "string" },
      unit: { type: "string" },
      speed: { type: "string" },
      "link-timing": { type: "boolean" },
      set: { type: "string", multiple: true },
      list: { type: "boolean" },
    },
  });
  if (values.list) {
    for (const e of registeredEmulators()) print(`${e.name.padEnd(16)} ${e.description}`);
    return;
  }
  const [driver, ...extra] = positionals;
  if (driver === undefined || extra.length > 0) throw new UsageError(`name exactly one driver\n${USAGE}`);
  try {
    emulatorInfo(driver);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (!values.listen) throw new UsageError(`--listen is required\n${USAGE}`);
  const options: Record<string, unknown> = {};
  for (const assignment of values.set ?? []) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes OPTION=VALUE, got "${assignment}"`);
    options[assignment.slice(0, eq)] = parseValue(assignment.slice(eq + 1));
  }
  if (values.unit !== undefined) {
    const units = values.unit.split(",").map((u) => Number(u.trim()));
    if (units.some((u) => !Number.isInteger(u)))
      throw new UsageError(`--unit takes whole numbers separated by commas, got "${values.unit}"`);
    options.unit = units.length === 1 ? units[0] : units;
  }
  if (values["link-timing"]) options.linkTiming = true;
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new UsageError(`--speed must be a positive number, got "${values.speed}"`);
  const clock = speed === 1 ? new SystemClock() : new ScaledClock(speed);
  const emulator: RunningEmulator = await startEmulator(driver, { listen: values.listen, options, clock });
  print(
    `emulating ${emulator.name} on ${emulator.listen}${options.unit === undefined ? "" : ` (unit ${String(options.unit)})`}` +
      `${speed === 1 ? "" : ` at ${speed}× speed`}; Ctrl-C stops`,
  );
  try {
    if (!signal.aborted)
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  } finally {
    await emulator.stop();
    print(`stopped ${emulator.name} on ${emulator.listen}`);
  }
}

/** Reads an option value: JSON when it parses (numbers, booleans, arrays, objects), else the text itself. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
