import Database from "better-sqlite3";

/**
 * Opens the daemon's store file for one of its tables' owners (runs, cells, queues, batches): each
 * has its own connection, WAL lets them sit beside each other and the outbox, and a writer waits up
 * to 5 s for another's lock rather than fail.
 */
export function openStoreFile(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  return db;
}
