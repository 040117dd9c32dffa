/**
 * The simulated lab: every sim chamber and every sim cell of one bench, integrated in lockstep on
 * the injected clock. Nothing runs in the background; whoever reads or applies first advances the
 * whole world to `clock.now()` in fixed sub-steps, chambers first, then the cells in their air.
 *
 * One world per DriverContext. The daemon hands each device its own context object, so contexts
 * that share a clock share a world (a bench's devices always share its clock).
 *
 * Coupling a cell to its chamber: `context.chamberOfChannel(channel)` names the bench chamber; the
 * world finds the sim chamber registered under that id (the chamber's device id), or, when the
 * names differ and the world holds exactly one sim chamber, that one. A channel in no chamber sits
 * in 25 °C still air.
 */
import type { DriverContext } from "../capabilities.js";
import type { Clock } from "../clock.js";
import type { CellModel } from "./cell-model.js";
import type { ChamberModel } from "./chamber-model.js";

/** Air temperature around a cell that is in no chamber, °C. */
export const OPEN_BENCH_AIR_C = 25;
/** Longest sub-step, s; shorter when a cell's fastest time constant asks for it. */
export const MAX_SUB_STEP_S = 1;
/**
 * A read may see the world as it was this long ago (clock ms). On the real clock a bench's reads
 * come microseconds apart, and integrating all 64 cells for each one was most of a simulated
 * bench's sampling cost; commands (apply, set point, safe state) always integrate to the present.
 */
export const READ_STALENESS_MS = 1;

/** A channel's place in the world: the cell on it and the chamber it sits in. */
export interface CellSlot {
  readonly channelId: string;
  cell: CellModel;
  /** Bench chamber id from the context, if the channel is in a chamber. */
  readonly chamberId: string | undefined;
  /** True until the cell has taken the temperature of its air. */
  needsAirTemperature: boolean;
}

interface BoundSlot {
  slot: CellSlot;
  chamber: ChamberModel | undefined;
}

export class SimWorld {
  private tMs: number;
  private readonly chambers = new Map<string, ChamberModel>();
  private readonly slots = new Set<CellSlot>();
  private bound: BoundSlot[] = [];
  private chamberList: ChamberModel[] = [];
  private dirty = true;
  private settlePending = false;
  private subStepS = MAX_SUB_STEP_S;

  constructor(readonly clock: Clock) {
    this.tMs = clock.now();
  }

  /** Simulated time the world has reached, ms on the clock. */
  get timeMs(): number {
    return this.tMs;
  }

  /** Sub-step the world integrates with, s. */
  get stepS(): number {
    if (this.dirty) this.bind();
    return this.subStepS;
  }

  addChamber(id: string, model: ChamberModel): void {
    this.sync();
    this.chambers.set(id, model);
    this.dirty = true;
  }

  removeChamber(id: string, model: ChamberModel): void {
    this.sync();
    if (this.chambers.get(id) === model) this.chambers.delete(id);
    this.dirty = true;
  }

  addCell(slot: CellSlot): void {
    this.sync();
    this.slots.add(slot);
    if (slot.needsAirTemperature) this.settlePending = true;
    this.dirty = true;
  }

  removeCell(slot: CellSlot): void {
    this.sync();
    this.slots.delete(slot);
    this.dirty = true;
  }

  /** Tells the world a slot's cell was replaced (its time constants may differ). */
  cellsChanged(): void {
    this.dirty = true;
  }

  /** Returns the air temperature around a slot's cell now, °C. */
  airTemperatureOf(slot: CellSlot): number {
    return this.chamberOf(slot)?.airC ?? OPEN_BENCH_AIR_C;
  }

  /** Advances everything to the clock's present (what every read, apply and set point does first). */
  advance(): void {
    this.advanceTo(this.clock.now());
  }

  /** Advances for a read: not when the world is less than READ_STALENESS_MS behind the present. */
  advanceForRead(): void {
    const now = this.clock.now();
    if (this.dirty || this.settlePending || now - this.tMs >= READ_STALENESS_MS) this.advanceTo(now);
  }

  /**
   * Integrates every chamber and cell from the world's time to `nowMs` (never backwards). Cells
   * placed since the last call first take the temperature of their air.
   */
  advanceTo(nowMs: number): void {
    if (this.dirty) this.bind();
    if (this.settlePending) this.settleNewCells();
    this.integrateTo(nowMs);
  }

  /**
   * Integrates up to the present without settling new cells (for changes made while a bench is
   * being built, when chambers may still be missing): before the set of bodies or a knob changes.
   */
  sync(): void {
    if (this.dirty) this.bind();
    this.integrateTo(this.clock.now());
  }

  private settleNewCells(): void {
    for (const b of this.bound) {
      if (!b.slot.needsAirTemperature) continue;
      b.slot.cell.temperatureC = b.chamber ? b.chamber.airC : OPEN_BENCH_AIR_C;
      b.slot.needsAirTemperature = false;
    }
    this.settlePending = false;
  }

  private integrateTo(nowMs: number): void {
    if (!(nowMs > this.tMs)) return;
    const totalS = (nowMs - this.tMs) / 1000;
    const n = Math.max(1, Math.ceil(totalS / this.subStepS - 1e-9));
    const h = totalS / n;
    const chambers = this.chamberList;
    const cells = this.bound;
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < chambers.length; c++) (chambers[c] as ChamberModel).step(h);
      for (let s = 0; s < cells.length; s++) {
        const b = cells[s] as BoundSlot;
        b.slot.cell.step(h, b.chamber ? b.chamber.airC : OPEN_BENCH_AIR_C);
      }
    }
    this.tMs = nowMs;
  }

  private chamberOf(slot: CellSlot): ChamberModel | undefined {
    if (slot.chamberId === undefined) return undefined;
    const named = this.chambers.get(slot.chamberId);
    if (named) return named;
    if (this.chambers.size === 1) return this.chambers.values().next().value;
    return undefined;
  }

  private bind(): void {
    this.chamberList = [...new Set(this.chambers.values())];
    this.bound = [...this.slots].map((slot) => ({ slot, chamber: this.chamberOf(slot) }));
    let fastest = Number.POSITIVE_INFINITY;
    for (const b of this.bound) fastest = Math.min(fastest, b.slot.cell.fastestTauS);
    this.subStepS = Math.min(MAX_SUB_STEP_S, fastest / 2);
    this.dirty = false;
  }
}

const worldsByContext = new WeakMap<DriverContext, SimWorld>();
const worldsByClock = new WeakMap<Clock, SimWorld>();

/** Returns the world of a driver context, creating it on first use (shared by contexts with one clock). */
export function worldOf(context: DriverContext): SimWorld {
  let world = worldsByContext.get(context);
  if (world) return world;
  world = worldsByClock.get(context.clock);
  if (!world) {
    world = new SimWorld(context.clock);
    worldsByClock.set(context.clock, world);
  }
  worldsByContext.set(context, world);
  return world;
}
