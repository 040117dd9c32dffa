/**
 * The safety supervisor's rules (DESIGN §6): every sample of a channel that holds a cell is checked
 * here before the run engine sees it, and every chamber set point is checked against every cell
 * inside the chamber, whoever asks. It decides; the bench carries the decision out (safe state
 * first, then the run). It knows nothing of benches or engines: channels, cells and samples only.
 *
 * A cell is watched from the start of its run until an operator says it was taken out of its
 * chamber, whether or not its run is still going: a cell resting after its run still heats up with
 * its chamber, and a cell in runaway threatens every cell next to it.
 */
import type { CellSpec } from "../../drivers/capabilities.js";
import type { SafetyLimits } from "../profile/ast.js";
import type { ChannelSample } from "../sampling/sample.js";
import {
  checkSample,
  currentMargin,
  type SafetyEnvelope,
  safetyEnvelope,
  TEMPERATURE_MARGIN_C,
  type Violation,
} from "./safety-envelope.js";

/** A cell on a channel, as the supervisor watches it. */
export interface WatchedCell {
  channel: string;
  cell: CellSpec;
  /** The run that put it there (the latest one). */
  runId: string;
  envelope: SafetyEnvelope;
  /**
   * The run relies on a cell temperature. False only when an operator started it with an explicit
   * override (its reason is a run event), on a channel that measures none.
   */
  temperatureRequired: boolean;
}

/** Violations that concern every cell around the one that raised them. */
const CHAMBER_WIDE: ReadonlySet<Violation["kind"]> = new Set(["over-temperature", "no-temperature"]);

export function concernsChamber(v: Violation): boolean {
  return CHAMBER_WIDE.has(v.kind);
}

export class SafetySupervisor {
  private readonly watched = new Map<string, WatchedCell>();

  /** Starts (or renews, for a new run) watching the cell on `channel`. */
  watch(
    channel: string,
    cell: CellSpec,
    runId: string,
    options: { safety?: SafetyLimits; temperatureRequired: boolean },
  ): void {
    this.watched.set(channel, {
      channel,
      cell,
      runId,
      envelope: safetyEnvelope(cell, options.safety),
      temperatureRequired: options.temperatureRequired,
    });
  }

  /** The operator took the cell off `channel` (out of its chamber). */
  release(channel: string): void {
    this.watched.delete(channel);
  }

  cellOn(channel: string): WatchedCell | undefined {
    return this.watched.get(channel);
  }

  /**
   * Checks a sample of `channel`. While a run drives the channel (`driving`) every limit applies;
   * a cell at rest after its run is checked for temperature only (its voltage may relax anywhere,
   * but it must not overheat or go unwatched).
   */
  inspect(sample: ChannelSample, driving: boolean): Violation | undefined {
    const watched = this.watched.get(sample.channel);
    if (!watched) return undefined;
    // `watched` carries temperatureRequired: no options object per sample.
    const violation = checkSample(watched.envelope, sample, watched);
    if (driving) return violation;
    if (violation && concernsChamber(violation)) return violation;
    // No run drives the channel: any current through the cell is an output nobody commanded.
    if (Math.abs(sample.currentA) > currentMargin(watched.envelope))
      return {
        kind: "current",
        reason: `current ${Math.round(sample.currentA * 1000) / 1000} A with no run driving the channel`,
      };
    return undefined;
  }

  /**
   * Why current may not flow in `direction` now, or undefined: the cell on `channel` is outside the
   * window of that direction by more than half the sensor margin. Current stops beyond the whole
   * margin (inspect), so a cell stopped there must cool back before current flows again, and a
   * cell soaking at a window's edge (a sulfide cell at its rated 105 °C) may still run.
   */
  windowRefusal(
    channel: string,
    direction: "charge" | "discharge",
    temperatureC: number,
  ): string | undefined {
    const watched = this.watched.get(channel);
    if (!watched) return undefined;
    if (Number.isNaN(temperatureC))
      return watched.temperatureRequired ? "no cell temperature reading (sensor lost or missing)" : undefined;
    const [lo, hi] =
      direction === "charge" ? watched.envelope.chargeTemperatureC : watched.envelope.dischargeTemperatureC;
    const slack = TEMPERATURE_MARGIN_C / 2;
    if (temperatureC >= lo - slack && temperatureC <= hi + slack) return undefined;
    return `cell ${watched.cell.id} at ${Math.round(temperatureC * 10) / 10} °C is outside its ${lo}..${hi} °C ${direction} window`;
  }

  /**
   * Why a chamber holding the cells on `channels` may not be set to `setpointC`, or undefined: a set
   * point outside the temperature range of any cell inside is refused, naming the cell.
   */
  chamberSetpointRefusal(
    chamberId: string,
    setpointC: number,
    channels: readonly string[],
  ): string | undefined {
    for (const channel of channels) {
      const watched = this.watched.get(channel);
      if (!watched) continue;
      const [lo, hi] = watched.envelope.temperatureC;
      if (setpointC < lo || setpointC > hi)
        return (
          `chamber ${chamberId} may not go to ${setpointC} °C: cell ${watched.cell.id} (${watched.cell.chemistry}) on ` +
          `channel ${channel} is inside and allows ${lo}..${hi} °C; take the cell out ` +
          `(DELETE /api/v1/channels/${channel}/cell) or choose a set point within its range`
        );
    }
    return undefined;
  }
}
