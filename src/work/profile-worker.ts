/** Entry of the profile worker thread (started by ProfileWork through WorkerPool). */
import { parentPort } from "node:worker_threads";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { runTask } from "./profile-tasks.js";
import type { ProfileTasks } from "./task-types.js";
import type { TaskReply } from "./worker-pool.js";

const port = parentPort;
if (!port) throw new Error("profile-worker.ts runs as a worker thread");

port.on("message", (message: { id: number; kind: keyof ProfileTasks; input: unknown }) => {
  void runTask(message.kind, message.input).then(
    (value) => port.postMessage({ id: message.id, ok: true, value } satisfies TaskReply),
    (err: unknown) =>
      port.postMessage({ id: message.id, ok: false, error: describe(err) } satisfies TaskReply),
  );
});

function describe(err: unknown): Extract<TaskReply, { ok: false }>["error"] {
  if (err instanceof CellbenchError) {
    const issues = (err as CellbenchError & { issues?: unknown }).issues;
    return {
      code: err.code,
      message: err.message,
      ...(Array.isArray(issues)
        ? {
            issues: issues.map((i: { path?: unknown; message?: unknown }) => ({
              path: String(i.path ?? ""),
              message: String(i.message ?? ""),
            })),
          }
        : {}),
    };
  }
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}
