import type Database from "better-sqlite3";
import type { CellSpec } from "../../drivers/capabilities.js";
import type { Profile } from "../profile/ast.js";
import { openStoreFile } from "../store-file.js";
import type { RunState } from "./records.js";

/** A run as stored: what it was asked to do and what happened to it. */
export interface StoredRun {
  id: string;
  channel: string;
  cell: CellSpec;
  profile: Profile;
  profileId: string | null;
  state: RunState;
  reason: string;
  /** Latched faults stay on the channel until an operator clears them. */
  cleared: boolean;
  createdMs: number;
  history: { state: RunState; tWallMs: number; reason: string }[];
  /** Why the operator let the run go without a cell temperature (a channel that measures none). */
  temperatureOverride?: string;
  /** The discharge capacity of the cell's first cycle ever when the run was made, Ah (its history's). */
  firstCycleDischargeAh?: number;
  /** When an operator said the cell was taken off its channel (out of its chamber). */
  cellRemovedMs?: number;
}

/**
 * Run definitions and state history, in the daemon's SQLite file (its own table, its own
 * connection; WAL lets it sit beside the outbox). Writes happen only on state changes, and the
 * profile (the large part) is written once, with the first.
 */
export class RunStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly profileWritten = new Set<string>();

  constructor(path: string) {
    this.db = openStoreFile(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS runs (
      id TEXT PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      state TEXT NOT NULL,
      body TEXT NOT NULL
    )`);
    const columns = this.db.prepare("PRAGMA table_info(runs)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "profile")) this.db.exec("ALTER TABLE runs ADD COLUMN profile TEXT");
    this.upsert = this.db.prepare(
      "INSERT INTO runs (id, created_ms, state, body, profile) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, body = excluded.body, profile = excluded.profile",
    );
    this.update = this.db.prepare("UPDATE runs SET state = ?, body = ? WHERE id = ?");
  }

  save(run: StoredRun): void {
    const { profile, ...rest } = run;
    const body = JSON.stringify(rest);
    if (this.profileWritten.has(run.id)) {
      this.update.run(run.state, body, run.id);
      return;
    }
    this.upsert.run(run.id, run.createdMs, run.state, body, JSON.stringify(profile));
    this.profileWritten.add(run.id);
  }

  all(): StoredRun[] {
    const rows = this.db.prepare("SELECT body, profile FROM runs ORDER BY created_ms, id").all() as {
      body: string;
      profile: string | null;
    }[];
    return rows.map((r) => {
      const run = JSON.parse(r.body) as StoredRun;
      // Rows written before the profile had its own column carry it in the body (and get the column
      // with their next save).
      if (r.profile !== null) {
        run.profile = JSON.parse(r.profile) as StoredRun["profile"];
        this.profileWritten.add(run.id);
      }
      return run;
    });
  }

  /** Highest sequence number used in run ids of the given day prefix (`R20261125-`). */
  lastSequence(prefix: string): number {
    const row = this.db
      .prepare("SELECT id FROM runs WHERE id LIKE ? ORDER BY id DESC LIMIT 1")
      .get(`${prefix}%`) as { id: string } | undefined;
    return row ? Number(row.id.slice(prefix.length)) : 0;
  }

  close(): void {
    this.db.close();
  }
}
