/**
 * Cells as things on the bench: registered once (limits and metadata), mounted on a channel, run
 * there without restating them, and followed by a history (runs, cycles, Ah, capacity) across runs
 * and channels.
 *
 * Mounting agrees with "chambers know who is inside" (the safety supervisor's record of the cell in
 * a channel's chamber, from its run's start until an operator takes it out):
 * - unmounting IS taking the cell out (RunManager.removeCell): refused while a run drives the
 *   channel, and the supervisor stops bounding the chamber by that cell;
 * - mounting never takes a cell out. A channel whose mounted cell, or whose last run's cell, is
 *   still recorded inside refuses another cell until an operator records the removal. Doing the
 *   removal implicitly would let a mistyped channel in a mount request silently drop the chamber
 *   limits of a cell that is still physically inside.
 * A mounted cell becomes "inside" for the supervisor when its first run there starts, as inline
 * cells always have.
 */
import type { Bench } from "../bench/bench.js";
import type { Logger } from "../log.js";
import type { RunEvent, RunManager } from "../run/run-manager.js";
import type { Cell } from "./cell.js";
import {
  CellExistsError,
  CellLimitsLockedError,
  CellMountedElsewhereError,
  CellNotMountedError,
  CellSpecMismatchError,
  ChannelHasCellError,
  NoCellMountedError,
  UnknownCellError,
} from "./cell-errors.js";
import {
  type CellHistorySummary,
  emptyHistory,
  isEnded,
  noteCycle,
  noteRunState,
  type RunTotals,
  summarize,
} from "./cell-history.js";
import { METADATA_KEYS } from "./cell-metadata.js";
import type { CellMount, CellStore, StoredCell } from "./cell-store.js";

/** A registered cell with where it is and what its history adds up to. */
export interface CellInfo {
  stored: StoredCell;
  mount: CellMount | undefined;
  /** The channel whose chamber the supervisor holds it in (from a run's start until taken out). */
  inside: { channel: string; run: string } | undefined;
  summary: CellHistorySummary;
}

/** Keys of a cell document that may change whatever the cell's history: they bound nothing. */
const FREE_KEYS: ReadonlySet<string> = new Set([...METADATA_KEYS, "description"]);

/** The limits a run is held to, by their key in a cell document, and where a parsed Cell keeps them. */
const LIMIT_FIELDS: readonly [string, (c: Cell) => unknown][] = [
  ["chemistry", (c) => c.chemistry],
  ["capacity_ah", (c) => c.capacityAh],
  ["voltage", (c) => c.voltageV],
  ["current", (c) => c.currentA],
  ["temperature", (c) => c.temperatureC],
  ["charge_temperature", (c) => c.chargeTemperatureC],
  ["discharge_temperature", (c) => c.dischargeTemperatureC],
  ["derating", (c) => c.derating ?? null],
  ["override", (c) => c.override ?? null],
];

export class CellRegistry {
  private readonly cells = new Map<string, StoredCell>();
  /** Mounts by channel. */
  private readonly mounts = new Map<string, CellMount>();
  private readonly unsubscribe: () => void;
  private eventErrors = 0;

  constructor(
    private readonly store: CellStore,
    private readonly runs: Pick<RunManager, "subscribe" | "get" | "list" | "removeCell">,
    private readonly bench: Pick<Bench, "channel" | "channels" | "supervisor" | "clock">,
    private readonly logger?: Logger,
  ) {
    for (const cell of store.all()) this.cells.set(cell.id, cell);
    for (const mount of store.mounts()) this.mounts.set(mount.channel, mount);
    this.unsubscribe = runs.subscribe((event) => this.onRunEvent(event));
  }

  /** Registers a cell; `document` is what it was parsed from (kept for PATCH). */
  register(document: Record<string, unknown>, cell: Cell): CellInfo {
    const now = this.bench.clock.wallNow();
    const history = emptyHistory();
    history.otherRuns = this.runs
      .list()
      .filter((r) => r.cell === cell.id && !isEnded(r.state))
      .map((r) => r.id);
    const stored: StoredCell = {
      id: cell.id,
      document: { ...document, id: cell.id },
      cell,
      createdMs: now,
      updatedMs: now,
      history,
    };
    if (this.cells.has(cell.id) || !this.store.insert(stored)) throw new CellExistsError(cell.id);
    this.cells.set(cell.id, stored);
    return this.info(stored);
  }

  list(): CellInfo[] {
    return [...this.cells.values()].map((c) => this.info(c));
  }

  get(id: string): CellInfo {
    return this.info(this.require(id));
  }

  /** The discharge capacity of a registered cell's first cycle ever, Ah (the base of its retention). */
  firstDischargeAh(id: string): number | undefined {
    return this.cells.get(id)?.history.firstDischargeAh ?? undefined;
  }

  /**
   * Merges `changes` into the cell's document (null removes a key) and parses it again with
   * `parse`. Limits may change only while the cell has no runs: its history was made under them.
   */
  patch(
    id: string,
    changes: Record<string, unknown>,
    parse: (document: Record<string, unknown>) => Cell,
  ): CellInfo {
    const stored = this.require(id);
    const document: Record<string, unknown> = { ...stored.document };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete document[key];
      else document[key] = value;
    }
    const runs = stored.history.runs.length;
    const changed = Object.keys(changes).filter(
      (key) => !FREE_KEYS.has(key) && JSON.stringify(changes[key]) !== JSON.stringify(stored.document[key]),
    );
    // Before parsing: a locked limit is refused as locked, whatever value was sent.
    if (runs > 0 && changed.length > 0) throw new CellLimitsLockedError(id, runs, changed);
    const cell = parse(document);
    const resolved = runs > 0 ? limitDifferences(stored.cell, cell) : [];
    if (resolved.length > 0) throw new CellLimitsLockedError(id, runs, resolved);
    stored.document = document;
    stored.cell = cell;
    stored.updatedMs = this.bench.clock.wallNow();
    this.store.update(stored);
    return this.info(stored);
  }

  /** Mounts a registered cell on a channel; mounting it where it already is changes nothing. */
  mount(id: string, channel: string): CellInfo {
    this.bench.channel(channel);
    const stored = this.require(id);
    const current = this.mounts.get(channel);
    if (current?.cell === id) return this.info(stored);
    const elsewhere = this.mountOf(id);
    if (elsewhere) throw new CellMountedElsewhereError(id, elsewhere.channel, "mounted");
    if (current) throw ChannelHasCellError.onMount(channel, id, current.cell);
    const inside = this.bench.supervisor.cellOn(channel);
    if (inside && inside.cell.id !== id)
      throw ChannelHasCellError.onMount(channel, id, inside.cell.id, inside.runId);
    const insideElsewhere = this.insideOf(id);
    if (insideElsewhere && insideElsewhere.channel !== channel)
      throw new CellMountedElsewhereError(id, insideElsewhere.channel, "inside");
    const mount: CellMount = { channel, cell: id, mountedMs: this.bench.clock.wallNow() };
    this.store.mount(mount);
    this.mounts.set(channel, mount);
    return this.info(stored);
  }

  /**
   * The operator took the cell off `channel`: out of its chamber (RunManager.removeCell, refused
   * while a run drives the channel) and no longer mounted.
   */
  unmount(channel: string): { channel: string; cell: string | null } {
    const removed = this.runs.removeCell(channel);
    const mount = this.mounts.get(channel);
    if (mount) {
      this.store.unmount(channel);
      this.mounts.delete(channel);
    }
    return { channel, cell: removed.cell ?? mount?.cell ?? null };
  }

  /** The mount of a channel, if a cell is mounted on it. */
  mountOn(channel: string): CellMount | undefined {
    return this.mounts.get(channel);
  }

  /**
   * The cell a run on `channel` uses: the mounted one when the request names none; the request's
   * own (inline) cell when the channel has none mounted and the cell is not registered (as before
   * cells could be registered). Throws when the two disagree or neither exists.
   */
  cellForRun(channel: string, inline: Cell | undefined): Cell {
    const mount = this.mounts.get(channel);
    if (!inline) {
      if (!mount) throw new NoCellMountedError(channel);
      return this.require(mount.cell).cell;
    }
    if (mount) {
      if (inline.id !== mount.cell) throw ChannelHasCellError.onRun(channel, inline.id, mount.cell);
      const registered = this.require(mount.cell).cell;
      const differences = limitDifferences(registered, inline);
      if (differences.length > 0) throw new CellSpecMismatchError(inline.id, differences);
      return registered;
    }
    if (!this.cells.has(inline.id)) return inline;
    const elsewhere = this.mountOf(inline.id);
    if (elsewhere) throw new CellMountedElsewhereError(inline.id, elsewhere.channel, "mounted");
    throw new CellNotMountedError(inline.id, channel);
  }

  close(): void {
    this.unsubscribe();
    this.store.close();
  }

  private require(id: string): StoredCell {
    const stored = this.cells.get(id);
    if (!stored) throw new UnknownCellError(id);
    return stored;
  }

  private mountOf(id: string): CellMount | undefined {
    for (const mount of this.mounts.values()) if (mount.cell === id) return mount;
    return undefined;
  }

  private insideOf(id: string): { channel: string; run: string } | undefined {
    for (const channel of this.bench.channels.keys()) {
      const watched = this.bench.supervisor.cellOn(channel);
      if (watched?.cell.id === id) return { channel, run: watched.runId };
    }
    return undefined;
  }

  private info(stored: StoredCell): CellInfo {
    return {
      stored,
      mount: this.mountOf(stored.id),
      inside: this.insideOf(stored.id),
      summary: summarize(stored.history, (run) => this.totalsOf(run)),
    };
  }

  private totalsOf(run: string): RunTotals | undefined {
    try {
      return this.runs.get(run).status?.total;
    } catch {
      return undefined;
    }
  }

  /** Follows runs of registered cells. Never throws: a history that cannot be written must not stop a run. */
  private onRunEvent(event: RunEvent): void {
    if (event.type !== "state" && event.type !== "cycle") return;
    try {
      const info = this.runs.get(event.run);
      const stored = this.cells.get(info.cell);
      if (!stored || stored.history.otherRuns.includes(info.id)) return;
      const totals = info.status?.total;
      const changed =
        event.type === "cycle"
          ? noteCycle(stored.history, event.summary, totals)
          : noteRunState(
              stored.history,
              { id: info.id, channel: info.channel },
              event.event.state,
              event.event.tWallMs,
              totals,
            );
      if (changed) this.store.saveHistory(stored.id, stored.history, event.run);
    } catch (err) {
      this.eventErrors++;
      if (this.eventErrors % 100 === 1)
        this.logger?.error(
          { err, run: event.run, errors: this.eventErrors },
          "updating a cell's history failed; the run goes on",
        );
    }
  }
}

/** The limits (by their key in a cell document) in which two cells differ. */
export function limitDifferences(a: Cell, b: Cell): string[] {
  return LIMIT_FIELDS.filter(([, get]) => JSON.stringify(get(a)) !== JSON.stringify(get(b))).map(
    ([key]) => key,
  );
}
