/**
 * The export thread: runs every BDF export of the daemon (query, JSON parsing, CSV formatting) on a
 * thread and heap of its own, and hands the daemon finished UTF-8 chunks. The daemon's loop then
 * only passes buffers to sockets: the exports' garbage is collected here, not in pauses of the
 * sampling loop.
 */
import { parentPort } from "node:worker_threads";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { bdfCsvChunks } from "./bdf-export.js";
import { EXPORT_WINDOW_BYTES, type FromExportThread, type ToExportThread } from "./export-messages.js";
import { createInfluxQuery } from "./influx-client.js";

const port = parentPort;
if (!port) throw new Error("export-worker.ts runs as a worker thread");

// This thread keeps the daemon's priority, unlike the profile worker processes (nice 10): it shares
// the process, and the sampling thread waited on it while it sat descheduled at nice 10 beside busy
// processes (15 parallel exports beside two CPU burners: 21–54 missed 20 ms ticks at nice 10, 0–1 at
// the daemon's). Its CPU is bounded by the export slots and the 128 KiB window instead.

interface Running {
  abort: AbortController;
  /** Bytes posted and not yet acknowledged. */
  unacked: number;
  /** Resolves the wait for acknowledgements, when waiting. */
  wake: (() => void) | undefined;
}

const running = new Map<number, Running>();
const encoder = new TextEncoder();
const post = (message: FromExportThread, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

async function runExport(message: Extract<ToExportThread, { type: "start" }>): Promise<void> {
  const { id } = message;
  const state: Running = { abort: new AbortController(), unacked: 0, wake: undefined };
  running.set(id, state);
  try {
    const chunks = bdfCsvChunks(createInfluxQuery(message.target), {
      ...message.job,
      signal: state.abort.signal,
      onPlan: (plan) => post({ type: "plan", id, plan }),
    });
    for await (const chunk of chunks) {
      const bytes = encoder.encode(chunk);
      state.unacked += bytes.byteLength;
      post({ type: "chunk", id, bytes }, [bytes.buffer as ArrayBuffer]);
      while (state.unacked > EXPORT_WINDOW_BYTES && !state.abort.signal.aborted)
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
      if (state.abort.signal.aborted) break;
    }
    post({ type: "end", id });
  } catch (err) {
    const code = err instanceof CellbenchError ? err.code : "EXPORT_QUERY_FAILED";
    post({ type: "error", id, code, message: (err as Error).message });
  } finally {
    running.delete(id);
  }
}

port.on("message", (message: ToExportThread) => {
  if (message.type === "start") {
    void runExport(message);
    return;
  }
  const state = running.get(message.id);
  if (!state) return;
  if (message.type === "ack") state.unacked -= message.bytes;
  else state.abort.abort();
  const wake = state.wake;
  state.wake = undefined;
  wake?.();
});

post({ type: "ready", id: 0 });
