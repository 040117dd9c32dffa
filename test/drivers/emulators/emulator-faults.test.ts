import { describe, expect, it } from "vitest";
import { FaultDeck } from "../../../drivers/emulators/emulator-faults.js";

interface Knobs {
  timeout?: { next?: number; probability?: number };
  exception?: { next?: number; probability?: number; code?: number };
}
const SPECS = { timeout: {}, exception: { code: { min: 1, max: 255, integer: true } } } as const;

function fires(deck: FaultDeck<Knobs>, knob: keyof Knobs, n: number): boolean[] {
  return Array.from({ length: n }, () => deck.fire(knob) !== undefined);
}

describe("FaultDeck", () => {
  it("fires for the next N requests, then stops", () => {
    const deck = new FaultDeck<Knobs>("t", SPECS, { timeout: { next: 2 } });
    expect(fires(deck, "timeout", 4)).toEqual([true, true, false, false]);
    expect(deck.fired).toEqual({ timeout: 2 });
  });

  it("fires with a seeded probability: the same seed gives the same sequence", () => {
    const a = new FaultDeck<Knobs>("t", SPECS, { seed: 3, timeout: { probability: 0.3 } });
    const b = new FaultDeck<Knobs>("t", SPECS, { seed: 3, timeout: { probability: 0.3 } });
    const c = new FaultDeck<Knobs>("t", SPECS, { seed: 4, timeout: { probability: 0.3 } });
    const sa = fires(a, "timeout", 200);
    expect(fires(b, "timeout", 200)).toEqual(sa);
    expect(fires(c, "timeout", 200)).not.toEqual(sa);
    const rate = sa.filter(Boolean).length / sa.length;
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.4);
  });

  it("treats true (or parameters alone) as always, and undefined/false/null as off", () => {
    const deck = new FaultDeck<Knobs>("t", SPECS);
    deck.set({ timeout: true, exception: { code: 6 } });
    expect(fires(deck, "timeout", 3)).toEqual([true, true, true]);
    expect(deck.fire("exception")).toMatchObject({ code: 6, probability: 1 });
    deck.set({ timeout: false, exception: null });
    expect(fires(deck, "timeout", 2)).toEqual([false, false]);
    expect(deck.fire("exception")).toBeUndefined();
  });

  it("rejects unknown knobs and bad parameters with EMULATOR_BAD_OPTIONS naming them", () => {
    const deck = new FaultDeck<Knobs>("watlow/f4 unit 1", SPECS);
    expect(() => deck.set({ timout: true })).toThrow(
      /unknown fault knob "timout"; use one of timeout, exception, seed/,
    );
    expect(() => deck.set({ exception: { code: 0 } })).toThrow(
      /faults.exception.code must be an integer in \[1, 255\]/,
    );
    expect(() => deck.set({ timeout: { probability: 2 } })).toThrow(
      /probability must be a number in \[0, 1\]/,
    );
    expect(() => deck.set({ timeout: { delayMs: 5 } })).toThrow(/takes next, probability; not "delayMs"/);
    try {
      deck.set({ timeout: 1 });
    } catch (err) {
      expect(err).toMatchObject({ code: "EMULATOR_BAD_OPTIONS" });
    }
  });
});
