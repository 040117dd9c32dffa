/** Messages between the forwarder's ThreadLineWriter and its thread (line-writer-worker.ts). */
import type { WriteOutcome } from "./line-writer.js";

export type ToLineWriter =
  /** A body sent as a Buffer arrives as a Uint8Array: a view of the same memory when it is shared (the outbox's batches), else a copy. */
  { type: "write"; id: number; body: Uint8Array | string } | { type: "close" };

export type FromLineWriter = { type: "outcome"; id: number; outcome: WriteOutcome };
