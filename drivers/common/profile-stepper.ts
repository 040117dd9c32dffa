/**
 * Driver-stepped `profile` mode: neither the EA PSB nor the ITECH IT-M3400 runs a current-versus-time
 * list from a remote command in the form CyclerSetpoint describes, so the driver applies each point as
 * a constant-current set point at `t0 + tS` on the injected clock. Timing therefore follows the
 * clock plus one command round trip per point (a few ms on a local link), not the instrument's own
 * sequencer; the last point's current holds until the next apply() or toSafeState().
 */
import type { ProfilePoint } from "../capabilities.js";
import type { Clock } from "../clock.js";

export type StepPoint = (index: number, currentA: number, signal: AbortSignal) => Promise<void>;

export class ProfileStepper {
  private controller: AbortController | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly clock: Clock) {}

  /** True while points remain to be applied. */
  get running(): boolean {
    return this.controller !== undefined;
  }

  /**
   * Applies `points[1..]` at `t0Ms + tS·1000` (points[0] is the caller's, applied with the set point);
   * `onFailure` runs once if a step throws, and stepping stops. Cancels any earlier stepping.
   */
  start(
    points: readonly ProfilePoint[],
    t0Ms: number,
    step: StepPoint,
    onFailure: (index: number, err: unknown) => void,
  ): void {
    this.cancel();
    const controller = new AbortController();
    this.controller = controller;
    this.done = (async () => {
      for (let k = 1; k < points.length; k++) {
        const point = points[k] as ProfilePoint;
        // A point that lasts no time at all is overtaken by the next one.
        if ((points[k + 1]?.tS ?? Number.POSITIVE_INFINITY) <= point.tS) continue;
        await this.clock.sleepUntil(t0Ms + point.tS * 1000, controller.signal);
        if (controller.signal.aborted) return;
        try {
          await step(k, point.currentA, controller.signal);
        } catch (err) {
          if (!controller.signal.aborted) onFailure(k, err);
          break;
        }
      }
      if (this.controller === controller) this.controller = undefined;
    })();
  }

  /** Stops stepping; a step already sending finishes (its caller checks the signal before each command). */
  cancel(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  /** Resolves when the current stepping loop has ended (tests). */
  settled(): Promise<void> {
    return this.done;
  }
}
