/**
 * Thermal chamber air: a regulated first-order lag toward the set point, with the heater and the
 * compressor limiting how fast the air can move, and a passive leak toward the room.
 *
 * Regulating:   dT/dt = clamp((SP − T)/τ, −coolRate, +heatRate)
 * Not regulating (standby, or the "stops regulating" fault): dT/dt = (T_room − T)/τ_leak
 *
 * The controller output is what it takes to produce the regulated rate against the leak,
 * u = dT/dt + (T − T_room)/τ_leak, reported as a percentage of the heater's or cooler's authority.
 * Updates are exact (ramp at the rate limit, then exponential), so any sub-step is stable.
 */

export interface ChamberModelOptions {
  initialC: number;
  ambientC: number;
  /** Regulation time constant, s. */
  tauS: number;
  heatRateCPerS: number;
  coolRateCPerS: number;
  /** Passive time constant toward the room with the controller off, s. */
  leakTauS: number;
  rangeC: [number, number];
}

export const DEFAULT_CHAMBER_MODEL: ChamberModelOptions = {
  initialC: 22,
  ambientC: 22,
  tauS: 180,
  heatRateCPerS: 3 / 60,
  coolRateCPerS: 1.5 / 60,
  leakTauS: 90 * 60,
  rangeC: [-40, 110],
};

export class ChamberModel {
  readonly options: ChamberModelOptions;
  airC: number;
  setpointC: number;
  /** False in standby (safe state) or when the controller has failed. */
  regulating = true;
  /** Net rate of the latest sub-step, °C/s. */
  private rateCPerS = 0;

  constructor(options: Partial<ChamberModelOptions> = {}) {
    this.options = { ...DEFAULT_CHAMBER_MODEL, ...options };
    this.airC = this.options.initialC;
    this.setpointC = this.options.initialC;
  }

  /** Returns the controller output, % (+ heating, − cooling); 0 when not regulating. */
  get outputPct(): number {
    if (!this.regulating) return 0;
    const o = this.options;
    const u = this.rateCPerS + (this.airC - o.ambientC) / o.leakTauS;
    const authority =
      u >= 0
        ? o.heatRateCPerS + (o.rangeC[1] - o.ambientC) / o.leakTauS
        : o.coolRateCPerS + (o.ambientC - o.rangeC[0]) / o.leakTauS;
    return Math.max(-100, Math.min(100, (100 * u) / authority));
  }

  /** Advances the air by `dtS` seconds. */
  step(dtS: number): void {
    if (!(dtS > 0)) return;
    const o = this.options;
    const start = this.airC;
    if (!this.regulating) {
      this.airC = o.ambientC + (this.airC - o.ambientC) * Math.exp(-dtS / o.leakTauS);
      this.rateCPerS = (this.airC - start) / dtS;
      return;
    }
    let remaining = dtS;
    const err = this.setpointC - this.airC;
    // Far from the set point the lag would ask for more than the plant can do: ramp at the limit.
    const rampLimit = err > 0 ? o.heatRateCPerS : -o.coolRateCPerS;
    const lagRate = err / o.tauS;
    if (Math.abs(lagRate) > Math.abs(rampLimit)) {
      const rampS = (err - rampLimit * o.tauS) / rampLimit;
      const t = Math.min(remaining, rampS);
      this.airC += rampLimit * t;
      remaining -= t;
    }
    if (remaining > 0) {
      this.airC = this.setpointC - (this.setpointC - this.airC) * Math.exp(-remaining / o.tauS);
    }
    this.rateCPerS = (this.airC - start) / dtS;
  }
}
