import type { Device, TemperatureInputReading } from "../../drivers/capabilities.js";
import { type SensorRef, sensorName } from "../config/load-config.js";
import { SensorNotAvailableError } from "./bench-errors.js";

/** A cell or chamber temperature from its sensors: the hottest, or why there is none. */
export type SensorTemperature =
  | {
      ok: true;
      /** The hottest sensor (safety judges the hottest spot of a cell). */
      temperatureC: number;
      /** Age of the oldest scan it comes from, ms. */
      ageMs: number;
      /** Each sensor's value, by `device:input`. */
      bySensor: Record<string, number>;
    }
  | { ok: false; fault: string };

interface Scan {
  tMonoMs: number;
  readings: ReadonlyMap<string, TemperatureInputReading>;
}

const FAULT_TEXT = {
  open: "open sensor",
  overload: "overload",
  "out-of-range": "reading out of range",
} as const;

/**
 * The latest scan of every sensor device (one acquisition per device per sampling period serves all
 * its inputs), and the temperatures of the cells and chambers they measure. A sensor that is
 * faulted, missing from its scan, or whose scan is older than `maxAgeMs`, makes the temperature a
 * fault naming it: never a silently skipped value.
 */
export class SensorScans {
  private readonly scans = new Map<string, Scan>();

  constructor(private readonly maxAgeMs: number) {}

  record(deviceId: string, tMonoMs: number, readings: ReadonlyMap<string, TemperatureInputReading>): void {
    this.scans.set(deviceId, { tMonoMs, readings });
  }

  temperatureOf(sensors: readonly SensorRef[], nowMs: number): SensorTemperature {
    const bySensor: Record<string, number> = {};
    let hottest = Number.NEGATIVE_INFINITY;
    let oldest = 0;
    for (const sensor of sensors) {
      const name = sensorName(sensor);
      const scan = this.scans.get(sensor.device);
      if (!scan) return { ok: false, fault: `sensor ${name}: no scan of ${sensor.device} yet` };
      const ageMs = nowMs - scan.tMonoMs;
      if (ageMs > this.maxAgeMs)
        return {
          ok: false,
          fault: `sensor ${name}: the last scan of ${sensor.device} is ${(ageMs / 1000).toFixed(1)} s old (stale)`,
        };
      const reading = scan.readings.get(sensor.input);
      if (!reading)
        return { ok: false, fault: `sensor ${name}: input ${sensor.input} missing from the scan` };
      if (!reading.ok)
        return { ok: false, fault: `sensor ${name}: ${FAULT_TEXT[reading.fault]} (${reading.detail})` };
      bySensor[name] = reading.temperatureC;
      hottest = Math.max(hottest, reading.temperatureC);
      oldest = Math.max(oldest, ageMs);
    }
    return { ok: true, temperatureC: hottest, ageMs: oldest, bySensor };
  }
}

/** Throws SENSOR_NOT_AVAILABLE when a configured sensor's device has no temperature inputs or not that input. */
export function assertSensorsAvailable(
  uses: readonly { where: string; sensors: readonly SensorRef[] }[],
  devices: readonly Device[],
): void {
  for (const { where, sensors } of uses)
    for (const sensor of sensors) {
      const device = devices.find((d) => d.id === sensor.device);
      const inputs = device?.temperatureInputs?.inputs;
      if (!inputs)
        throw new SensorNotAvailableError(
          where,
          sensor,
          `device "${sensor.device}" (${device?.driver ?? "unknown"}) has no temperature inputs; name a DAQ or input module`,
        );
      if (!inputs.includes(sensor.input))
        throw new SensorNotAvailableError(
          where,
          sensor,
          `device "${sensor.device}" has no input ${sensor.input} configured; its inputs are ${inputs.join(", ")} (add it to the device's options)`,
        );
    }
}
