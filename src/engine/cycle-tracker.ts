import type { CycleRecord } from "../run/records.js";
import { minus, type Throughput } from "./accumulators.js";

/** The cycle counters a checkpoint keeps. */
export interface CycleState {
  cycleIndex: number;
  /** Totals when the open cycle began; null outside cycle loops. */
  openedAt: Throughput | null;
  minTemperatureC: number | null;
  maxTemperatureC: number | null;
  /** Discharge capacity of this run's cycle 1, Ah (null until it has ended). */
  firstDischargeAh: number | null;
  /** Discharge capacity of the last cycle that ended, Ah. */
  lastDischargeAh: number | null;
  /** Discharge capacities of the cycles a loop's `until` compares against, by cycle index. */
  kept?: Record<number, number>;
}

/**
 * Cycle accounting: a cycle opens when a step inside a cycle loop starts and closes at the end of
 * that loop iteration (or when a `goto` leaves the loop). Charge moved outside cycle loops — a
 * formation's first charge, an HPPC's initial charge — is in no cycle, so it cannot inflate one's
 * coulombic efficiency.
 */
export class CycleTracker {
  private index = 1;
  private openedAt: Throughput | null = null;
  private minT = Number.POSITIVE_INFINITY;
  private maxT = Number.NEGATIVE_INFINITY;
  private firstDischargeAh: number | null = null;
  private lastDischargeAh: number | null = null;
  private kept: Record<number, number> = {};
  /** state() as of the last change: frozen, handed to every checkpoint until the counters change. */
  private frozen: Readonly<CycleState> | undefined;

  /**
   * @param referenceAh the discharge capacity of the cell's first cycle ever (from its history), the
   *   base of capacity retention; without one, this run's cycle 1 is the base.
   */
  constructor(
    private readonly referenceAh?: number,
    private readonly keep: ReadonlySet<number> = new Set(),
  ) {}

  get cycleIndex(): number {
    return this.index;
  }

  get isOpen(): boolean {
    return this.openedAt !== null;
  }

  /** Opens a cycle at `total` unless one is open. */
  open(total: Throughput): void {
    if (this.openedAt) return;
    this.frozen = undefined;
    this.openedAt = { ...total };
    this.minT = Number.POSITIVE_INFINITY;
    this.maxT = Number.NEGATIVE_INFINITY;
  }

  temperature(celsius: number): void {
    if (!this.openedAt || Number.isNaN(celsius)) return;
    if (celsius < this.minT) {
      this.minT = celsius;
      this.frozen = undefined;
    }
    if (celsius > this.maxT) {
      this.maxT = celsius;
      this.frozen = undefined;
    }
  }

  /** Closes the open cycle and returns its summary; undefined when no cycle was open. */
  close(
    total: Throughput,
    who: { channel: string; run: string; cell: string; tWallMs: number },
  ): CycleRecord | undefined {
    if (!this.openedAt) return undefined;
    this.frozen = undefined;
    const c = minus(total, this.openedAt);
    this.openedAt = null;
    this.firstDischargeAh ??= c.dischargeAh;
    this.lastDischargeAh = c.dischargeAh;
    if (this.keep.has(this.index)) this.kept[this.index] = c.dischargeAh;
    const base = this.referenceAh ?? this.firstDischargeAh;
    const record: CycleRecord = {
      ...who,
      cycleIndex: this.index,
      ...c,
      coulombicEfficiency: c.chargeAh > 0 ? c.dischargeAh / c.chargeAh : Number.NaN,
      energyEfficiency: c.chargeWh > 0 ? c.dischargeWh / c.chargeWh : Number.NaN,
      capacityRetention: base > 0 ? c.dischargeAh / base : Number.NaN,
      minTemperatureC: Number.isFinite(this.minT) ? this.minT : Number.NaN,
      maxTemperatureC: Number.isFinite(this.maxT) ? this.maxT : Number.NaN,
    };
    this.index++;
    return record;
  }

  /** The last ended cycle's discharge capacity as a fraction of cycle `n`'s (NaN while either is unknown). */
  retentionOf(n: number): number {
    const base = this.kept[n];
    if (base === undefined || this.lastDischargeAh === null || base <= 0) return Number.NaN;
    return this.lastDischargeAh / base;
  }

  /**
   * The counters for a checkpoint: a frozen snapshot, the same object until they change (a run is
   * checkpointed with every logged sample and its cycle counters rarely change).
   */
  state(): Readonly<CycleState> {
    this.frozen ??= Object.freeze({
      cycleIndex: this.index,
      openedAt: this.openedAt ? Object.freeze({ ...this.openedAt }) : null,
      minTemperatureC: Number.isFinite(this.minT) ? this.minT : null,
      maxTemperatureC: Number.isFinite(this.maxT) ? this.maxT : null,
      firstDischargeAh: this.firstDischargeAh,
      lastDischargeAh: this.lastDischargeAh,
      kept: Object.freeze({ ...this.kept }),
    });
    return this.frozen;
  }

  restore(s: CycleState): void {
    this.frozen = undefined;
    this.index = s.cycleIndex;
    this.openedAt = s.openedAt ? { ...s.openedAt } : null;
    this.minT = s.minTemperatureC ?? Number.POSITIVE_INFINITY;
    this.maxT = s.maxTemperatureC ?? Number.NEGATIVE_INFINITY;
    this.firstDischargeAh = s.firstDischargeAh;
    this.lastDischargeAh = s.lastDischargeAh;
    this.kept = { ...(s.kept ?? {}) };
  }
}
