import type Database from "better-sqlite3";
import type { CellSpec } from "../../drivers/capabilities.js";
import type { Profile } from "../profile/ast.js";
import { openStoreFile } from "../store-file.js";

/** A run waiting in a channel's queue, as stored: its request, validated when it was queued. */
export interface QueuedRun {
  id: string;
  channel: string;
  createdMs: number;
  cell: CellSpec;
  profile: Profile;
  profileId?: string;
  temperatureOverride?: string;
  profileSource?: { source: string; driveCycleDir?: string | undefined };
}

/**
 * Channel queues in the daemon's SQLite file (their own tables): the waiting runs in order, and why
 * a queue is held. Written on every change (queues change when an operator acts or a run ends).
 */
export class QueueStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openStoreFile(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS run_queue (
      id TEXT PRIMARY KEY,
      channel TEXT NOT NULL,
      position INTEGER NOT NULL,
      body TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS run_queue_holds (channel TEXT PRIMARY KEY, reason TEXT NOT NULL)`);
  }

  /** Replaces a channel's stored queue: its runs in order, and why it is held (undefined: not held). */
  saveChannel(channel: string, runs: readonly QueuedRun[], held: string | undefined): void {
    const write = this.db.transaction(() => {
      this.db.prepare("DELETE FROM run_queue WHERE channel = ?").run(channel);
      const insert = this.db.prepare(
        "INSERT INTO run_queue (id, channel, position, body) VALUES (?, ?, ?, ?)",
      );
      for (const [i, run] of runs.entries()) insert.run(run.id, channel, i, JSON.stringify(run));
      if (held === undefined) this.db.prepare("DELETE FROM run_queue_holds WHERE channel = ?").run(channel);
      else
        this.db
          .prepare(
            "INSERT INTO run_queue_holds (channel, reason) VALUES (?, ?) ON CONFLICT(channel) DO UPDATE SET reason = excluded.reason",
          )
          .run(channel, held);
    });
    write();
  }

  /** Every stored queue, runs in order, with its hold. */
  all(): Map<string, { runs: QueuedRun[]; held: string | undefined }> {
    const queues = new Map<string, { runs: QueuedRun[]; held: string | undefined }>();
    const get = (channel: string) => {
      let q = queues.get(channel);
      if (!q) {
        q = { runs: [], held: undefined };
        queues.set(channel, q);
      }
      return q;
    };
    const rows = this.db.prepare("SELECT channel, body FROM run_queue ORDER BY channel, position").all() as {
      channel: string;
      body: string;
    }[];
    for (const row of rows) get(row.channel).runs.push(JSON.parse(row.body) as QueuedRun);
    const holds = this.db.prepare("SELECT channel, reason FROM run_queue_holds").all() as {
      channel: string;
      reason: string;
    }[];
    for (const hold of holds) get(hold.channel).held = hold.reason;
    return queues;
  }

  close(): void {
    this.db.close();
  }
}
