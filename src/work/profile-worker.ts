/** Entry of a profile worker process (started by ProfileWork through WorkerPool). */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { setNiceOfEveryThread } from "../thread-nice.js";
import { runTask } from "./profile-tasks.js";
import type { ProfileTasks } from "./task-types.js";
import type { TaskReply } from "./worker-pool.js";

const ipcSend = process.send?.bind(process);
if (!ipcSend) throw new Error("profile-worker.ts runs as a worker process (forked with an IPC channel)");
// A reply that cannot be sent (EPIPE: the daemon closed the pool meanwhile) has nobody to reach.
const send = (message: unknown) =>
  ipcSend(message, undefined, {}, (err) => {
    if (err) process.exit(0);
  });

// The pool's nice value for this worker (argv[2]): for every thread, or its collector threads would
// keep the daemon's raised priority and compete with the sampling loop.
const nice = Number(process.argv[2]);
if (Number.isInteger(nice)) {
  try {
    setNiceOfEveryThread(nice);
  } catch {
    // Lowering one's priority is always allowed; if it fails anyway, the worker still works.
  }
}

// The daemon went away (or closed the pool): nothing is left to work for.
process.on("disconnect", () => process.exit(0));

process.on("message", (message: { id: number; kind: keyof ProfileTasks; input: unknown }) => {
  void runTask(message.kind, message.input).then(
    (value) => send({ id: message.id, ok: true, value } satisfies TaskReply),
    (err: unknown) => send({ id: message.id, ok: false, error: describe(err) } satisfies TaskReply),
  );
});

send({ ready: true });

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
