import { readdir, realpath } from "node:fs/promises";
import { join } from "node:path";

export interface SerialPortEntry {
  /** Stable name to put in a transport URL. */
  byIdPath: string;
  /** Kernel device it points to now (e.g. /dev/ttyUSB0), which may change across re-plugging. */
  devicePath: string;
}

/**
 * Lists serial adapters by their stable /dev/serial/by-id names. Reads the directory udev maintains
 * instead of calling SerialPort.list(), which spawns `udevadm` and crashes the process with an
 * unhandled error where udevadm is missing (containers). Returns [] when there is none.
 */
export async function listSerialPorts(directory = "/dev/serial/by-id"): Promise<SerialPortEntry[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const entries: SerialPortEntry[] = [];
  for (const name of names.sort()) {
    const byIdPath = join(directory, name);
    const devicePath = await realpath(byIdPath).catch(() => byIdPath);
    entries.push({ byIdPath, devicePath });
  }
  return entries;
}
