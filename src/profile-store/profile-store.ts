import { createHash } from "node:crypto";
import Database from "better-sqlite3";

/** A profile document as stored: its source exactly as given (YAML or JSON text) and what it parsed to. */
export interface StoredProfile {
  /** `P` + the first 12 hex digits of the source's SHA-256: storing the same source twice gives the same id. */
  id: string;
  name: string;
  description: string | null;
  /** Top-level steps. */
  steps: number;
  format: "yaml" | "json";
  source: string;
  sha256: string;
  createdMs: number;
}

export type ProfileSummary = Omit<StoredProfile, "source" | "format">;

/** Returns the id a profile source is stored under. */
export function profileIdOf(source: string): string {
  return `P${sha256(source).slice(0, 12)}`;
}

/**
 * Stored profiles, validated before they get here, in the daemon's SQLite file (own table, own
 * connection). Content-addressed: the id comes from the source text, so a retried store is harmless.
 */
export class ProfileStore {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly options: { maxProfiles?: number } = {},
  ) {
    this.db = new Database(path);
    if (path !== ":memory:") this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`CREATE TABLE IF NOT EXISTS profiles (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT,
      steps INTEGER NOT NULL,
      format TEXT NOT NULL,
      source TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    )`);
  }

  /** Most profiles the store accepts. */
  get capacity(): number {
    return this.options.maxProfiles ?? 10_000;
  }

  get count(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM profiles").get() as { n: number }).n;
  }

  /**
   * Stores a profile source (already validated) unless the same source is stored; returns the
   * stored entry and whether it was new. Returns undefined when the store is full.
   */
  save(
    entry: {
      name: string;
      description?: string | undefined;
      steps: number;
      format: "yaml" | "json";
      source: string;
    },
    createdMs: number,
  ): { profile: StoredProfile; created: boolean } | undefined {
    const id = profileIdOf(entry.source);
    const existing = this.get(id);
    if (existing && existing.source === entry.source) return { profile: existing, created: false };
    if (this.count >= this.capacity) return undefined;
    const profile: StoredProfile = {
      id,
      name: entry.name,
      description: entry.description ?? null,
      steps: entry.steps,
      format: entry.format,
      source: entry.source,
      sha256: sha256(entry.source),
      createdMs,
    };
    this.db
      .prepare(
        "INSERT INTO profiles (id, name, description, steps, format, source, sha256, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        id,
        profile.name,
        profile.description,
        profile.steps,
        profile.format,
        profile.source,
        profile.sha256,
        createdMs,
      );
    return { profile, created: true };
  }

  get(id: string): StoredProfile | undefined {
    const row = this.db.prepare("SELECT * FROM profiles WHERE id = ?").get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Lists stored profiles, newest first, without their sources. */
  list(limit = 1000): ProfileSummary[] {
    const rows = this.db
      .prepare(
        "SELECT id, name, description, steps, sha256, created_ms FROM profiles ORDER BY created_ms DESC, id LIMIT ?",
      )
      .all(limit) as Omit<Row, "source" | "format">[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      steps: r.steps,
      sha256: r.sha256,
      createdMs: r.created_ms,
    }));
  }

  close(): void {
    this.db.close();
  }
}

interface Row {
  id: string;
  name: string;
  description: string | null;
  steps: number;
  format: string;
  source: string;
  sha256: string;
  created_ms: number;
}

function fromRow(r: Row): StoredProfile {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    steps: r.steps,
    format: r.format === "json" ? "json" : "yaml",
    source: r.source,
    sha256: r.sha256,
    createdMs: r.created_ms,
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
