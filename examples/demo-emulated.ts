/**
 * `npm run demo:emulated [-- --physics-speed N]`: the whole real path without hardware.
 *
 * 1. socat makes two pseudo-terminal pairs under /tmp/cellbench-demo (one per serial line);
 * 2. wire-level emulators answer on the far ends: an EA PSB on SCPI, two Watlow F4 controllers on
 *    one emulated RS-485 line (units 1 and 2, with 19200-baud link timing and the F4's 30 ms
 *    turnaround), and an Espec P300 on 127.0.0.1:10001;
 * 3. the daemon runs examples/emulated-bench.yaml with the REAL drivers over those links
 *    (what `npx tsx src/cli/main.ts serve --config examples/emulated-bench.yaml` runs; started here as
 *    `node --import tsx ...` so it is one process that gets exactly one signal).
 *
 * Start influxd first to see the samples stored (without it they wait in the outbox).
 * Ctrl-C stops the daemon first (it puts every device in its safe state over the links), then the
 * emulators and socat; socat and the daemon run in their own process groups so the terminal's
 * Ctrl-C reaches only this script, which passes it on in that order. A second Ctrl-C (half a second
 * or more later) stops everything at once. --physics-speed N makes the
 * emulated chambers and cell move N times faster than real ones (the daemon itself runs in real time,
 * as it must with real drivers).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { ScaledClock, SystemClock } from "../drivers/clock.js";
import { type RunningEmulator, startEmulator } from "../drivers/emulators/registry.js";

const DIR = "/tmp/cellbench-demo";
/** API token for the demo daemon, unless CELLBENCH_TOKENS is set already. */
const DEMO_TOKEN = "demo-operator-token";
const CONFIG = "examples/emulated-bench.yaml";

const { values } = parseArgs({ options: { "physics-speed": { type: "string", default: "1" } } });
const speed = Number(values["physics-speed"]);
if (!(speed > 0) || !Number.isFinite(speed)) {
  console.error(`--physics-speed must be a positive number, got "${values["physics-speed"]}"`);
  process.exit(2);
}
const clock = speed === 1 ? new SystemClock() : new ScaledClock(speed);

const children: ChildProcess[] = [];
const emulators: RunningEmulator[] = [];

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

async function main(): Promise<number> {
  mkdirSync(DIR, { recursive: true });
  await ptyPair("psb1");
  await ptyPair("rs485");
  emulators.push(
    await startEmulator("ea/psb-scpi", { listen: `serial://${DIR}/psb1.emu?baud=115200`, clock }),
    await startEmulator("watlow/f4", {
      listen: `serial://${DIR}/rs485.emu?baud=19200`,
      options: { unit: [1, 2], linkTiming: true, turnaroundMs: 30, initialC: 22 },
      clock,
    }),
    await startEmulator("espec/p300", { listen: "tcp://127.0.0.1:10001", clock }),
  );
  for (const e of emulators) console.log(`[demo] emulating ${e.name} on ${e.listen}`);
  console.log(
    `[demo] starting the daemon on ${CONFIG}${speed === 1 ? "" : ` (physics ${speed}× real time)`}`,
  );

  const env = { ...process.env };
  if (env.CELLBENCH_TOKENS === undefined) {
    env.CELLBENCH_TOKENS = `operator:${DEMO_TOKEN}`;
    console.log(
      `[demo] API token: curl -H 'Authorization: Bearer ${DEMO_TOKEN}' http://127.0.0.1:8080/api/v1/bench` +
        ` (or CELLBENCH_TOKEN=${DEMO_TOKEN} npm run cellbench -- bench)`,
    );
  }
  const daemon = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "serve", "--config", CONFIG],
    { stdio: "inherit", detached: true, env },
  );
  children.push(daemon);
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      console.log(`[demo] ${signal}: the daemon puts every device in safe state, then everything stops`);
      daemon.kill("SIGINT");
      return;
    }
    // Wrappers (npm, tsx) may relay the same Ctrl-C once more: only a later one means "now".
    if (now - firstSignalAt < 500) return;
    console.log("[demo] second signal: stopping everything now");
    daemon.kill("SIGKILL");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await new Promise<number>((resolve) => daemon.once("exit", (c) => resolve(c ?? 1)));
  console.log(`[demo] daemon exited (${code}); stopping emulators and socat`);
  return code;
}

void main()
  .catch((err: unknown) => {
    console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });
