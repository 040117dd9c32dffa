import type { Action, ProfileNode } from "../profile/ast.js";
import { DCIR_TIMES_S, type StepRecord, type StepType } from "../run/records.js";
import { minus, type Throughput } from "./accumulators.js";
import type { ProgramItem } from "./program-cursor.js";

/** A DCIR reading taken later than this multiple of its time is not taken (too coarse a sample). */
const DCIR_LATEST_FACTOR = 1.5;
/** Below this change of current (A) a step is no pulse: ΔV/ΔI would be noise. */
const DCIR_MIN_DELTA_A = 0.01;
const DCIR_KEYS = ["s0p1", "s1", "s10"] as const;

/** A reading the recorder needs: voltage, current, temperature. */
export interface StepReading {
  voltageV: number;
  currentA: number;
  temperatureC: number;
}

/** The part of a step's record that must survive a restart (checkpointed with the run). */
export interface StepStats {
  startVoltageV: number;
  endVoltageV: number;
  maxTemperatureC: number;
  dcirOhm: StepRecord["dcirOhm"];
  /** The reading before the step, for ΔV/ΔI; absent when the step is no pulse. */
  before?: { voltageV: number; currentA: number };
}

export function stepTypeOf(item: ProgramItem): StepType {
  if (item.kind === "chamber") return "chamber";
  return actionType(item.node.action);
}

function actionType(action: Action): StepType {
  switch (action.kind) {
    case "rest":
      return "rest";
    case "hold":
      return "cv";
    case "drive-cycle":
      return "drive_cycle";
    case "cccv":
      return action.direction === "charge" ? "cccv_charge" : "cccv_discharge";
    case "constant": {
      const family = action.value.kind === "power" ? "cp" : action.value.kind === "resistance" ? "cr" : "cc";
      return `${family}_${action.direction}`;
    }
    default:
      return "ramp";
  }
}

/**
 * Numbers a profile's nodes depth first from 1 (a sweep's chamber phase shares its sweep's number),
 * keyed by path: what a cycler schedule calls the step number.
 */
export function stepIds(nodes: ProfileNode[], ids = new Map<string, number>()): Map<string, number> {
  for (const node of nodes) {
    ids.set(node.path, ids.size + 1);
    if (node.type === "repeat" || node.type === "sweep") stepIds(node.steps, ids);
  }
  return ids;
}

/** The step number of `path`: its own, or that of the longest path it extends (a loop's instance of a node). */
function stepIdOf(ids: ReadonlyMap<string, number>, path: string): number {
  for (let end = path.length; end > 0; end--) {
    const id = ids.get(path.slice(0, end));
    if (id !== undefined) return id;
  }
  return 0;
}

function isPulseCandidate(item: ProgramItem): boolean {
  return (
    item.kind === "step" && item.node.action.kind === "constant" && item.node.action.value.kind !== "power"
  );
}

/**
 * Follows the active step for its record: start and end voltage, hottest reading, and the DC
 * internal resistance of a constant-current step at 0.1, 1 and 10 s (ΔV/ΔI against the last
 * reading before the step, the textbook HPPC definition).
 */
export class StepRecorder {
  private stats: StepStats | undefined;
  private item: ProgramItem | undefined;

  constructor(private readonly ids: ReadonlyMap<string, number>) {}

  /** A step begins; `before` is the channel's last reading (undefined before the first). */
  begin(item: ProgramItem, before: StepReading | undefined, restored?: StepStats): void {
    this.item = item;
    if (restored) {
      this.stats = { ...restored, dcirOhm: { ...restored.dcirOhm } };
      return;
    }
    const v = before?.voltageV ?? Number.NaN;
    this.stats = {
      startVoltageV: v,
      endVoltageV: v,
      maxTemperatureC: Number.NEGATIVE_INFINITY,
      dcirOhm: {},
      ...(before && isPulseCandidate(item)
        ? { before: { voltageV: before.voltageV, currentA: before.currentA } }
        : {}),
    };
  }

  /** A reading taken while the step drives the channel, `elapsedS` into it. */
  sample(r: StepReading, elapsedS: number): void {
    const s = this.stats;
    if (!s) return;
    s.endVoltageV = r.voltageV;
    // A run's first step has no reading before it: it starts at its own first one.
    if (Number.isNaN(s.startVoltageV)) s.startVoltageV = r.voltageV;
    if (r.temperatureC > s.maxTemperatureC) s.maxTemperatureC = r.temperatureC;
    const before = s.before;
    if (!before) return;
    const dI = r.currentA - before.currentA;
    // Indexed: entries() and destructuring would allocate per sample.
    for (let i = 0; i < DCIR_TIMES_S.length; i++) {
      const t = DCIR_TIMES_S[i] as number;
      const key = DCIR_KEYS[i] as (typeof DCIR_KEYS)[number];
      if (s.dcirOhm[key] !== undefined || elapsedS < t - 1e-6) continue;
      if (elapsedS > t * DCIR_LATEST_FACTOR || Math.abs(dI) < DCIR_MIN_DELTA_A) continue;
      s.dcirOhm[key] = (r.voltageV - before.voltageV) / dI;
    }
    // Past the last DCIR time nothing more is taken.
    if (elapsedS > (DCIR_TIMES_S[DCIR_TIMES_S.length - 1] as number) * DCIR_LATEST_FACTOR) delete s.before;
  }

  snapshot(): StepStats | undefined {
    return this.stats ? { ...this.stats, dcirOhm: { ...this.stats.dcirOhm } } : undefined;
  }

  /** The step ended: its record, or undefined when no step was being followed. */
  end(fields: {
    channel: string;
    run: string;
    cell: string;
    tWallMs: number;
    stepIndex: number;
    cycleIndex: number;
    endReason: string;
    durationS: number;
    stepStart: Throughput;
    total: Throughput;
  }): StepRecord | undefined {
    const s = this.stats;
    const item = this.item;
    this.stats = undefined;
    this.item = undefined;
    if (!s || !item) return undefined;
    const moved = minus(fields.total, fields.stepStart);
    return {
      channel: fields.channel,
      run: fields.run,
      cell: fields.cell,
      tWallMs: fields.tWallMs,
      stepIndex: fields.stepIndex,
      cycleIndex: fields.cycleIndex,
      stepId: stepIdOf(this.ids, item.path),
      path: item.path,
      type: stepTypeOf(item),
      endReason: fields.endReason,
      durationS: fields.durationS,
      ...moved,
      startVoltageV: s.startVoltageV,
      endVoltageV: s.endVoltageV,
      maxTemperatureC: Number.isFinite(s.maxTemperatureC) ? s.maxTemperatureC : Number.NaN,
      dcirOhm: s.dcirOhm,
    };
  }
}
