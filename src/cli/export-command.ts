import { createWriteStream, existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load-config.js";
import { runMetadata } from "../run/run-metadata.js";
import { RunStore, type StoredRun } from "../run/run-store.js";
import { writeBdfCsv } from "../storage/bdf-export.js";
import { describePlan, downsampledSource, type ExportPlan } from "../storage/export-source.js";
import { createInfluxClient } from "../storage/influx-client.js";
import { resolveSchema } from "../storage/influx-schema.js";
import { UsageError } from "./cli-error.js";
import { EXPORT_HELP } from "./export-help.js";

const USAGE = `usage: cellbench export ${EXPORT_HELP.args}`;

/**
 * `cellbench export`: reads a run back from the bench's InfluxDB and writes Battery Data Format
 * CSV to --out (or stdout). The ambient column comes from the chamber the run's channel sits in.
 * With --out, the run's metadata (its cell and test, from the bench's store) goes beside the CSV
 * as FILE.metadata.json (FILE without its .csv).
 */
export async function exportCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "bdf-csv" },
      out: { type: "string" },
      config: { type: "string", default: "examples/sim-bench.yaml" },
    },
  });
  const [run, ...extra] = positionals;
  if (!run || extra.length > 0) throw new UsageError(`give exactly one run id; ${USAGE}`);
  if (values.format !== "bdf-csv")
    throw new UsageError(`--format ${values.format} is not supported; use --format bdf-csv`);
  const config = loadConfig(values.config);
  if (!config.influx) throw new UsageError(`${config.source} has no influx section; nothing to export from`);

  let chamber: string | undefined;
  let stored: StoredRun | undefined;
  if (config.store !== ":memory:" && existsSync(config.store)) {
    const store = new RunStore(config.store);
    stored = store.all().find((r) => r.id === run);
    store.close();
    const channel = stored?.channel;
    chamber = channel ? config.chambers.find((c) => c.channels.includes(channel))?.id : undefined;
  }
  const influx = createInfluxClient(config.influx);
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  const schema = resolveSchema(config.influx.database, config.influx.schema);
  const read: { plan: ExportPlan } = { plan: { source: "raw" } };
  const { rows } = await writeBdfCsv(
    influx,
    {
      database: config.influx.database,
      bench: config.bench,
      run,
      retentionPolicy: schema.raw.name,
      downsampled: downsampledSource(schema),
      onPlan: (plan) => {
        read.plan = plan;
      },
      ...(chamber ? { chamber } : {}),
    },
    out,
  );
  // Whoever reads the CSV must not take downsampled rows for raw: said on stderr when it goes to stdout.
  if (!values.out && read.plan.source !== "raw")
    console.error(`cellbench: run ${run}: ${describePlan(read.plan)}; see the Data Source column`);
  if (values.out) {
    await new Promise<void>((resolve, reject) => {
      out.once("error", reject);
      out.end(resolve);
    });
    print(
      `exported ${rows} rows of run ${run} to ${values.out}${read.plan.source === "raw" ? "" : ` (${describePlan(read.plan)})`}`,
    );
    if (stored) {
      const metadataPath = `${values.out.replace(/\.csv$/i, "")}.metadata.json`;
      writeFileSync(metadataPath, `${JSON.stringify(runMetadata(stored, config.bench), null, 2)}\n`);
      print(`wrote the run's metadata to ${metadataPath}`);
    } else print(`run ${run} is not in ${config.store}: no metadata file written beside the CSV`);
  }
}
