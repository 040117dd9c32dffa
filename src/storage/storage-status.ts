/**
 * One status object for /health, /metrics and the log: backlog (rows, points, oldest unsent age),
 * last successful write, dead letters, write errors, commit timings.
 */
import type { ForwarderStatus } from "./forwarder.js";
import type { Backlog, OutboxStats } from "./outbox.js";

export interface StorageStatus {
  bench: string;
  influx: {
    /** Write endpoint without credentials. */
    url: string;
    database: string;
    /** Whether InfluxDB answered the last request; null before the first attempt. */
    reachable: boolean | null;
    schemaReady: boolean;
    lastSuccessMs: number | null;
    lastError: { atMs: number; status: number | null; message: string } | null;
    /** Failed attempts since start-up (each is retried). */
    writeErrors: number;
    consecutiveFailures: number;
    nextRetryMs: number | null;
  };
  backlog: {
    /** Committed rows waiting for InfluxDB. */
    rows: number;
    /** Committed lines (points) waiting for InfluxDB. */
    points: number;
    /** Lines appended but not yet committed to the outbox. */
    pendingLines: number;
    /** Age of the oldest unsent row, seconds; null when nothing waits. */
    oldestUnsentAgeS: number | null;
    /** Whether a backlog is being sent, at `catchUpPointsPerSecond` (null: unpaced). */
    catchingUp: boolean;
    catchUpPointsPerSecond: number | null;
    /** The pace it goes at now: the catch-up rate, or twice the live logging rate when higher; null when not catching up. */
    catchUpPacePointsPerSecond: number | null;
  };
  written: { points: number; batches: number; requests: number; bisectedBatches: number };
  deadLetters: { total: number; sinceStart: number; lastMessage: string | null };
  /** Records that could not be encoded as line protocol (reported and counted, never thrown at the sampler). */
  unencodable: { sinceStart: number; lastMessage: string | null };
  outbox: {
    commits: number;
    commitErrors: number;
    lastCommitError: string | null;
    lastCommitMs: number;
    worstCommitMs: number;
    meanCommitMs: number;
    droppedLines: number;
    /** Whether commits run on the outbox's writer thread (false: it failed, they run on the sampling thread). */
    writerThread: boolean;
  };
}

/** Assembles the status object from its parts. */
export function buildStorageStatus(parts: {
  bench: string;
  url: string;
  database: string;
  nowMs: number;
  forwarder: ForwarderStatus;
  backlog: Backlog;
  outbox: OutboxStats;
  deadLetterTotal: number;
  lastDeadLetterMessage: string | null;
  unencodable: { sinceStart: number; lastMessage: string | null };
}): StorageStatus {
  const { forwarder: f, backlog: b, outbox: o } = parts;
  return {
    bench: parts.bench,
    influx: {
      url: parts.url,
      database: parts.database,
      reachable: f.reachable,
      schemaReady: f.schemaReady,
      lastSuccessMs: f.lastSuccessMs,
      lastError: f.lastError,
      writeErrors: f.writeErrors,
      consecutiveFailures: f.consecutiveFailures,
      nextRetryMs: f.nextRetryMs,
    },
    backlog: {
      rows: b.rows,
      points: b.points,
      pendingLines: o.pendingLines,
      oldestUnsentAgeS:
        b.oldestCreatedMs === null ? null : Math.max(0, (parts.nowMs - b.oldestCreatedMs) / 1000),
      catchingUp: f.catchingUp && b.rows > 0,
      catchUpPointsPerSecond: f.catchUpPointsPerSecond,
      catchUpPacePointsPerSecond: f.catchingUp && b.rows > 0 ? f.catchUpPacePointsPerSecond : null,
    },
    written: {
      points: f.writtenPoints,
      batches: f.writtenBatches,
      requests: f.requests,
      bisectedBatches: f.bisectedBatches,
    },
    deadLetters: {
      total: parts.deadLetterTotal,
      sinceStart: f.deadLetters,
      lastMessage: parts.lastDeadLetterMessage,
    },
    unencodable: { ...parts.unencodable },
    outbox: {
      commits: o.commits,
      commitErrors: o.commitErrors,
      lastCommitError: o.lastCommitError,
      lastCommitMs: o.lastCommitMs,
      worstCommitMs: o.worstCommitMs,
      meanCommitMs: o.commits === 0 ? 0 : o.totalCommitMs / o.commits,
      droppedLines: o.droppedLines,
      writerThread: o.writerThread,
    },
  };
}

/** Renders the status as Prometheus text exposition lines (no run ids as labels). */
export function renderStorageMetrics(status: StorageStatus): string {
  const lines: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, value: number | null | boolean) => {
    const v = value === null ? Number.NaN : typeof value === "boolean" ? (value ? 1 : 0) : value;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${formatValue(v)}`);
  };
  const s = status;
  metric(
    "cellbench_storage_influx_up",
    "gauge",
    "1 when InfluxDB answered the last request",
    s.influx.reachable === true,
  );
  metric(
    "cellbench_storage_unencodable_total",
    "counter",
    "Records that could not be encoded as line protocol since start-up (not stored; see the log)",
    s.unencodable.sinceStart,
  );
  metric("cellbench_storage_backlog_rows", "gauge", "Outbox rows waiting for InfluxDB", s.backlog.rows);
  metric("cellbench_storage_backlog_points", "gauge", "Points waiting for InfluxDB", s.backlog.points);
  metric(
    "cellbench_storage_pending_lines",
    "gauge",
    "Lines not yet committed to the outbox",
    s.backlog.pendingLines,
  );
  metric(
    "cellbench_storage_oldest_unsent_age_seconds",
    "gauge",
    "Age of the oldest unsent outbox row (0 when empty)",
    s.backlog.oldestUnsentAgeS ?? 0,
  );
  metric(
    "cellbench_storage_catching_up",
    "gauge",
    "1 while a backlog is sent at the catch-up rate (influx.catchUpPointsPerSecond)",
    s.backlog.catchingUp,
  );
  metric(
    "cellbench_storage_last_success_timestamp_seconds",
    "gauge",
    "Wall time of the last accepted write",
    s.influx.lastSuccessMs === null ? null : s.influx.lastSuccessMs / 1000,
  );
  metric(
    "cellbench_storage_points_written_total",
    "counter",
    "Points accepted by InfluxDB",
    s.written.points,
  );
  metric(
    "cellbench_storage_write_errors_total",
    "counter",
    "Write attempts that failed and were retried",
    s.influx.writeErrors,
  );
  metric(
    "cellbench_storage_dead_letters",
    "gauge",
    "Lines InfluxDB refused as bad data, stored for review",
    s.deadLetters.total,
  );
  metric(
    "cellbench_storage_outbox_commit_errors_total",
    "counter",
    "Outbox commits that failed",
    s.outbox.commitErrors,
  );
  metric(
    "cellbench_storage_outbox_dropped_lines_total",
    "counter",
    "Lines dropped because the outbox could not commit",
    s.outbox.droppedLines,
  );
  metric(
    "cellbench_storage_outbox_commit_worst_seconds",
    "gauge",
    "Longest outbox commit",
    s.outbox.worstCommitMs / 1000,
  );
  metric(
    "cellbench_storage_outbox_writer_thread",
    "gauge",
    "1 while outbox commits run on their own thread, 0 once they fell back to the sampling thread",
    s.outbox.writerThread,
  );
  return `${lines.join("\n")}\n`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}
