/**
 * The outbox's writer thread: runs every write transaction (commits with their fsync, acknowledges,
 * requeues), the forwarder's batch reads and the periodic WAL checkpoint on a connection of its
 * own, so none of them blocks the sampling loop. Requests are handled one at a time, in the order
 * they were sent: a read sees every commit sent before it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openOutboxDatabase } from "./outbox-database.js";
import type { FromWriter, OutboxWorkerData, ToWriter } from "./outbox-messages.js";
import { OutboxTransactions } from "./outbox-transactions.js";

const port = parentPort;
if (!port) throw new Error("outbox-worker.ts runs as a worker thread (see outbox-writer.ts)");
const data = workerData as OutboxWorkerData;
const send = (message: FromWriter) => port.postMessage(message);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

let db: ReturnType<typeof openOutboxDatabase> | undefined;
try {
  db = openOutboxDatabase(data.path, { synchronous: data.synchronous, create: false });
  db.pragma("wal_autocheckpoint = 0");
} catch (err) {
  send({ type: "open-failed", message: messageOf(err) });
  port.close();
}

if (db) {
  const connection = db;
  const transactions = new OutboxTransactions(connection);
  const checkpoints = setInterval(() => {
    try {
      connection.pragma("wal_checkpoint(PASSIVE)");
    } catch (err) {
      send({ type: "checkpoint-failed", message: messageOf(err) });
    }
  }, data.checkpointEveryMs);

  port.on("message", (message: ToWriter) => {
    if (message.type === "close") {
      clearInterval(checkpoints);
      connection.close();
      send({ type: "done", id: message.id, result: undefined });
      port.close();
      return;
    }
    try {
      send({ type: "done", id: message.id, result: transactions.run(message) });
    } catch (err) {
      send({ type: "failed", id: message.id, message: messageOf(err) });
    }
  });
  send({ type: "ready" });
}
