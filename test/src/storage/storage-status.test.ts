import { describe, expect, it } from "vitest";
import { buildStorageStatus, renderStorageMetrics } from "../../../src/storage/storage-status.js";
import { forwarderStatus, outboxStats } from "../../support/storage-status-parts.js";

const forwarder = forwarderStatus({
  reachable: false,
  writtenPoints: 1200,
  writtenBatches: 3,
  requests: 9,
  writeErrors: 4,
  consecutiveFailures: 2,
  catchingUp: true,
  catchUpPointsPerSecond: 25_000,
  catchUpPacePointsPerSecond: 40_000,
  deadLetters: 1,
  bisectedBatches: 1,
  lastSuccessMs: 1_764_100_000_000,
  lastError: { atMs: 1_764_100_050_000, status: null, message: "ECONNREFUSED" },
  nextRetryMs: 1_764_100_051_000,
});
const outbox = outboxStats({
  appendedLines: 2000,
  committedLines: 1990,
  pendingLines: 10,
  commits: 4,
  lastCommitMs: 0.5,
  worstCommitMs: 2,
  totalCommitMs: 4,
});

describe("storage status", () => {
  const status = buildStorageStatus({
    bench: "b1",
    url: "http://127.0.0.1:8086",
    database: "cellbench",
    nowMs: 1_764_100_060_000,
    forwarder,
    backlog: { rows: 2, points: 790, oldestCreatedMs: 1_764_100_040_000 },
    outbox,
    deadLetterTotal: 3,
    lastDeadLetterMessage: "partial write: field type conflict",
    unencodable: { sinceStart: 2, lastMessage: "cell sample: tag cell has a line feed" },
  });

  it("gathers backlog, last success, errors and dead letters in one object", () => {
    expect(status.backlog).toEqual({
      rows: 2,
      points: 790,
      pendingLines: 10,
      oldestUnsentAgeS: 20,
      catchingUp: true,
      catchUpPointsPerSecond: 25_000,
      catchUpPacePointsPerSecond: 40_000,
    });
    expect(status.influx).toMatchObject({
      reachable: false,
      writeErrors: 4,
      lastSuccessMs: 1_764_100_000_000,
    });
    expect(status.deadLetters).toEqual({
      total: 3,
      sinceStart: 1,
      lastMessage: "partial write: field type conflict",
    });
    expect(status.outbox).toMatchObject({ worstCommitMs: 2, meanCommitMs: 1 });
  });

  it("renders Prometheus text without run labels", () => {
    const text = renderStorageMetrics(status);
    expect(text).toMatch(/^cellbench_storage_influx_up 0$/m);
    expect(text).toMatch(/^cellbench_storage_backlog_points 790$/m);
    expect(text).toMatch(/^cellbench_storage_oldest_unsent_age_seconds 20$/m);
    expect(text).toMatch(/^cellbench_storage_catching_up 1$/m);
    expect(text).toMatch(/^cellbench_storage_last_success_timestamp_seconds 1764100000$/m);
    expect(text).toMatch(/^cellbench_storage_write_errors_total 4$/m);
    expect(text).toMatch(/^# TYPE cellbench_storage_points_written_total counter$/m);
    expect(text).not.toMatch(/run=/);
  });
});
