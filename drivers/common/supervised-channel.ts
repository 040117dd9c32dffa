/**
 * A cycler channel on a real instrument, shared by the EA and ITECH drivers. The instrument-specific
 * part (which commands or registers realise a set point) is a ChannelBackend; this class adds what
 * every real channel needs:
 *
 * - apply() validates against the channel's ranges before anything is sent (SETPOINT_OUT_OF_RANGE);
 * - set points are applied as one exclusive sequence: settings first, then `output on` if it was off;
 * - any failure while applying switches the output off (best effort) and rethrows the typed error,
 *   so a half-written set point never stays live;
 * - `rest` and toSafeState() send `output off` every time (idempotent on the instrument);
 * - `profile` is stepped by the driver on the injected clock (see profile-stepper.ts);
 * - while the link is down every call fails fast with CYCLER_OUTPUT_UNKNOWN (instrument-session.ts).
 */
import type {
  CyclerChannel,
  CyclerRanges,
  CyclerReading,
  CyclerSetpoint,
  ProfilePoint,
} from "../capabilities.js";
import type { Clock } from "../clock.js";
import { validateSetpoint } from "../sim/sim-cycler.js";
import { CyclerProfileAbortedError } from "./cycler-errors.js";
import type { InstrumentSession } from "./instrument-session.js";
import { ProfileStepper } from "./profile-stepper.js";

/** Set points an instrument holds by itself (everything but rest and profile). */
export type LevelSetpoint = Extract<CyclerSetpoint, { mode: "cc" | "cv" | "cccv" | "cp" }>;

export interface ChannelBackend {
  /**
   * Sends the settings of `setpoint`; `outputOn` says whether the output is live meanwhile. Resolves
   * with `{ switchedOutputOff: true }` when it had to switch the output off (e.g. to change function).
   */
  writeLevels(
    setpoint: LevelSetpoint,
    outputOn: boolean,
  ): Promise<{ switchedOutputOff?: boolean } | undefined>;
  setOutput(on: boolean): Promise<void>;
  measure(): Promise<CyclerReading>;
  /** Forgets cached settings (after a failure or a lost link the instrument's values are unknown). */
  forgetSettings(): void;
}

export class SupervisedChannel implements CyclerChannel {
  private readonly stepper: ProfileStepper;
  /** undefined: unknown (link lost, or switching off failed). */
  private outputOn: boolean | undefined = undefined;
  private profileFailure: CyclerProfileAbortedError | undefined;

  constructor(
    readonly deviceId: string,
    readonly id: string,
    private readonly session: InstrumentSession,
    private readonly backend: ChannelBackend,
    private readonly clock: Clock,
    private readonly rangesNow: () => CyclerRanges,
  ) {
    this.stepper = new ProfileStepper(clock);
  }

  get ranges(): CyclerRanges {
    return this.rangesNow();
  }

  /** Whether the output is on (false after safe state; undefined while unknown). */
  get isOutputOn(): boolean | undefined {
    return this.outputOn;
  }

  /** True while a driver-stepped profile has points left. */
  get steppingProfile(): boolean {
    return this.stepper.running;
  }

  async apply(setpoint: CyclerSetpoint): Promise<void> {
    this.session.assertUsable(`apply(${setpoint.mode})`);
    validateSetpoint(setpoint, this.ranges, `${this.deviceId}/${this.id}`);
    if (setpoint.mode === "rest") return this.toSafeState();
    this.stepper.cancel();
    this.profileFailure = undefined;
    const t0 = this.clock.now();
    const first: LevelSetpoint =
      setpoint.mode === "profile" ? profileLevel(setpoint, setpoint.points[0] as ProfilePoint) : setpoint;
    await this.session.exclusive(`apply(${setpoint.mode})`, () => this.applyLevels(first));
    if (setpoint.mode === "profile" && setpoint.points.length > 1) {
      const base = profileLevel(setpoint, setpoint.points[0] as ProfilePoint);
      this.stepper.start(
        setpoint.points,
        t0,
        (_index, currentA, signal) =>
          this.session.exclusive("profile step", async () => {
            if (signal.aborted) return;
            await this.applyLevels({ ...base, currentA });
          }),
        (index, err) => {
          this.profileFailure = new CyclerProfileAbortedError(this.deviceId, index, { cause: err });
        },
      );
    }
  }

  async read(): Promise<CyclerReading> {
    if (this.profileFailure) throw this.profileFailure;
    return this.session.read("read()", () => this.backend.measure());
  }

  async toSafeState(): Promise<void> {
    this.stepper.cancel();
    this.profileFailure = undefined;
    await this.session.exclusive("toSafeState()", async () => {
      try {
        await this.backend.setOutput(false);
      } catch (err) {
        // Whether the output went off is unknown now (like a failed switch-off in applyLevels).
        this.outputOn = undefined;
        throw err;
      }
      this.outputOn = false;
    });
  }

  /** Called by the device when the link drops. */
  linkLost(): void {
    this.stepper.cancel();
    this.outputOn = undefined;
    this.backend.forgetSettings();
  }

  /** Called by the device after initialize() has switched the output off. */
  outputSwitchedOff(): void {
    this.outputOn = false;
  }

  /** Stops a stepped profile (close()). */
  stopStepping(): void {
    this.stepper.cancel();
  }

  private async applyLevels(levels: LevelSetpoint): Promise<void> {
    try {
      const result = await this.backend.writeLevels(levels, this.outputOn === true);
      if (result?.switchedOutputOff) this.outputOn = false;
      if (this.outputOn !== true) {
        await this.backend.setOutput(true);
        this.outputOn = true;
      }
    } catch (err) {
      this.backend.forgetSettings();
      try {
        await this.backend.setOutput(false);
        this.outputOn = false;
      } catch {
        this.outputOn = undefined;
      }
      throw err;
    }
  }
}

/** Returns the constant-current set point of one profile point, with the profile's clamps. */
function profileLevel(
  profile: Extract<CyclerSetpoint, { mode: "profile" }>,
  point: ProfilePoint,
): Extract<LevelSetpoint, { mode: "cc" }> {
  return { mode: "cc", currentA: point.currentA, minV: profile.minV, maxV: profile.maxV };
}
