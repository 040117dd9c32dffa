/**
 * The thread of ThreadLineWriter (line-writer-thread.ts): POSTs each body it is sent with an
 * HttpLineWriter and answers with the outcome. Writes run concurrently, as the forwarder asks.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { InfluxTarget } from "./influx-target.js";
import { HttpLineWriter } from "./line-writer.js";
import type { FromLineWriter, ToLineWriter } from "./line-writer-messages.js";
import { writeFailure } from "./line-writer-thread.js";

const port = parentPort;
if (!port) throw new Error("line-writer-worker.ts runs as a worker thread (see line-writer-thread.ts)");
const writer = new HttpLineWriter(workerData as InfluxTarget);

port.on("message", (message: ToLineWriter) => {
  if (message.type === "close") {
    writer.close();
    port.close();
    return;
  }
  const { id, body } = message;
  const payload =
    typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  void writer
    .write(payload)
    .catch(writeFailure)
    .then((outcome) => port.postMessage({ type: "outcome", id, outcome } satisfies FromLineWriter));
});
