/**
 * A temperature-input device whose scans a test scripts (values per input, a failed sensor, a
 * device that stops answering), registered as a simulated driver.
 */
import type { TemperatureInputReading } from "../../drivers/capabilities.js";
import { registerDriver } from "../../drivers/registry.js";

export interface ScriptedSensors {
  /** What the next scans return, by input. */
  readonly readings: Map<string, TemperatureInputReading>;
  /** Sets an input's temperature. */
  set(input: string, temperatureC: number): void;
  /** When set, scans reject with it (a device that answers garbage or not at all). */
  failure: Error | undefined;
  /** When set, scans wait for it before answering (an acquisition that takes a while). */
  hold: Promise<void> | undefined;
  scans: number;
}

/** Registers `name` with `inputs` (all at 25 °C); returns the script its devices follow. */
export function registerScriptedSensors(name: string, inputs: readonly string[]): ScriptedSensors {
  const script: ScriptedSensors = {
    readings: new Map(inputs.map((i) => [i, { ok: true, temperatureC: 25 }])),
    set(input, temperatureC) {
      this.readings.set(input, { ok: true, temperatureC });
    },
    failure: undefined,
    hold: undefined,
    scans: 0,
  };
  registerDriver({
    name,
    description: "temperature inputs scripted by a test",
    simulated: true,
    create: (config) => ({
      id: config.id,
      driver: config.driver,
      channels: [],
      temperatureInputs: {
        inputs,
        scan: async () => {
          script.scans++;
          await script.hold;
          if (script.failure) throw script.failure;
          return new Map(script.readings);
        },
      },
      connect: async () => undefined,
      close: async () => undefined,
    }),
  });
  return script;
}
