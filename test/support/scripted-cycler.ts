/**
 * A one-channel cycler whose calls a test scripts (hang, report no temperature, count safe states),
 * registered as a simulated driver, and the one-device bench configuration it runs in.
 */
import type { CyclerChannel } from "../../drivers/capabilities.js";
import { registerDriver } from "../../drivers/registry.js";
import type { BenchConfig } from "../../src/config/load-config.js";

export const RESTING = { voltageV: 3.7, currentA: 0, temperatureC: 25 };

/** A promise that never settles: an instrument stuck mid-call. */
export const never = (): Promise<never> => new Promise<never>(() => {});

/** Registers `name`: one channel `channelId` whose calls are `calls` (defaults: resting, answering). */
export function registerScriptedCycler(
  name: string,
  channelId: string,
  calls: Partial<Pick<CyclerChannel, "apply" | "read" | "toSafeState">> & { close?: () => Promise<void> },
): void {
  registerDriver({
    name,
    description: "a cycler scripted by a test",
    simulated: true,
    create: (config) => ({
      id: config.id,
      driver: config.driver,
      channels: [
        {
          id: channelId,
          ranges: { voltageV: [0, 5], currentA: [-5, 5], powerW: 25, modes: ["rest", "cc", "cv"] },
          apply: calls.apply ?? (async () => undefined),
          read: calls.read ?? (async () => ({ ...RESTING })),
          toSafeState: calls.toSafeState ?? (async () => undefined),
        },
      ],
      connect: async () => undefined,
      close: calls.close ?? (async () => undefined),
    }),
  });
}

/** A bench of one device of `driver`, sampled every `periodMs`. */
export function scriptedBenchConfig(driver: string, periodMs: number): BenchConfig {
  return {
    source: "test",
    bench: "b",
    http: { host: "127.0.0.1", port: 0 },
    store: ":memory:",
    devices: [{ id: "dev1", driver }],
    chambers: [],
    samplingPeriodMs: periodMs,
    tokens: [],
  };
}
