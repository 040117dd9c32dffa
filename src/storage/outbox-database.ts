/**
 * The outbox's SQLite file: how every connection to it is opened, and its schema. The sampling
 * thread's connection creates and migrates the file; the writer thread's connection (outbox-worker.ts)
 * opens the same file with the same settings.
 */
import Database from "better-sqlite3";

const SCHEMA_VERSION = 1;

export type OutboxSynchronous = "normal" | "full";

/** Opens a connection with the outbox's settings; `create` also sets the page size and migrates. */
export function openOutboxDatabase(
  path: string,
  options: { synchronous: OutboxSynchronous; create: boolean },
): Database.Database {
  const db = new Database(path);
  try {
    // Large pages: rows are tens to hundreds of kB of text; 64 kB pages halve the commit time.
    // Takes effect only when the file is created.
    if (options.create) db.pragma("page_size = 65536");
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_size_limit = 67108864");
    if (options.create) migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(`outbox schema version ${version} is newer than this cellbench (${SCHEMA_VERSION})`);
  if (version === SCHEMA_VERSION) return;
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      points INTEGER NOT NULL,
      body BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS checkpoint (
      run TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS dead_letter (
      id INTEGER PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      status INTEGER NOT NULL,
      message TEXT NOT NULL,
      line TEXT NOT NULL
    );
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}
