import type {
  CyclerChannel,
  CyclerReading,
  DeviceConfig,
  DriverContext,
} from "../../../drivers/capabilities.js";
import type { Clock } from "../../../drivers/clock.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/index.js";

let pairs = 0;

/** A memory pair with a unique name, for an emulator (device end) and a driver (memory://name). */
export function memoryLink(): { pair: MemoryPair; url: string } {
  const name = `emu-${process.pid}-${++pairs}`;
  const pair = createMemoryPair({ name });
  return { pair, url: `memory://${name}` };
}

/** A driver context; link events are appended to `links` as `<kind>: <reason>`. */
export function context(clock: Clock, links: string[] = []): DriverContext {
  return {
    clock,
    chamberOfChannel: () => undefined,
    reportLink: (_device, event) =>
      links.push(`${event.kind}${"reason" in event ? `: ${event.reason}` : ""}`),
  };
}

export function deviceConfig(
  driver: string,
  transport: string,
  options: Record<string, unknown> = {},
): DeviceConfig {
  return { id: "dut", driver, transport, channels: ["ch1"], options };
}

/**
 * Reads the channel every `periodMs` until `done(reading)` holds; returns every reading. Throws after
 * `timeoutMs` naming `what` and the last reading.
 */
export async function readUntil(
  channel: CyclerChannel,
  done: (reading: CyclerReading) => boolean,
  what: string,
  options: { periodMs?: number; timeoutMs?: number } = {},
): Promise<CyclerReading[]> {
  const periodMs = options.periodMs ?? 20;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const readings: CyclerReading[] = [];
  for (;;) {
    const reading = await channel.read();
    readings.push(reading);
    if (done(reading)) return readings;
    if (Date.now() > deadline)
      throw new Error(
        `no reading showed ${what} in ${options.timeoutMs ?? 20_000} ms; last ${JSON.stringify(reading)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, periodMs));
  }
}

/** Resolves with the error `promise` rejects with; fails when it resolves. */
