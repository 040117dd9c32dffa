// The IT-M3400 emulator's own model list (not the driver's decoding of the model number): a model it
// does not list needs its ratings given, and the ratings bound what the instrument accepts.
import { afterEach, describe, expect, it } from "vitest";
import {
  IT_M3400_MODEL_RATINGS,
  startItechItM3400Emulator,
} from "../../../drivers/emulators/itech-it-m3400-emulator.js";
import { itM3400Ratings } from "../../../drivers/itech/itech-it-m3400.js";
import { rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Record<string, unknown>) {
  const emu = await startItechItM3400Emulator({ listen: "tcp://127.0.0.1:0", options });
  cleanups.push(() => emu.stop());
  return emu;
}

describe("emulated IT-M3400 models", () => {
  it("plays the IT-M3432 by default, rated 60 V, 30 A, 800 W", async () => {
    const emu = await start({});
    expect(IT_M3400_MODEL_RATINGS["IT-M3432"]).toEqual({ voltageV: 60, currentA: 30, powerW: 800 });
    expect(emu.settings).toMatchObject({ highV: 60, positiveA: 30, negativeA: -30, powerPositiveW: 800 });
  });

  it("plays every listed model at its own ratings", async () => {
    const emu = await start({ model: "IT-M3415" });
    expect(emu.settings).toMatchObject({ highV: 600, positiveA: 3, negativeA: -3, powerNegativeW: -200 });
    expect(Object.keys(IT_M3400_MODEL_RATINGS)).toHaveLength(12);
  });

  it("agrees, model by model, with the ratings the driver decodes from the model number", () => {
    for (const [model, ratings] of Object.entries(IT_M3400_MODEL_RATINGS))
      expect(itM3400Ratings(model), model).toEqual(ratings);
  });

  it("refuses a model it does not list unless its ratings are given, and says how to give them", async () => {
    const err = await rejection(start({ model: "IT-M3499" }));
    expect(err.code).toBe("EMULATOR_BAD_OPTIONS");
    expect(err.message).toContain("ratings: { voltageV, currentA, powerW }");
    const emu = await start({ model: "IT-M3499", ratings: { voltageV: 80, currentA: 20, powerW: 500 } });
    expect(emu.settings).toMatchObject({ highV: 80, positiveA: 20, negativeA: -20, powerNegativeW: -500 });
  });

  it("refuses what is not an IT-M34xy model number, and ratings that are not positive", async () => {
    expect((await rejection(start({ model: "IT6432" }))).message).toContain("IT-M34xy");
    const bad = await rejection(start({ ratings: { voltageV: 60, currentA: 0, powerW: 800 } }));
    expect(bad.message).toContain("ratings must be { voltageV, currentA, powerW }, all positive numbers");
  });
});
