import type Database from "better-sqlite3";
import { openStoreFile } from "../store-file.js";
import type { Cell } from "./cell.js";
import type { CellHistory, CellRunEntry } from "./cell-history.js";

/** A registered cell as stored. */
export interface StoredCell {
  id: string;
  /** The cell document as registered (and patched): what PATCH merges into and parses again. */
  document: Record<string, unknown>;
  /** The document parsed: limits resolved against the chemistry, metadata. */
  cell: Cell;
  createdMs: number;
  updatedMs: number;
  history: CellHistory;
}

export interface CellMount {
  channel: string;
  cell: string;
  mountedMs: number;
}

/**
 * Registered cells, their histories and which cell is mounted on which channel, in the daemon's
 * SQLite file (own tables, own connection, WAL; like the run store). A channel holds at most one
 * cell and a cell is on at most one channel: both are constraints of the table. A cell's runs are
 * rows of their own, so that the write per cycle or state change stays the same size however many
 * runs the cell has had.
 */
export class CellStore {
  private readonly db: Database.Database;
  private readonly insertCell: Database.Statement;
  private readonly updateCell: Database.Statement;
  private readonly updateHistory: Database.Statement;
  private readonly upsertRun: Database.Statement;
  private readonly insertMount: Database.Statement;
  private readonly deleteMount: Database.Statement;

  constructor(path: string) {
    this.db = openStoreFile(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS cells (
      id TEXT PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL,
      document TEXT NOT NULL,
      cell TEXT NOT NULL,
      history TEXT NOT NULL
    )`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS cell_runs (
      cell TEXT NOT NULL REFERENCES cells(id),
      run TEXT NOT NULL,
      started_ms INTEGER NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY (cell, run)
    )`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS cell_mounts (
      channel TEXT PRIMARY KEY,
      cell TEXT NOT NULL UNIQUE REFERENCES cells(id),
      mounted_ms INTEGER NOT NULL
    )`);
    this.insertCell = this.db.prepare(
      "INSERT OR IGNORE INTO cells (id, created_ms, updated_ms, document, cell, history) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.updateCell = this.db.prepare("UPDATE cells SET updated_ms = ?, document = ?, cell = ? WHERE id = ?");
    this.updateHistory = this.db.prepare("UPDATE cells SET history = ? WHERE id = ?");
    this.upsertRun = this.db.prepare(
      "INSERT INTO cell_runs (cell, run, started_ms, body) VALUES (?, ?, ?, ?) ON CONFLICT(cell, run) DO UPDATE SET body = excluded.body",
    );
    this.insertMount = this.db.prepare(
      "INSERT INTO cell_mounts (channel, cell, mounted_ms) VALUES (?, ?, ?)",
    );
    this.deleteMount = this.db.prepare("DELETE FROM cell_mounts WHERE channel = ?");
  }

  /** Adds a cell; returns false when its id is taken. */
  insert(cell: StoredCell): boolean {
    return this.db.transaction(() => {
      const result = this.insertCell.run(
        cell.id,
        cell.createdMs,
        cell.updatedMs,
        JSON.stringify(cell.document),
        JSON.stringify(cell.cell),
        JSON.stringify(historyRest(cell.history)),
      );
      if (result.changes !== 1) return false;
      for (const entry of cell.history.runs) this.saveRun(cell.id, entry);
      return true;
    })();
  }

  update(cell: StoredCell): void {
    this.updateCell.run(cell.updatedMs, JSON.stringify(cell.document), JSON.stringify(cell.cell), cell.id);
  }

  /** Saves what a run's event changed: the cell's capacity figures and that run's entry. */
  saveHistory(id: string, history: CellHistory, run: string): void {
    const entry = history.runs.find((r) => r.run === run);
    this.db.transaction(() => {
      this.updateHistory.run(JSON.stringify(historyRest(history)), id);
      if (entry) this.saveRun(id, entry);
    })();
  }

  private saveRun(id: string, entry: CellRunEntry): void {
    this.upsertRun.run(id, entry.run, entry.startedMs, JSON.stringify(entry));
  }

  all(): StoredCell[] {
    const rows = this.db
      .prepare(
        "SELECT id, created_ms, updated_ms, document, cell, history FROM cells ORDER BY created_ms, id",
      )
      .all() as {
      id: string;
      created_ms: number;
      updated_ms: number;
      document: string;
      cell: string;
      history: string;
    }[];
    const runs = new Map<string, CellRunEntry[]>();
    const runRows = this.db.prepare("SELECT cell, body FROM cell_runs ORDER BY started_ms, rowid").all() as {
      cell: string;
      body: string;
    }[];
    for (const row of runRows) {
      const list = runs.get(row.cell) ?? [];
      list.push(JSON.parse(row.body) as CellRunEntry);
      runs.set(row.cell, list);
    }
    return rows.map((r) => ({
      id: r.id,
      createdMs: r.created_ms,
      updatedMs: r.updated_ms,
      document: JSON.parse(r.document) as Record<string, unknown>,
      cell: JSON.parse(r.cell) as Cell,
      history: { ...(JSON.parse(r.history) as Omit<CellHistory, "runs">), runs: runs.get(r.id) ?? [] },
    }));
  }

  mounts(): CellMount[] {
    const rows = this.db
      .prepare("SELECT channel, cell, mounted_ms FROM cell_mounts ORDER BY channel")
      .all() as { channel: string; cell: string; mounted_ms: number }[];
    return rows.map((r) => ({ channel: r.channel, cell: r.cell, mountedMs: r.mounted_ms }));
  }

  mount(mount: CellMount): void {
    this.insertMount.run(mount.channel, mount.cell, mount.mountedMs);
  }

  unmount(channel: string): void {
    this.deleteMount.run(channel);
  }

  close(): void {
    this.db.close();
  }
}

/** The history without its runs (those are rows of cell_runs). */
function historyRest(history: CellHistory): Omit<CellHistory, "runs"> {
  const { runs: _runs, ...rest } = history;
  return rest;
}
