import type Database from "better-sqlite3";
import type { Profile } from "../profile/ast.js";
import { openStoreFile } from "../store-file.js";

/** A batch as stored: its chamber, its runs and how far their meetings at chamber steps got. */
export interface StoredBatch {
  id: string;
  chamber: string;
  createdMs: number;
  profile: Profile;
  profileId: string | null;
  runs: { channel: string; run: string }[];
  /** Meetings (chamber step and phase) every run has passed: a run that arrives there later goes on. */
  released: string[];
  /** Every run of the batch has ended (the chamber is free again). */
  ended: boolean;
}

/** Batches in the daemon's SQLite file (their own table): written when one starts, passes a meeting or ends. */
export class BatchStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openStoreFile(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS run_batches (
      id TEXT PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      body TEXT NOT NULL
    )`);
  }

  save(batch: StoredBatch): void {
    this.db
      .prepare(
        "INSERT INTO run_batches (id, created_ms, body) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
      )
      .run(batch.id, batch.createdMs, JSON.stringify(batch));
  }

  all(): StoredBatch[] {
    const rows = this.db.prepare("SELECT body FROM run_batches ORDER BY created_ms, id").all() as {
      body: string;
    }[];
    return rows.map((r) => JSON.parse(r.body) as StoredBatch);
  }

  /** Highest sequence number used in batch ids of the given day prefix (`B20261125-`). */
  lastSequence(prefix: string): number {
    const row = this.db
      .prepare("SELECT id FROM run_batches WHERE id LIKE ? ORDER BY id DESC LIMIT 1")
      .get(`${prefix}%`) as { id: string } | undefined;
    return row ? Number(row.id.slice(prefix.length)) : 0;
  }

  close(): void {
    this.db.close();
  }
}
