import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveLogCriteria, LogGate } from "../../../src/storage/log-gate.js";

const sample = (tS: number, voltageV = 3.7, currentA = 1) => ({ tS, voltageV, currentA });

describe("LogGate", () => {
  it("logs the first sample, then one per `every` on a 100 ms sampling grid", () => {
    const gate = new LogGate();
    const logged: number[] = [];
    // t = k * 0.1 accumulated by addition, as a sampling loop would (0.1 + 0.2 !== 0.3).
    let t = 0;
    for (let k = 0; k <= 50; k++) {
      if (gate.admit(sample(t), { everyS: 1 })) logged.push(Math.round(t * 10) / 10);
      t += 0.1;
    }
    expect(logged).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("logs every sample with `every` equal to the sampling period although samples arrive late by jitter", () => {
    // A real clock: each sample is stamped when its tick wakes, up to a few ms after its deadline.
    const lateness = [0.3, 4.1, 0.2, 0.9, 3.8, 0.1, 2.2, 0.4, 4.9, 0.5].map((ms) => ms / 1000);
    const gate = new LogGate(0.1);
    const logged = lateness.filter((late, k) => gate.admit(sample(k * 0.1 + late), { everyS: 0.1 }));
    expect(logged).toHaveLength(lateness.length);
  });

  it("never doubles the interval: with lateness under half a period, exactly every m-th sample is logged", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0.01, 0.1, 1),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.double({ min: 0, max: 0.499, noNaN: true }), { minLength: 20, maxLength: 200 }),
        (periodS, m, late) => {
          const gate = new LogGate(periodS);
          const logged: number[] = [];
          late.forEach((fraction, k) => {
            if (gate.admit(sample(k * periodS + fraction * periodS), { everyS: m * periodS })) logged.push(k);
          });
          expect(logged).toEqual(late.map((_, k) => k).filter((k) => k % m === 0));
        },
      ),
    );
  });

  it("logs on |ΔV| ≥ dV and |ΔI| ≥ dI measured from the last LOGGED sample, not the previous one", () => {
    const gate = new LogGate();
    const criteria = { everyS: 60, dV: 0.005, dI: 0.01 };
    expect(gate.admit(sample(0, 3.7, 1), criteria)).toBe(true);
    // Creeping 3 mV per sample: the second step crosses 5 mV relative to the logged 3.700.
    expect(gate.admit(sample(0.1, 3.703, 1), criteria)).toBe(false);
    expect(gate.admit(sample(0.2, 3.706, 1), criteria)).toBe(true);
    expect(gate.admit(sample(0.3, 3.708, 1), criteria)).toBe(false);
    // Current falls by exactly dI.
    expect(gate.admit(sample(0.4, 3.708, 0.99), criteria)).toBe(true);
    expect(gate.admit(sample(0.5, 3.708, 0.985), criteria)).toBe(false);
    // Negative changes count by magnitude.
    expect(gate.admit(sample(0.6, 3.7, 0.99), criteria)).toBe(true);
    // Exactly dV, although 3.705 - 3.7 is 0.00499999999999989 in floating point.
    expect(gate.admit(sample(0.7, 3.705, 0.99), criteria)).toBe(true);
    expect(gate.admit(sample(0.8, 3.709, 0.99), criteria)).toBe(false);
  });

  it("logs forced samples (step changes, terminal events) whatever the criteria, and measures from them", () => {
    const gate = new LogGate();
    const criteria = { everyS: 10 };
    expect(gate.admit(sample(0), criteria)).toBe(true);
    expect(gate.admit(sample(3), criteria, true)).toBe(true);
    expect(gate.admit(sample(12), criteria)).toBe(false);
    expect(gate.admit(sample(13), criteria)).toBe(true);
  });

  it("logs every sample without criteria, and after reset() logs the next one", () => {
    const gate = new LogGate();
    expect([0, 0.1, 0.2].map((t) => gate.admit(sample(t), undefined))).toEqual([true, true, true]);
    expect([0.3, 0.4].map((t) => gate.admit(sample(t), { everyS: 100 }))).toEqual([false, false]);
    gate.reset();
    expect(gate.admit(sample(0.5), { everyS: 100 })).toBe(true);
  });

  it("applies the criteria passed with each sample (a step's own criteria take over at once)", () => {
    const gate = new LogGate();
    expect(gate.admit(sample(0), { everyS: 10 })).toBe(true);
    expect(gate.admit(sample(0.1), { everyS: 10 })).toBe(false);
    expect(gate.admit(sample(0.2), { everyS: 0.1 })).toBe(true);
  });
});

describe("effectiveLogCriteria", () => {
  it("lets the step's keys and period override the profile's", () => {
    const profile = { everyS: 1, dV: 0.005, dI: 0.01 };
    expect(effectiveLogCriteria(profile, undefined)).toEqual(profile);
    expect(effectiveLogCriteria(profile, { periodS: 0.1 })).toEqual({ everyS: 0.1, dV: 0.005, dI: 0.01 });
    expect(effectiveLogCriteria(profile, { periodS: 0.1, log: { everyS: 0.5, dV: 0.001 } })).toEqual({
      everyS: 0.5,
      dV: 0.001,
      dI: 0.01,
    });
    expect(effectiveLogCriteria(undefined, { log: { dI: 0.1 } })).toEqual({ dI: 0.1 });
  });
});
