import type { Storage } from "../storage/storage.js";
import type { ChamberSlot } from "./bench.js";

/**
 * The bench's chamberSample hook that logs each chamber's reading (with its extra sensors) at most
 * once every `everyMs` of the bench's monotonic time.
 */
export function chamberLogger(
  storage: Pick<Storage, "logChamber">,
  everyMs: number,
): (slot: ChamberSlot) => void {
  const loggedAt = new Map<string, number>();
  return (slot) => {
    const reading = slot.latest;
    if (!reading) return;
    const last = loggedAt.get(slot.id);
    if (last !== undefined && reading.tMonoMs - last < everyMs) return;
    loggedAt.set(slot.id, reading.tMonoMs);
    storage.logChamber({
      chamber: slot.id,
      tWallMs: reading.tWallMs,
      temperatureC: reading.temperatureC,
      setpointC: reading.setpointC,
      outputPct: reading.outputPct,
      ...(slot.sensors?.ok ? { sensorsC: slot.sensors.bySensor } : {}),
    });
  };
}
