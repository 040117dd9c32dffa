/**
 * Runs the outbox's SQLite WAL checkpoints on a worker thread. A checkpoint copies the WAL back
 * into the database file; run inside a commit (SQLite's auto-checkpoint) it blocked the event loop
 * for tens of milliseconds under load. The main connection disables auto-checkpointing while this
 * worker is alive and turns it back on if the worker dies.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
}, workerData.everyMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private stopping = false;

  /** Starts checkpointing `path` every `everyMs`; `onFailure` runs if the worker fails or exits unasked. */
  constructor(path: string, everyMs: number, onFailure: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, everyMs } });
    this.worker.unref();
    this.worker.on("message", (message: { error?: string }) => {
      if (message.error) onFailure(`WAL checkpoint failed: ${message.error}`);
    });
    this.worker.on("error", (err) => onFailure(`WAL checkpoint worker failed: ${err.message}`));
    this.worker.on("exit", (code) => {
      if (!this.stopping) onFailure(`WAL checkpoint worker exited (code ${code})`);
    });
  }

  /** Asks the worker to close its connection and waits for it to exit (terminates it after 5 s). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.postMessage("stop");
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
