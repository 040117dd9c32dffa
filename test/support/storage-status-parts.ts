/** The parts of a storage status (forwarder and outbox counters), for tests that build one. */
import type { ForwarderStatus } from "../../src/storage/forwarder.js";
import type { OutboxStats } from "../../src/storage/outbox.js";

/** A forwarder that has written nothing and failed nothing; `changes` override fields. */
export function forwarderStatus(changes: Partial<ForwarderStatus> = {}): ForwarderStatus {
  return {
    running: true,
    reachable: null,
    schemaReady: true,
    writtenPoints: 0,
    writtenBatches: 0,
    requests: 0,
    writeErrors: 0,
    consecutiveFailures: 0,
    catchingUp: false,
    catchUpPointsPerSecond: null,
    catchUpPacePointsPerSecond: null,
    deadLetters: 0,
    bisectedBatches: 0,
    lastSuccessMs: null,
    lastError: null,
    nextRetryMs: null,
    ...changes,
  };
}

/** An outbox that has committed nothing; `changes` override fields. */
export function outboxStats(changes: Partial<OutboxStats> = {}): OutboxStats {
  return {
    appendedLines: 0,
    committedLines: 0,
    pendingLines: 0,
    droppedLines: 0,
    commits: 0,
    commitErrors: 0,
    lastCommitError: null,
    lastCommitMs: 0,
    worstCommitMs: 0,
    totalCommitMs: 0,
    writerThread: true,
    ...changes,
  };
}
