import { Worker } from "node:worker_threads";

/**
 * Starts `entry` (a .ts module under tsx or vitest, a .js module once built) as a worker thread.
 * `entry` is resolved next to the caller: pass `new URL("./x-worker.ts"|".js", import.meta.url)`.
 */
export function startWorker(entry: URL, workerData?: unknown): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { workerData });
  // Node's --import does not reach worker threads: register tsx's loader in the thread, then load.
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((err) => { console.error(err); process.exit(70); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** The worker module `name` ("export-worker") beside `base` (the caller's import.meta.url), .ts or .js. */
export function siblingWorker(name: string, base: string): URL {
  return new URL(`./${name}.${base.endsWith(".ts") ? "ts" : "js"}`, base);
}
