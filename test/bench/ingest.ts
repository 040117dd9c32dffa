/**
 * Ingest benchmark against a private influxd (Debian's 1.6):
 *
 * 1. Ceiling: pre-encoded line protocol POSTed directly in 5,000-line batches (node:http keep-alive,
 *    the forwarder's writer), with one and with two writes in flight; the better of the two counts.
 *    Next to it, the same through global fetch and node-influx writePoints.
 * 2. End to end: CellRecords → encoder → outbox (SQLite WAL, group commit) → forwarder → influxd,
 *    timed until InfluxDB acknowledged the last point. Target (issue 16): ≥ 85 % of the ceiling.
 *    Both with the CPU time each process spent per point; then both again with this process on one
 *    CPU and influxd on the others (cpu-affinity.ts), reported beside the judged figure.
 * 3. Sampling-loop stall: a 64-channel × 10 Hz load on absolute deadlines while commits and
 *    forwarding run; reports append() times, commit times and how late the sampling ticks were.
 * 4. Backlog drain (drain.ts): an hour of 64 × 10 Hz spooled, then forwarded while sampling goes on.
 *
 * Run alone: npx tsx test/bench/ingest.ts
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FieldType, InfluxDB } from "influx";
import type { CellRecord } from "../../src/run/records.js";
import { HttpLineWriter } from "../../src/storage/line-writer.js";
import { RecordEncoder } from "../../src/storage/record-encoder.js";
import { Storage } from "../../src/storage/storage.js";
import { type Influxd, startInfluxd } from "../support/influxd.js";
import { partitionCpus } from "./cpu-affinity.js";
import { type DrainFigures, measureDrain } from "./drain.js";
import { distribution, type Out } from "./stats.js";

const DEFAULT_POINTS = 150_000;
const DEFAULT_ROUNDS = 5;
const BATCH = 5_000;
const CHANNELS = 16;

export const INGEST_TARGET = { min_ratio: 0.85 } as const;

/** What `npm run bench -- --json` reports under "ingest" (issue 16). */
export interface IngestFigures {
  /** End to end / ceiling, median of the rounds, instrument-resolution readings (the case that counts). */
  ratio: number;
  /** The same with every value a full-precision double (the slowest to format). */
  ratio_worst_case: number;
  rounds: number;
  points_per_round: number;
  /** The better of one and two writes in flight (median of rounds). */
  ceiling_points_per_s: number;
  /** One write in flight only (what the ratio was measured against before the forwarder kept two). */
  ceiling_one_in_flight_points_per_s: number;
  end_to_end_points_per_s: number;
  encode_us_per_record: number;
  /**
   * CPU time per point (mean of rounds, instrument readings): this process (all its threads) and
   * influxd, for the ceiling and end to end. Where the two share the host's cores and saturate
   * them, rates go as 1 / CPU per point, so `cpu_ratio` (ceiling's CPU per point / end to end's)
   * is what the ratio can reach on this host until either process needs less CPU per point.
   */
  cpu_us_per_point: {
    ceiling: { node: number; influxd: number };
    end_to_end: { node: number; influxd: number };
  };
  cpu_ratio: number;
  /**
   * The instrument rounds again with this process on one CPU and influxd on the others
   * (cpu-affinity.ts): whether the daemon's path keeps up with InfluxDB when neither takes CPU time
   * from the other, as on a host with cores to spare. Informative; `met` judges `ratio`.
   */
  partitioned: PartitionedFigures | { refused: string };
  stall: {
    channels: number;
    hz: number;
    seconds: number;
    append_p99_us: number;
    commit_worst_ms: number;
    lateness_p50_ms: number;
    lateness_max_ms: number;
    stored: number;
    produced: number;
  };
  /** The backlog drain (drain.ts), when measured. */
  drain?: DrainFigures;
  target: typeof INGEST_TARGET;
  met: boolean;
}

export interface PartitionedFigures {
  ratio: number;
  rounds: number;
  node_cpus: number[];
  influxd_cpus: number[];
  ceiling_points_per_s: number;
  end_to_end_points_per_s: number;
}

export interface IngestOptions {
  /** Cell samples per run (default 150,000) and interleaved rounds (default 5). */
  points?: number;
  rounds?: number;
  /** Seconds of the 64 × 10 Hz stall run (default 5) and sample → acknowledged probes (default 30). */
  stallSeconds?: number;
  latencyProbes?: number;
  /** Backlog to drain, minutes of 64 × 10 Hz (default 60; 0 skips the drain). */
  drainMinutes?: number;
  /** Seconds of sampling after the backlog drained (or the bound on the drain). */
  drainSampleS?: number;
  /** Seconds of sampling before InfluxDB comes back (default 3). */
  drainWarmupS?: number;
  /** SCHED_FIFO priority of the sampling thread during the drain (0: none). */
  realtimePriority?: number;
  /** A running influxd (else one is started and stopped here). */
  influxd?: Influxd;
  out?: Out;
}

/** Runs the ingest benchmark, printing its table through `out`, and returns its figures. */
export async function runIngestBench(options: IngestOptions = {}): Promise<IngestFigures> {
  const points = options.points ?? DEFAULT_POINTS;
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const print: Out = options.out ?? ((line = "") => console.log(line));
  const influxd = options.influxd ?? (await startInfluxd());
  const dir = mkdtempSync(join(tmpdir(), "cellbench-ingest-"));
  const medians: Record<"instrument" | "worst", number> = { instrument: 0, worst: 0 };
  const speeds = { ceiling: [] as number[], ceiling1: [] as number[], e2e: [] as number[], encodeUs: 0 };
  const cpuMeans = { ceiling: { node: 0, influxd: 0 }, end_to_end: { node: 0, influxd: 0 } };
  let partitioned: IngestFigures["partitioned"] = { refused: "not measured" };
  try {
    const base = Date.now() - 2 * 3_600_000;
    let dbCounter = 0;
    const freshDb = async (createIt: boolean) => {
      const name = `ingest${++dbCounter}`;
      if (createIt) await influxd.query(`CREATE DATABASE ${name}`);
      return name;
    };
    const out = (label: string, value: string) => print(`${label.padEnd(62)} ${value}`);
    /** The ceiling (better of one and two writes in flight: the forwarder keeps two), then end to end. */
    const oneRound = async (label: string, bodies: string[], records: CellRecord[]) => {
      const db1 = await freshDb(true);
      const cpu1Start = cpuNow(influxd);
      const ceiling1 = await postAll(influxd, db1, bodies, 1);
      const cpu1 = cpuSince(influxd, cpu1Start, points);
      const db2 = await freshDb(true);
      const cpu2Start = cpuNow(influxd);
      const ceiling2 = await postAll(influxd, db2, bodies, 2);
      const cpu2 = cpuSince(influxd, cpu2Start, points);
      const ceiling = Math.max(ceiling1, ceiling2);
      const e2e = await endToEndRun(influxd, await freshDb(false), records, dir);
      out(`${label}: ceiling, pre-encoded POST /write (node:http), 1 in flight`, rate(ceiling1));
      out(`${label}: ceiling, the same, 2 in flight`, rate(ceiling2));
      out(
        `${label}: records → encode → outbox → forwarder → influxd`,
        `${rate(e2e.pointsPerS)}  = ${(100 * (e2e.pointsPerS / ceiling)).toFixed(1)} % of the ceiling ` +
          `(${e2e.commits} commits, worst ${e2e.worstCommitMs.toFixed(1)} ms)`,
      );
      return {
        ceiling,
        ceiling1,
        e2e: e2e.pointsPerS,
        ratio: e2e.pointsPerS / ceiling,
        cpuCeiling: ceiling2 >= ceiling1 ? cpu2 : cpu1,
        cpuE2e: e2e.cpu,
      };
    };
    print(
      `\ningest bench: ${points.toLocaleString("en")} cell samples per run, ${CHANNELS} channels, batches of ${BATCH}, ` +
        `influxd 1.6 on loopback, ${rounds} interleaved rounds (shared 2-core machine: compare within a round)`,
    );
    // The rounds hold 150,000 records, their lines and bodies (about 120 MB): in a function of their
    // own, they are garbage once it returns, and the drain below does not start with them in the heap.
    const measureRounds = async () => {
      for (const kind of ["instrument", "worst"] as const) {
        const records = makeRecords(points, base, kind);
        const encoder = new RecordEncoder("bench");
        const lines = records.map((r) => encoder.cell(r)); // also the JIT warm-up
        let encodedChars = 0;
        const encodeStart = performance.now();
        for (const r of records) encodedChars += encoder.cell(r).length;
        const encodeUs = ((performance.now() - encodeStart) * 1000) / points;
        const bodies: string[] = [];
        for (let i = 0; i < lines.length; i += BATCH) bodies.push(lines.slice(i, i + BATCH).join("\n"));
        await postAll(influxd, await freshDb(true), bodies.slice(0, 4)); // warm-up, not reported
        print(
          `\n${kind === "instrument" ? "instrument-resolution readings" : "every value a full-precision double (worst case)"}`,
        );
        out(
          "encode (RecordEncoder.cell)",
          `${encodeUs.toFixed(2)} µs/record, ${Math.round(encodedChars / points)} bytes/line`,
        );
        const ratios: number[] = [];
        const cpu = { ceiling: [] as Cpu[], e2e: [] as Cpu[] };
        for (let round = 1; round <= rounds; round++) {
          const r = await oneRound(`round ${round}`, bodies, records);
          cpu.ceiling.push(r.cpuCeiling);
          cpu.e2e.push(r.cpuE2e);
          ratios.push(r.ratio);
          if (kind === "instrument") {
            speeds.ceiling.push(r.ceiling);
            speeds.ceiling1.push(r.ceiling1);
            speeds.e2e.push(r.e2e);
          }
        }
        medians[kind] = median(ratios);
        if (kind === "instrument") speeds.encodeUs = encodeUs;
        out(
          "end-to-end / ceiling, median of rounds",
          `${(100 * medians[kind]).toFixed(1)} %  (target ≥ ${100 * INGEST_TARGET.min_ratio} %)`,
        );
        const mean = (xs: Cpu[], key: keyof Cpu) => xs.reduce((a, x) => a + x[key], 0) / xs.length;
        out(
          "CPU per point, ceiling: node / influxd",
          `${mean(cpu.ceiling, "nodeUsPerPoint").toFixed(2)} µs / ${mean(cpu.ceiling, "influxdUsPerPoint").toFixed(2)} µs`,
        );
        out(
          "CPU per point, end to end: node / influxd",
          `${mean(cpu.e2e, "nodeUsPerPoint").toFixed(2)} µs / ${mean(cpu.e2e, "influxdUsPerPoint").toFixed(2)} µs`,
        );
        if (kind === "instrument") {
          cpuMeans.ceiling = {
            node: mean(cpu.ceiling, "nodeUsPerPoint"),
            influxd: mean(cpu.ceiling, "influxdUsPerPoint"),
          };
          cpuMeans.end_to_end = {
            node: mean(cpu.e2e, "nodeUsPerPoint"),
            influxd: mean(cpu.e2e, "influxdUsPerPoint"),
          };
          out(
            "CPU per point, ceiling / end to end (what sharing the cores allows)",
            `${(100 * cpuRatio(cpuMeans)).toFixed(1)} %`,
          );
          partitioned = await partitionedRounds(
            influxd.pid,
            rounds,
            (label) => oneRound(label, bodies, records),
            print,
          );
          out("same bodies, global fetch", rate(await postAllFetch(influxd, await freshDb(true), bodies)));
          out(
            "same bodies, node:http (again, for comparison)",
            rate(await postAll(influxd, await freshDb(true), bodies)),
          );
          out(
            "same records, node-influx writePoints (serialises itself)",
            rate(await writePointsAll(influxd, await freshDb(true), records)),
          );
        }
      }
    };
    await measureRounds();
    const stall = await stallRun(
      influxd,
      await freshDb(false),
      dir,
      base,
      options.stallSeconds ?? 5,
      options.latencyProbes ?? 30,
    );
    print(
      `\nsampling-loop stall: ${stall.channels} channels × ${stall.hz} Hz for ${stall.seconds} s, synchronous=full`,
    );
    out(
      "append() per line, p50 / p99 / max",
      `${us(stall.append.p50)} / ${us(stall.append.p99)} / ${us(stall.append.max)}`,
    );
    out(
      "outbox commit, mean / worst",
      `${stall.commitMeanMs.toFixed(2)} ms / ${stall.commitWorstMs.toFixed(2)} ms (${stall.commits} commits)`,
    );
    out(
      "sampling tick lateness vs absolute deadline, p50 / max",
      `${stall.lateP50Ms.toFixed(2)} ms / ${stall.lateMaxMs.toFixed(2)} ms`,
    );
    out(
      "sample → acknowledged by InfluxDB, p50 / max",
      `${stall.latencyP50Ms.toFixed(0)} ms / ${stall.latencyMaxMs.toFixed(0)} ms`,
    );
    out("points stored / produced", `${stall.stored} / ${stall.produced}`);
    const drainMinutes = options.drainMinutes ?? 60;
    const drain =
      drainMinutes > 0
        ? await measureDrain({
            influxd,
            minutes: drainMinutes,
            sampleS: options.drainSampleS,
            warmupS: options.drainWarmupS,
            realtimePriority: options.realtimePriority,
            out: print,
          })
        : undefined;
    return {
      ratio: medians.instrument,
      ratio_worst_case: medians.worst,
      rounds: rounds,
      points_per_round: points,
      ceiling_points_per_s: Math.round(median(speeds.ceiling)),
      ceiling_one_in_flight_points_per_s: Math.round(median(speeds.ceiling1)),
      end_to_end_points_per_s: Math.round(median(speeds.e2e)),
      encode_us_per_record: speeds.encodeUs,
      cpu_us_per_point: cpuMeans,
      cpu_ratio: cpuRatio(cpuMeans),
      partitioned,
      stall: {
        channels: stall.channels,
        hz: stall.hz,
        seconds: stall.seconds,
        append_p99_us: stall.append.p99 * 1000,
        commit_worst_ms: stall.commitWorstMs,
        lateness_p50_ms: stall.lateP50Ms,
        lateness_max_ms: stall.lateMaxMs,
        stored: stall.stored,
        produced: stall.produced,
      },
      ...(drain ? { drain } : {}),
      target: INGEST_TARGET,
      met: medians.instrument >= INGEST_TARGET.min_ratio && (drain?.met ?? true),
    };
  } finally {
    if (!options.influxd) await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Cell samples of 16 channels. `instrument` readings (voltage, current, temperature) carry the
 * resolution a cycler reports (0.1 mV, 0.1 mA, 0.01 °C) while derived values (power, Ah, Wh, times)
 * are full-precision doubles, as the run engine computes them; `worst` makes every value a
 * full-precision double (the slowest case for number formatting).
 */
export function makeRecords(n: number, base: number, kind: "instrument" | "worst"): CellRecord[] {
  const records: CellRecord[] = [];
  const round = (x: number, step: number) => (kind === "worst" ? x : Math.round(x / step) * step);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / CHANNELS);
    const voltageV = round(3.6 + (k % 600) / 1000 + Math.random() * 1e-3, 1e-4);
    const currentA = round(1.2 + Math.random() * 1e-3, 1e-4);
    records.push({
      channel: `ch${i % CHANNELS}`,
      run: `R20261125-${String(i % CHANNELS).padStart(4, "0")}`,
      cell: `NMC-${String(i % CHANNELS).padStart(4, "0")}`,
      tWallMs: base + k * 10,
      testTimeS: k / 100 + Math.random() * 1e-6,
      stepTimeS: (k % 36_000) / 100 + Math.random() * 1e-6,
      voltageV,
      currentA,
      temperatureC: round(25 + Math.random(), 0.01),
      powerW: voltageV * currentA,
      chargeAh: (k * currentA) / 3.6e5,
      dischargeAh: 0,
      chargeWh: (k * voltageV * currentA) / 3.6e5,
      dischargeWh: 0,
      stepIndex: 1 + Math.floor(k / 36_000),
      cycleIndex: Math.floor(k / 72_000),
    });
  }
  return records;
}

/** Posts `bodies` in order with up to `inFlight` writes outstanding; returns points per second. */
async function postAll(influxd: Influxd, database: string, bodies: string[], inFlight = 1): Promise<number> {
  const writer = new HttpLineWriter({ url: influxd.url, database });
  const started = performance.now();
  let points = 0;
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const outcome = await writer.write(body);
      if (outcome.kind !== "written") throw new Error(`ceiling write failed: ${JSON.stringify(outcome)}`);
      points += countLines(body);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - started) / 1000;
  writer.close();
  return points / seconds;
}

async function postAllFetch(influxd: Influxd, database: string, bodies: string[]): Promise<number> {
  const started = performance.now();
  let points = 0;
  for (const body of bodies) {
    const res = await fetch(`${influxd.url}/write?db=${database}&precision=ms`, { method: "POST", body });
    await res.arrayBuffer();
    if (res.status !== 204) throw new Error(`fetch write failed: ${res.status}`);
    points += countLines(body);
  }
  return points / ((performance.now() - started) / 1000);
}

async function writePointsAll(influxd: Influxd, database: string, records: CellRecord[]): Promise<number> {
  const f = FieldType;
  const influx = new InfluxDB({
    host: "127.0.0.1",
    port: influxd.port,
    database,
    schema: [
      {
        measurement: "cell",
        tags: ["bench", "channel", "run", "cell"],
        fields: {
          voltage_v: f.FLOAT,
          current_a: f.FLOAT,
          temperature_c: f.FLOAT,
          power_w: f.FLOAT,
          charge_ah: f.FLOAT,
          discharge_ah: f.FLOAT,
          charge_wh: f.FLOAT,
          discharge_wh: f.FLOAT,
          test_time_s: f.FLOAT,
          step_time_s: f.FLOAT,
          step_index: f.INTEGER,
          cycle_index: f.INTEGER,
        },
      },
    ],
  });
  const started = performance.now();
  for (let i = 0; i < records.length; i += BATCH) {
    await influx.writePoints(
      records.slice(i, i + BATCH).map((r) => ({
        measurement: "cell",
        tags: { bench: "bench", channel: r.channel, run: r.run, cell: r.cell },
        fields: {
          voltage_v: r.voltageV,
          current_a: r.currentA,
          temperature_c: r.temperatureC,
          power_w: r.powerW,
          charge_ah: r.chargeAh,
          discharge_ah: r.dischargeAh,
          charge_wh: r.chargeWh,
          discharge_wh: r.dischargeWh,
          test_time_s: r.testTimeS,
          step_time_s: r.stepTimeS,
          step_index: r.stepIndex,
          cycle_index: r.cycleIndex,
        },
        timestamp: r.tWallMs,
      })),
      { precision: "ms" },
    );
  }
  return records.length / ((performance.now() - started) / 1000);
}

/** Feeds every record through the storage layer as fast as it takes them; returns points/s until acknowledged. */
async function endToEndRun(
  influxd: Influxd,
  database: string,
  records: CellRecord[],
  dir: string,
): Promise<{ pointsPerS: number; worstCommitMs: number; commits: number; cpu: Cpu }> {
  const storage = Storage.open({
    bench: "bench",
    store: join(dir, `${database}.db`),
    influx: { url: influxd.url, database },
    statusLogEveryMs: 0,
  });
  storage.start();
  // Schema and writer thread first, so that the timing covers data only (as the ceiling does).
  await until(() => storage.status().influx.schemaReady, 10_000);
  await storage.outbox.ready();
  // CPU over the timed span only: opening the storage starts two threads that load their modules.
  const cpuStart = cpuNow(influxd);
  const started = performance.now();
  for (let i = 0; i < records.length; i += 1_000) {
    const end = Math.min(records.length, i + 1_000);
    for (let j = i; j < end; j++) storage.logCell(records[j] as CellRecord);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => {
    const s = storage.status();
    return s.backlog.points === 0 && s.backlog.pendingLines === 0;
  }, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSince(influxd, cpuStart, records.length);
  const status = storage.status();
  await storage.close({ drainTimeoutMs: 0 });
  if (status.written.points !== records.length)
    throw new Error(`end-to-end wrote ${status.written.points} of ${records.length} points`);
  return {
    pointsPerS: records.length / seconds,
    worstCommitMs: status.outbox.worstCommitMs,
    commits: status.outbox.commits,
    cpu,
  };
}

/** A realistic sampling load on absolute deadlines while the outbox commits and the forwarder sends. */
async function stallRun(
  influxd: Influxd,
  database: string,
  dir: string,
  base: number,
  seconds: number,
  probes: number,
) {
  const channels = 64;
  const hz = 10;
  const storage = Storage.open({
    bench: "stall",
    store: join(dir, `${database}.db`),
    influx: { url: influxd.url, database },
    statusLogEveryMs: 0,
  });
  storage.start();
  await until(() => storage.status().influx.schemaReady, 10_000);
  const encoder = storage.encoder;
  const appendTimes: number[] = [];
  const lateness: number[] = [];
  const appendedAt: number[] = [];
  const t0 = performance.now();
  const periodMs = 1000 / hz;
  for (let k = 0; k < seconds * hz; k++) {
    const deadline = t0 + k * periodMs;
    const wait = deadline - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lateness.push(performance.now() - deadline);
    for (let c = 0; c < channels; c++) {
      const line = encoder.cell({
        channel: `ch${c}`,
        run: `R${c}`,
        cell: `C${c}`,
        tWallMs: base + k * periodMs,
        testTimeS: k / hz,
        stepTimeS: k / hz,
        voltageV: 3.7 + Math.random() * 0.01,
        currentA: 1,
        temperatureC: 25,
        powerW: 3.7,
        chargeAh: k / 1e4,
        dischargeAh: 0,
        chargeWh: k / 3e3,
        dischargeWh: 0,
        stepIndex: 1,
        cycleIndex: 0,
      });
      const s = performance.now();
      storage.outbox.append(line);
      appendTimes.push(performance.now() - s);
    }
    storage.setCheckpoint("R0", { k, stepPath: [1], ah: k / 1e4 });
    appendedAt.push(performance.now());
  }
  // Acknowledgement latency: sample when each tick's lines left the outbox (poll the backlog).
  const produced = seconds * hz * channels;
  await until(() => {
    const s = storage.status();
    return s.backlog.points === 0 && s.backlog.pendingLines === 0;
  }, 30_000);
  const status = storage.status();
  await storage.close({ drainTimeoutMs: 0 });
  const count = (await influxd.query("SELECT count(voltage_v) FROM cell WHERE bench = 'stall'", {
    db: database,
  })) as {
    results: { series?: { values: number[][] }[] }[];
  };
  return {
    channels,
    hz,
    seconds,
    append: distribution(appendTimes),
    commitMeanMs: status.outbox.meanCommitMs,
    commitWorstMs: status.outbox.worstCommitMs,
    commits: status.outbox.commits,
    lateP50Ms: distribution(lateness).p50,
    lateMaxMs: distribution(lateness).max,
    ...(await latencyProbe(influxd, dir, probes)),
    stored: count.results[0]?.series?.[0]?.values[0]?.[1] ?? 0,
    produced,
  };
}

/** Measures sample → acknowledged latency at a steady 10 Hz tick with 100 ms commits. */
async function latencyProbe(
  influxd: Influxd,
  dir: string,
  probes: number,
): Promise<{ latencyP50Ms: number; latencyMaxMs: number }> {
  const storage = Storage.open({
    bench: "latency",
    store: join(dir, "latency.db"),
    influx: { url: influxd.url, database: "latency" },
    statusLogEveryMs: 0,
  });
  storage.start();
  await until(() => storage.status().influx.schemaReady, 10_000);
  const latencies: number[] = [];
  for (let k = 0; k < probes; k++) {
    const before = storage.status().written.points;
    const s = performance.now();
    storage.logChamber({
      chamber: "tc1",
      tWallMs: Date.now(),
      temperatureC: 25,
      setpointC: 25,
      outputPct: 1,
    });
    await until(() => storage.status().written.points > before, 5_000, 1);
    latencies.push(performance.now() - s);
    await new Promise((resolve) =>
      setTimeout(resolve, 100 - ((latencies[latencies.length - 1] as number) % 100)),
    );
  }
  await storage.close({ drainTimeoutMs: 0 });
  const p = distribution(latencies);
  return { latencyP50Ms: p.p50, latencyMaxMs: p.max };
}

const median = (values: readonly number[]) => distribution(values).p50;

async function until(condition: () => boolean, timeoutMs: number, pollMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** CPU time (ms) of this process and of influxd, to compare runs independently of other load. */
function cpuNow(influxd: Influxd): { nodeMs: number; influxdMs: number } {
  const usage = process.cpuUsage();
  let influxdMs = 0;
  try {
    const stat = readFileSync(`/proc/${influxd.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
    influxdMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    influxdMs = Number.NaN;
  }
  return { nodeMs: (usage.user + usage.system) / 1000, influxdMs };
}

interface Cpu {
  nodeUsPerPoint: number;
  influxdUsPerPoint: number;
}

function cpuSince(influxd: Influxd, start: { nodeMs: number; influxdMs: number }, points: number): Cpu {
  const end = cpuNow(influxd);
  return {
    nodeUsPerPoint: ((end.nodeMs - start.nodeMs) * 1000) / points,
    influxdUsPerPoint: ((end.influxdMs - start.influxdMs) * 1000) / points,
  };
}

/** `rounds` rounds with this process and influxd on CPUs of their own, then every CPU back. */
async function partitionedRounds(
  influxdPid: number | undefined,
  rounds: number,
  round: (label: string) => Promise<{ ratio: number; ceiling: number; e2e: number }>,
  print: Out,
): Promise<IngestFigures["partitioned"]> {
  const partition =
    influxdPid === undefined ? { refused: "influxd's process id is unknown" } : partitionCpus(influxdPid);
  if ("refused" in partition) {
    print(`\npartitioned rounds not run: ${partition.refused}`);
    return { refused: partition.refused };
  }
  const results: { ratio: number; ceiling: number; e2e: number }[] = [];
  try {
    print(
      `\ninstrument-resolution readings, this process on CPU ${partition.own.join(",")} and influxd on CPU ` +
        `${partition.other.join(",")} (no CPU shared)`,
    );
    for (let k = 1; k <= rounds; k++) results.push(await round(`partitioned round ${k}`));
  } finally {
    partition.undo();
  }
  const ratio = median(results.map((r) => r.ratio));
  print(`${"partitioned: end-to-end / ceiling, median of rounds".padEnd(62)} ${(100 * ratio).toFixed(1)} %`);
  return {
    ratio,
    rounds,
    node_cpus: partition.own,
    influxd_cpus: partition.other,
    ceiling_points_per_s: Math.round(median(results.map((r) => r.ceiling))),
    end_to_end_points_per_s: Math.round(median(results.map((r) => r.e2e))),
  };
}

function cpuRatio(cpu: IngestFigures["cpu_us_per_point"]): number {
  const total = (side: { node: number; influxd: number }) => side.node + side.influxd;
  return total(cpu.ceiling) / total(cpu.end_to_end);
}

function countLines(body: string): number {
  let n = 1;
  for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) n++;
  return n;
}

const rate = (pointsPerS: number) => `${Math.round(pointsPerS).toLocaleString("en")} points/s`;
const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestBench();
}
