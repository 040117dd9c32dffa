/**
 * The storage layer as the run engine and the HTTP API see it: records in (encoded once, appended
 * to the outbox), checkpoints committed with them, a forwarder draining to InfluxDB in the
 * background, one status object out, and the BDF export.
 *
 *   const storage = Storage.open({ bench: "b1", store: "./var/cellbench.db", influx: { url, database } });
 *   storage.start();
 *   storage.logCell(record);                 // per logged sample (see LogGate)
 *   storage.setCheckpoint(run, state);       // committed with the lines appended before it
 *   storage.status();                        // /health, /metrics
 *   await storage.close();                   // shutdown: commit, drain a little, close
 */
import { type Logger, pino } from "pino";
import type { Clock } from "../../drivers/clock.js";
import type { CellRecord, ChamberRecord, CycleRecord, RunEventRecord, StepRecord } from "../run/records.js";
import type { BackoffOptions } from "./backoff.js";
import type { BdfExportOptions } from "./bdf-export.js";
import { ExportThread } from "./export-thread.js";
import { DEFAULT_CATCH_UP_POINTS_PER_SECOND, Forwarder } from "./forwarder.js";
import { createInfluxClient, createInfluxQuery } from "./influx-client.js";
import {
  backfillDownsample,
  durationMs,
  ensureSchema,
  type ResolvedSchema,
  resolveSchema,
  type SchemaOptions,
} from "./influx-schema.js";
import { type InfluxTarget, normaliseTarget } from "./influx-target.js";
import type { LineWriter } from "./line-writer.js";
import { ThreadLineWriter } from "./line-writer-thread.js";
import { OutageLog } from "./outage-log.js";
import { Outbox, type StoredCheckpoint } from "./outbox.js";
import { RecordEncoder } from "./record-encoder.js";
import { queryRunRecords, type RunRecordsQuery, type StoredRecord } from "./run-records-query.js";
import { buildStorageStatus, renderStorageMetrics, type StorageStatus } from "./storage-status.js";

export interface StorageOptions {
  /** Bench name: the `bench` tag on every point. */
  bench: string;
  /** SQLite outbox file. */
  store: string;
  influx: InfluxTarget & {
    /** Create database, policies and continuous queries when missing (default true; off for 2.x/3.x). */
    manageSchema?: boolean;
    schema?: SchemaOptions;
  };
  /** Outbox group-commit period (default 100 ms). */
  commitIntervalMs?: number;
  /** Outbox durability (default "full"). */
  synchronous?: "normal" | "full";
  /** Lines per InfluxDB write, and the pending lines that start an early commit (default DEFAULT_BATCH_LINES). */
  batchLines?: number;
  /** InfluxDB writes in flight at once (default: the forwarder's DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Pace of a backlog, points per second (default DEFAULT_CATCH_UP_POINTS_PER_SECOND; see forwarder.ts). */
  catchUpPointsPerSecond?: number;
  backoff?: BackoffOptions;
  /**
   * Clock for back-off waits and status/outbox times (default: real time). The storage layer talks
   * to a real server: do not hand it a run's scaled or virtual clock outside tests.
   */
  clock?: Clock;
  logger?: Logger;
  /** Period of the status log line (default 60 s; 0 disables). */
  statusLogEveryMs?: number;
  /** Replaces the HTTP writer (tests). */
  writer?: LineWriter;
}

/** Storage facade: encoder + outbox + forwarder + schema + status + export. */
export class Storage {
  readonly encoder: RecordEncoder;
  readonly outbox: Outbox;
  readonly forwarder: Forwarder;
  private readonly target: InfluxTarget;
  private readonly schema: ResolvedSchema | undefined;
  private readonly influx: ReturnType<typeof createInfluxClient>;
  private readonly writer: LineWriter;
  private readonly log: Logger;
  private readonly wallNow: () => number;
  private readonly statusLogEveryMs: number;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly exportThread = new ExportThread();
  private lastDeadLetterMessage: string | null = null;
  private readonly unencodable: { sinceStart: number; lastMessage: string | null } = {
    sinceStart: 0,
    lastMessage: null,
  };
  private late: { fromMs: number; toMs: number } | undefined;
  private backfill: Promise<void> | undefined;

  private constructor(options: StorageOptions) {
    this.log = (options.logger ?? pino({ level: "silent" })).child({ component: "storage" });
    this.wallNow = options.clock ? () => (options.clock as Clock).wallNow() : Date.now;
    this.encoder = new RecordEncoder(options.bench);
    const manageSchema = options.influx.manageSchema ?? true;
    this.schema = manageSchema ? resolveSchema(options.influx.database, options.influx.schema) : undefined;
    this.target = normaliseTarget({
      ...options.influx,
      retentionPolicy: options.influx.retentionPolicy ?? this.schema?.raw.name,
    });
    this.influx = createInfluxClient(this.target);
    this.writer =
      options.writer ??
      new ThreadLineWriter(this.target, {
        onTakeOver: (why) =>
          this.log.warn({ error: why }, "InfluxDB writes now run on the sampling thread; nothing was lost"),
      });
    this.statusLogEveryMs = options.statusLogEveryMs ?? 60_000;
    this.outbox = Outbox.open({
      path: options.store,
      commitIntervalMs: options.commitIntervalMs,
      // A batch's worth of lines is committed at once, so that the forwarder can send it.
      commitLines: options.batchLines,
      synchronous: options.synchronous,
      wallNow: this.wallNow,
      onCommitError: (error) => this.log.error({ err: error }, "outbox commit failed; lines kept in memory"),
      onCheckpointError: (message) => this.log.warn({ error: message }, "outbox WAL checkpoint failed"),
      onWriterTakeOver: (why) =>
        this.log.warn({ error: why }, "outbox commits now run on the sampling thread; nothing was lost"),
    });
    this.lastDeadLetterMessage = this.outbox.listDeadLetters(1)[0]?.message ?? null;
    const outage = new OutageLog({
      log: this.log,
      url: this.target.url,
      spooledPoints: () => this.outbox.backlog().points,
      wallNow: this.wallNow,
    });
    const schema = this.schema;
    this.forwarder = new Forwarder({
      outbox: this.outbox,
      writer: this.writer,
      clock: options.clock,
      batchLines: options.batchLines,
      concurrency: options.concurrency,
      catchUpPointsPerSecond: options.catchUpPointsPerSecond ?? DEFAULT_CATCH_UP_POINTS_PER_SECOND,
      backoff: options.backoff,
      ensureSchema: schema
        ? async () => {
            const report = await ensureSchema(this.influx, schema);
            const changed =
              report.createdDatabase ||
              report.createdPolicies.length + report.alteredPolicies.length + report.createdQueries.length >
                0;
            this.log[changed ? "info" : "debug"]({ schema: report }, "InfluxDB schema checked");
            if (report.staleQueries.length > 0)
              this.log.warn(
                { staleQueries: report.staleQueries },
                "continuous queries from other settings exist",
              );
          }
        : undefined,
      events: {
        onWriteFailed: (outcome, retryInMs) => {
          if (outcome.status === null) {
            outage.unanswered(outcome.message, retryInMs);
            return;
          }
          // InfluxDB answered and refused (authentication, missing database, 5xx): worth a warning
          // now and then for as long as it lasts.
          const failures = this.forwarder.status().consecutiveFailures;
          const level = failures === 1 || failures % 10 === 0 ? "warn" : "debug";
          this.log[level](
            {
              status: outcome.status,
              error: outcome.message,
              failures,
              retryInMs: Math.round(retryInMs),
              backlog: this.outbox.backlog(),
            },
            "InfluxDB write failed; will retry",
          );
        },
        onRecovered: (afterFailures) => {
          if (!outage.answered())
            this.log.info(
              { afterFailures, backlog: this.outbox.backlog() },
              "InfluxDB writes succeed again; draining backlog",
            );
        },
        onSchemaFailed: (error, retryInMs) => {
          if (retryInMs === null)
            this.log.warn({ error: error.message }, "schema not managed: writing anyway");
          else outage.unanswered(error.message, retryInMs);
        },
        onDeadLetters: (letters) => {
          this.lastDeadLetterMessage = letters[letters.length - 1]?.message ?? null;
          this.log.error(
            {
              count: letters.length,
              status: letters[0]?.status,
              error: letters[0]?.message,
              line: letters[0]?.line,
            },
            "InfluxDB refused lines as bad data; kept as dead letters",
          );
        },
        onDelivered: (batch) => this.noteLateness(batch),
        onError: (error, retryInMs) =>
          this.log.error({ err: error, retryInMs }, "forwarder failed; will retry"),
      },
    });
  }

  /** Opens the outbox (synchronously) and prepares the forwarder; call start() to begin forwarding. */
  static open(options: StorageOptions): Storage {
    return new Storage(options);
  }

  /** Starts forwarding (the schema step runs first, retried until InfluxDB answers) and status logging. */
  start(): void {
    this.forwarder.start();
    if (this.statusLogEveryMs > 0 && !this.statusTimer) {
      this.statusTimer = setInterval(() => this.logStatus(), this.statusLogEveryMs);
      this.statusTimer.unref();
    }
  }

  /** Encodes and appends a logged cell sample. */
  logCell(record: CellRecord): void {
    let line: Uint8Array;
    try {
      line = this.encoder.cellBytes(record);
    } catch (err) {
      this.noteUnencodable("cell sample", err);
      return;
    }
    this.outbox.appendBytes(line);
  }

  /** Encodes and appends a chamber reading (skipped when it carries no finite value). */
  logChamber(record: ChamberRecord): void {
    this.append("chamber reading", () => this.encoder.chamber(record));
  }

  /** Encodes and appends a run state change. */
  logRunEvent(record: RunEventRecord): void {
    this.append("run event", () => this.encoder.runEvent(record));
  }

  /** Encodes and appends a cycle summary. */
  logCycle(record: CycleRecord): void {
    this.append("cycle summary", () => this.encoder.cycle(record));
  }

  /** Encodes and appends a completed step's record. */
  logStep(record: StepRecord): void {
    this.append("step record", () => this.encoder.step(record));
  }

  /**
   * The log methods are called from the sampling path and must never throw there: a record that
   * cannot be encoded (a tag value line protocol cannot carry) is counted, and the first of each
   * kind, then every 1000th, is logged.
   */
  private append(kind: string, encode: () => string | undefined): void {
    let line: string | undefined;
    try {
      line = encode();
    } catch (err) {
      this.noteUnencodable(kind, err);
      return;
    }
    if (line !== undefined) this.outbox.append(line);
  }

  private noteUnencodable(kind: string, err: unknown): void {
    this.unencodable.sinceStart++;
    this.unencodable.lastMessage = `${kind}: ${err instanceof Error ? err.message : String(err)}`;
    if (this.unencodable.sinceStart % 1000 === 1)
      this.log.error(
        { err, unencodable: this.unencodable.sinceStart },
        `a ${kind} could not be encoded for InfluxDB and is not stored`,
      );
  }

  /** Stores a run's checkpoint with the next commit (atomically with the lines appended before it). */
  setCheckpoint(run: string, state: unknown): void {
    this.outbox.setCheckpoint(run, state);
  }

  /** Removes a run's checkpoint with the next commit. */
  deleteCheckpoint(run: string): void {
    this.outbox.deleteCheckpoint(run);
  }

  /** Returns every stored checkpoint (start-up: runs to mark interrupted). */
  readCheckpoints(): Map<string, StoredCheckpoint> {
    return this.outbox.readCheckpoints();
  }

  /** Returns the storage status (for /health and /metrics). */
  status(): StorageStatus {
    return buildStorageStatus({
      bench: this.encoder.bench,
      url: this.target.url,
      database: this.target.database,
      nowMs: this.wallNow(),
      forwarder: this.forwarder.status(),
      backlog: this.outbox.backlog(),
      outbox: this.outbox.stats(),
      deadLetterTotal: this.outbox.deadLetterCount(),
      lastDeadLetterMessage: this.lastDeadLetterMessage,
      unencodable: this.unencodable,
    });
  }

  /** Returns the status as Prometheus text. */
  metrics(): string {
    return renderStorageMetrics(this.status());
  }

  /**
   * Streams a run of this bench as BDF CSV in UTF-8 chunks (header first), read and formatted on the
   * export thread (export-worker.ts), never on the sampling loop; `signal` aborts the query in flight.
   */
  exportRunCsv(
    options: Omit<BdfExportOptions, "database" | "bench"> & { bench?: string },
  ): AsyncGenerator<string | Uint8Array> {
    return this.exportThread.run(this.target, {
      ...options,
      database: this.target.database,
      bench: options.bench ?? this.encoder.bench,
      retentionPolicy: options.retentionPolicy ?? this.target.retentionPolicy,
    });
  }

  /** Starts the export thread now rather than on the first export; resolves once it has loaded. */
  exportsReady(): Promise<void> {
    return this.exportThread.ready();
  }

  /** Reads a page of a run's step or cycle records of this bench back from InfluxDB. */
  runRecords(q: Omit<RunRecordsQuery, "database" | "bench" | "retentionPolicy">): Promise<StoredRecord[]> {
    return queryRunRecords(createInfluxQuery(this.target), {
      ...q,
      database: this.target.database,
      bench: this.encoder.bench,
      retentionPolicy: this.target.retentionPolicy,
    });
  }

  /**
   * Shuts down: commits what is pending, keeps forwarding for up to `drainTimeoutMs` (default 5 s)
   * so a reachable InfluxDB gets everything, then closes. Whatever is left stays in the outbox.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    await this.outbox.commit();
    await this.forwarder.stop({ drainTimeoutMs: options.drainTimeoutMs ?? 5_000 });
    await this.backfill;
    this.writer.close();
    await this.exportThread.close();
    const backlog = this.outbox.backlog();
    await this.outbox.close();
    this.log.info({ backlog }, "storage closed");
  }

  private logStatus(): void {
    const status = this.status();
    const worrying =
      status.backlog.rows > 0 || status.deadLetters.total > 0 || status.influx.reachable === false;
    this.log[worrying ? "info" : "debug"]({ storage: status }, "storage status");
  }

  /**
   * Continuous queries only see what arrived before they ran. When a batch arrives later than
   * twice the downsampling interval, remember its time span and re-run the downsampling over it
   * once the backlog has drained.
   */
  private noteLateness(batch: { createdMs: number; body: Buffer }): void {
    const schema = this.schema;
    if (!schema) return;
    const every = durationMs(schema.every);
    if (this.wallNow() - batch.createdMs > 2 * every) {
      const first = lineTime(batch.body, 0);
      const last = lineTime(batch.body, batch.body.lastIndexOf(0x0a) + 1);
      if (first !== undefined && last !== undefined) {
        const fromMs = Math.min(first, last);
        const toMs = Math.max(first, last);
        this.late = this.late
          ? { fromMs: Math.min(this.late.fromMs, fromMs), toMs: Math.max(this.late.toMs, toMs) }
          : { fromMs, toMs };
      }
    }
    if (this.late && this.outbox.backlog().rows === 0 && !this.backfill) {
      const span = this.late;
      this.late = undefined;
      this.backfill = backfillDownsample(this.influx, schema, span.fromMs - every, span.toMs + every)
        .then(() => this.log.info({ fromMs: span.fromMs, toMs: span.toMs }, "downsampled late data"))
        .catch((err: unknown) => this.log.warn({ err }, "could not downsample late data"))
        .finally(() => {
          this.backfill = undefined;
        });
    }
  }
}

/** Reads the timestamp (last token) of the line starting at byte `start`. */
function lineTime(body: Buffer, start: number): number | undefined {
  const newline = body.indexOf(0x0a, start);
  const end = newline < 0 ? body.length : newline;
  const space = body.lastIndexOf(0x20, end - 1);
  if (space < start) return undefined;
  const t = Number(body.toString("latin1", space + 1, end));
  return Number.isFinite(t) ? t : undefined;
}
