/**
 * A daemon in a child process, for crash tests: starts the bench of the config file given as
 * argv[2] at speed argv[3], starts one run on ch1, and prints `L <stepIndex> <testTimeS> <n>` for every
 * sample handed to storage (n: the outbox's appended-line count with it), `C <n>` once a commit is
 * confirmed (n: lines committed so far; lines commit in the order appended, so the samples with
 * n up to that are durable), and `READY` once the run is going. Pipes to the parent are synchronous
 * on Linux, so the parent has every line written before a SIGKILL.
 */
import { loadConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { createLogger } from "../../src/log.js";
import { parseProfile } from "../../src/profile/document.js";
import { NMC_18650 } from "./sim-bench.js";

const [configPath, speed] = process.argv.slice(2);
const config = loadConfig(configPath as string);
const daemon = await Daemon.start({
  config,
  logger: createLogger({ level: "warn" }),
  speed: Number(speed),
  http: false,
});
const storage = daemon.storage;
if (!storage) throw new Error("the crash test needs an influx section");
const logCell = storage.logCell.bind(storage);
storage.logCell = (record) => {
  logCell(record);
  process.stdout.write(`L ${record.stepIndex} ${record.testTimeS} ${storage.outbox.stats().appendedLines}\n`);
};
storage.outbox.onCommit(() => process.stdout.write(`C ${storage.outbox.stats().committedLines}\n`));
const profile = parseProfile(
  "name: crash\nsteps:\n  - repeat: 100\n    steps:\n      - Discharge at 1C for 60 s\n      - Charge at 1C for 60 s\n",
  {
    sourceName: "crash",
  },
);
await daemon.runs.create({ channel: "ch1", cell: NMC_18650, profile }, "R20261125-0001");
process.stdout.write("READY\n");
