/** What the daemon and its export thread (export-worker.ts) say to each other: plain, cloneable data. */
import type { BdfExportOptions } from "./bdf-export.js";
import type { ExportPlan } from "./export-source.js";
import type { InfluxTarget } from "./influx-target.js";

/** An export's options as they cross to the thread: no callbacks, no signal. */
export type ExportJob = Omit<BdfExportOptions, "onPlan" | "signal">;

export type ToExportThread =
  | { type: "start"; id: number; target: InfluxTarget; job: ExportJob }
  /** The daemon has sent on `bytes` of the export's output: the thread may produce that much more. */
  | { type: "ack"; id: number; bytes: number }
  | { type: "abort"; id: number };

export type FromExportThread =
  /** The thread has loaded its code (id 0). */
  | { type: "ready"; id: 0 }
  | { type: "plan"; id: number; plan: ExportPlan }
  /** CSV bytes, UTF-8; the buffer is transferred, not copied. */
  | { type: "chunk"; id: number; bytes: Uint8Array }
  | { type: "end"; id: number }
  | { type: "error"; id: number; code: string; message: string };

/** Bytes an export may have produced that the daemon has not yet sent on. */
export const EXPORT_WINDOW_BYTES = 128 * 1024;
