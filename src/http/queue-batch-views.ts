/** Channel queues and batches as the API shows them (queue-batch-schemas.ts). */
import type { BatchInfo } from "../run/batch.js";
import type { QueueInfo } from "../run/run-queue.js";
import type { BatchViewT, QueueViewT } from "./queue-batch-schemas.js";
import { iso, runView } from "./views.js";

export function queueView(q: QueueInfo, wallNowMs: number): QueueViewT {
  return {
    channel: q.channel,
    held: q.held ?? null,
    current: q.current ?? null,
    runs: q.runs.map((r) => runView(r, wallNowMs)),
  };
}

export function batchView(b: BatchInfo, wallNowMs: number): BatchViewT {
  return {
    id: b.id,
    chamber: b.chamber,
    profile: b.profile,
    profile_id: b.profileId,
    created_at: iso(b.createdMs),
    state: b.state,
    held: b.held ?? null,
    runs: b.runs.map((r) => ({
      channel: r.channel,
      run: r.run ? runView(r.run, wallNowMs) : null,
      waits_at: r.waitsAt ? { step: r.waitsAt.step, phase: r.waitsAt.phase } : null,
    })),
  };
}
