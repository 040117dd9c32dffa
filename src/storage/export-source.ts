/**
 * Which data an export reads. Raw points live in the raw retention policy (kept forever unless
 * the configuration says otherwise); the continuous queries copy them, downsampled, into the
 * long-term policy. InfluxDB expires a policy's points by dropping whole shard groups, oldest
 * first, so a run whose raw points have expired has lost all of them or its beginning. Such a run
 * is read from the long-term policy wherever its raw points are gone, and every row of it says
 * which data it is: a lab must never take downsampled rows for raw ones.
 */
import { durationMs, type ResolvedSchema } from "./influx-schema.js";

/** The long-term policy and its bucket ("1m"): downsampled cell rows are bucket means and lasts. */
export interface DownsampledSource {
  retentionPolicy: string;
  every: string;
}

/**
 * What an export reads: all raw; all downsampled (no raw point left); or mixed, downsampled
 * buckets before `rawFromMs` (the start of the bucket of the first raw point left) and raw points
 * from there on.
 */
export type ExportPlan =
  | { source: "raw" }
  | { source: "downsampled"; every: string }
  | { source: "mixed"; every: string; rawFromMs: number };

/** One policy's share of an export: its rows, before `beforeMs` when given, labelled when mixed. */
export interface ExportSegment {
  /** Undefined: the database's default policy. */
  retentionPolicy: string | undefined;
  beforeMs?: number;
  /** The Data Source cell of each row; absent when the whole export is raw (plain BDF columns). */
  label?: string;
}

/** Extra last column of an export that holds downsampled rows. */
export const SOURCE_COLUMN = "Data Source";
export const RAW_LABEL = "raw";
export const downsampledLabel = (every: string) => `downsampled ${every}`;

/** The long-term policy of a schema as an export source. */
export function downsampledSource(schema: ResolvedSchema): DownsampledSource {
  return { retentionPolicy: schema.longTerm.name, every: schema.every };
}

/**
 * Chooses from the times of the run's first point in each policy (undefined: none there). Raw
 * data that starts in the first downsampled bucket is complete; a downsampled bucket before the
 * bucket of the first raw point means raw points have expired.
 */
export function planExport(
  rawFirstMs: number | undefined,
  downsampledFirstMs: number | undefined,
  downsampled: DownsampledSource,
): ExportPlan {
  if (downsampledFirstMs === undefined) return { source: "raw" };
  if (rawFirstMs === undefined) return { source: "downsampled", every: downsampled.every };
  const bucket = durationMs(downsampled.every);
  const rawFromMs = Math.floor(rawFirstMs / bucket) * bucket;
  return downsampledFirstMs < rawFromMs
    ? { source: "mixed", every: downsampled.every, rawFromMs }
    : { source: "raw" };
}

/** The segments an export reads, in time order. */
export function exportSegments(
  plan: ExportPlan,
  raw: string | undefined,
  downsampled: DownsampledSource,
): ExportSegment[] {
  switch (plan.source) {
    case "raw":
      return [{ retentionPolicy: raw }];
    case "downsampled":
      return [{ retentionPolicy: downsampled.retentionPolicy, label: downsampledLabel(plan.every) }];
    case "mixed":
      return [
        {
          retentionPolicy: downsampled.retentionPolicy,
          beforeMs: plan.rawFromMs,
          label: downsampledLabel(plan.every),
        },
        { retentionPolicy: raw, label: RAW_LABEL },
      ];
  }
}

/** One line for a person: what the export holds (the CLI prints it, the HTTP API sends it as a header). */
export function describePlan(plan: ExportPlan): string {
  switch (plan.source) {
    case "raw":
      return "raw samples";
    case "downsampled":
      return `downsampled ${plan.every} buckets only: the run's raw samples have expired`;
    case "mixed":
      return `downsampled ${plan.every} buckets before ${new Date(plan.rawFromMs).toISOString()} (raw samples expired), raw samples from then on`;
  }
}
