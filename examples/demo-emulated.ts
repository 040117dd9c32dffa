/**
 * `npm run demo:emulated [-- --physics-speed N] [--dir DIR] [--port N] [--espec-port N] [--store FILE]`:
 * the whole real path without hardware.
 *
 * 1. socat makes three pseudo-terminal pairs under DIR, /tmp/cellbench-demo by default (one per serial line);
 * 2. wire-level emulators answer on the far ends: an EA PSB on SCPI, a Keysight DAQ970A whose
 *    thermocouple 101 sits on the PSB's emulated cell, two Watlow F4 controllers on one emulated
 *    RS-485 line (units 1 and 2, with 19200-baud link timing and the F4's 30 ms turnaround), and an
 *    Espec P300 on 127.0.0.1:10001 (or --espec-port; 0 picks a free port);
 * 3. the daemon runs examples/emulated-bench.yaml with the REAL drivers over those links
 *    (what `npx tsx src/cli/main.ts serve --config examples/emulated-bench.yaml` runs; started here as
 *    `node --import tsx ...` so it is one process that gets exactly one signal). --port N is passed on
 *    as `serve --port N` (the API port; the YAML says 8080).
 *
 * When --dir, --espec-port or --store (the SQLite outbox and run store; the YAML says
 * ./var/cellbench-emulated.db) differ from the YAML's, the daemon serves a derived copy,
 * DIR/emulated-bench.yaml: examples/emulated-bench.yaml with exactly its four pty transports, the
 * Espec's TCP port and the store line replaced. Every string replaced must appear in the YAML exactly
 * once (checked on every start, defaults too), so the YAML and this script cannot drift apart
 * silently. Run it from the repository root.
 *
 * Start influxd first to see the samples stored (without it they wait in the outbox).
 * Ctrl-C stops the daemon first (it puts every device in its safe state over the links), then the
 * emulators and socat; socat and the daemon run in their own process groups so the terminal's
 * Ctrl-C reaches only this script, which passes it on in that order. A second Ctrl-C (half a second
 * or more later) stops everything at once. --physics-speed N makes the
 * emulated chambers and cell move N times faster than real ones (the daemon itself runs in real time,
 * as it must with real drivers). The exit code is the daemon's (0 after a clean Ctrl-C).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ScaledClock, SystemClock } from "../drivers/clock.js";
import type { EaPsbScpiEmulator } from "../drivers/emulators/ea-psb-scpi-emulator.js";
import { type RunningEmulator, startEmulator } from "../drivers/emulators/registry.js";

/** What examples/emulated-bench.yaml says: the pty folder, the Espec's port, the store, the API port. */
const YAML_DIR = "/tmp/cellbench-demo";
const YAML_ESPEC_PORT = 10001;
const YAML_STORE = "./var/cellbench-emulated.db";
const YAML_HTTP_PORT = 8080;
/** API token for the demo daemon, unless CELLBENCH_TOKENS is set already. */
const DEMO_TOKEN = "demo-operator-token-0001"; // the same as examples/sim-bench.yaml and the README
const CONFIG = "examples/emulated-bench.yaml";

const USAGE = `usage: npm run demo:emulated -- [options]
  --physics-speed N   emulated cell and chambers move N times faster than real ones (default 1)
  --dir DIR           folder of the socat pty links (default ${YAML_DIR})
  --port N            API port, passed on as \`serve --port N\` (default: the YAML's, ${YAML_HTTP_PORT})
  --espec-port N      loopback TCP port of the emulated Espec P300 (default ${YAML_ESPEC_PORT}; 0 picks a free one)
  --store FILE        SQLite outbox and run store (default: the YAML's, ${YAML_STORE})
Other --dir, --espec-port or --store values make the daemon serve a derived copy DIR/emulated-bench.yaml.`;

function usageError(message: string): never {
  console.error(`[demo] ${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        "physics-speed": { type: "string", default: "1" },
        dir: { type: "string", default: YAML_DIR },
        port: { type: "string" },
        "espec-port": { type: "string", default: String(YAML_ESPEC_PORT) },
        store: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
}

function portOption(name: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    usageError(`--${name} must be an integer from 0 to 65535, got "${text}"`);
  return port;
}

const values = parseOptions();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const speed = Number(values["physics-speed"]);
if (!(speed > 0) || !Number.isFinite(speed)) {
  usageError(`--physics-speed must be a positive number, got "${values["physics-speed"]}"`);
}
const DIR = resolve(values.dir);
// DIR goes into socat addresses, serial:// URLs and YAML unquoted: keep it to plain path characters.
if (!/^[A-Za-z0-9._/-]+$/.test(DIR)) {
  usageError(`--dir must be a path of letters, digits and . _ / - only (it goes into URLs), got "${DIR}"`);
}
const httpPort = values.port === undefined ? YAML_HTTP_PORT : portOption("port", values.port);
const especPortOption = portOption("espec-port", values["espec-port"]);
const store = values.store === undefined ? YAML_STORE : resolve(values.store);
const clock = speed === 1 ? new SystemClock() : new ScaledClock(speed);

/**
 * The lines of examples/emulated-bench.yaml the options replace (without their indentation), each with
 * its replacement. Every one must be a whole line of the YAML exactly once, else the YAML changed and
 * this script must follow.
 */
function substitutions(dir: string, especPort: number, storePath: string): [string, string][] {
  const serial = (rest: string): [string, string] => [
    `transport: serial://${YAML_DIR}/${rest}`,
    `transport: serial://${dir}/${rest}`,
  ];
  return [
    serial("psb1?baud=115200"),
    serial("daq1?baud=115200"),
    serial("rs485?baud=19200&unit=1"),
    serial("rs485?baud=19200&unit=2"),
    [`transport: tcp://127.0.0.1:${YAML_ESPEC_PORT}`, `transport: tcp://127.0.0.1:${especPort}`],
    [`store: ${YAML_STORE}`, `store: ${JSON.stringify(storePath)}`],
  ];
}

/** Index of the one line of `lines` that is `line` once indentation is set aside; -1 unless exactly one. */
function lineIndex(lines: readonly string[], line: string): number {
  const found = lines.flatMap((l, i) => (l.trimStart() === line ? [i] : []));
  return found.length === 1 ? (found[0] as number) : -1;
}

/** Reads the YAML and checks it still holds every line this script replaces; returns its lines. */
function checkedYaml(): string[] {
  const lines = readFileSync(CONFIG, "utf8").split("\n");
  const missing = substitutions(YAML_DIR, YAML_ESPEC_PORT, YAML_STORE)
    .filter(([line]) => lineIndex(lines, line) < 0)
    .map(([line]) => `"${line}"`);
  if (missing.length > 0) {
    throw new Error(
      `${CONFIG} no longer matches examples/demo-emulated.ts (update the script with the YAML); ` +
        `each of these must be a line of it exactly once:\n  ${missing.join("\n  ")}`,
    );
  }
  return lines;
}

/** Returns the configuration to serve: the YAML itself, or a derived copy in DIR when options differ. */
function configFor(yaml: readonly string[], especPort: number): string {
  const sameStore = resolve(store) === resolve(YAML_STORE);
  if (DIR === YAML_DIR && especPort === YAML_ESPEC_PORT && sameStore) return CONFIG;
  const lines = [...yaml];
  for (const [from, to] of substitutions(DIR, especPort, sameStore ? YAML_STORE : store)) {
    const i = lineIndex(lines, from);
    const line = lines[i] as string;
    lines[i] = line.slice(0, line.length - line.trimStart().length) + to;
  }
  const derived = join(DIR, "emulated-bench.yaml");
  writeFileSync(
    derived,
    `# Derived from ${CONFIG} by examples/demo-emulated.ts: ptys under ${DIR}, Espec on port ${especPort}.\n${lines.join("\n")}`,
  );
  return derived;
}

const children: ChildProcess[] = [];
const emulators: RunningEmulator[] = [];
let daemon: ChildProcess | undefined;
let stopRequested = false;

/** Starts `socat` joining two pseudo-terminals linked at `<DIR>/<name>` and `<DIR>/<name>.emu`. */
async function ptyPair(name: string): Promise<void> {
  const a = `${DIR}/${name}`;
  const b = `${DIR}/${name}.emu`;
  const proc = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  children.push(proc);
  const failed = new Promise<never>((_, reject) => {
    proc.once("error", (err) => reject(new Error(`cannot start socat (is it installed?): ${err.message}`)));
    proc.once("exit", (code) => reject(new Error(`socat for ${name} exited with code ${code}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > deadline) throw new Error(`socat did not create ${a} and ${b} within 5 s`);
    await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
  }
}

async function stopAll(): Promise<void> {
  for (const e of emulators.splice(0).reverse()) await e.stop().catch(() => undefined);
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Throws when a signal came in while starting up (stopAll then undoes what was started). */
function checkNotStopped(): void {
  if (stopRequested) throw new Error("stopped by a signal while starting");
}

async function main(): Promise<number> {
  const yaml = checkedYaml();
  mkdirSync(DIR, { recursive: true });
  await ptyPair("psb1");
  checkNotStopped();
  await ptyPair("daq1");
  checkNotStopped();
  await ptyPair("rs485");
  checkNotStopped();
  // Each emulator is pushed as soon as it runs, so stopAll() stops it if a later one fails to start.
  const psb = (await startEmulator("ea/psb-scpi", {
    listen: `serial://${DIR}/psb1.emu?baud=115200`,
    clock,
  })) as EaPsbScpiEmulator;
  emulators.push(psb);
  emulators.push(
    await startEmulator("keysight/daq970a", {
      listen: `serial://${DIR}/daq1.emu?baud=115200`,
      // Thermocouple 101 on the PSB's cell; the others read the room.
      options: { temperatureOf: (input: string) => (input === "101" ? psb.supply.cell.temperatureC : 25) },
      clock,
    }),
  );
  emulators.push(
    await startEmulator("watlow/f4", {
      listen: `serial://${DIR}/rs485.emu?baud=19200`,
      options: { unit: [1, 2], linkTiming: true, turnaroundMs: 30, initialC: 22 },
      clock,
    }),
  );
  const espec = await startEmulator("espec/p300", { listen: `tcp://127.0.0.1:${especPortOption}`, clock });
  emulators.push(espec);
  checkNotStopped();
  for (const e of emulators) console.log(`[demo] emulating ${e.name} on ${e.listen}`);
  const especPort = Number(new URL(espec.listen).port);
  const config = configFor(yaml, especPort);
  console.log(
    `[demo] starting the daemon on ${config}${speed === 1 ? "" : ` (physics ${speed}× real time)`}`,
  );

  const env = { ...process.env };
  if (env.CELLBENCH_TOKENS === undefined) {
    env.CELLBENCH_TOKENS = `operator:${DEMO_TOKEN}`;
    console.log(
      `[demo] API token: curl -H 'Authorization: Bearer ${DEMO_TOKEN}' http://127.0.0.1:${httpPort}/api/v1/bench` +
        ` (or CELLBENCH_TOKEN=${DEMO_TOKEN} npm run cellbench -- bench)`,
    );
  }
  const serveArgs = [
    "serve",
    "--config",
    config,
    ...(values.port === undefined ? [] : ["--port", values.port]),
  ];
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...serveArgs], {
    stdio: "inherit",
    detached: true,
    env,
  });
  daemon = child;
  children.push(child);
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  console.log(`[demo] daemon exited (${code}); stopping emulators and socat`);
  return code;
}

let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  const now = Date.now();
  if (firstSignalAt === undefined) {
    firstSignalAt = now;
    if (daemon === undefined) {
      console.log(`[demo] ${signal} while starting: stopping what has started`);
      stopRequested = true;
      return;
    }
    console.log(`[demo] ${signal}: the daemon puts every device in safe state, then everything stops`);
    daemon.kill("SIGINT");
    return;
  }
  // Wrappers (npm, tsx) may relay the same Ctrl-C once more: only a later one means "now".
  if (now - firstSignalAt < 500) return;
  console.log("[demo] second signal: stopping everything now");
  daemon?.kill("SIGKILL");
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

void main()
  .catch((err: unknown) => {
    console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });
