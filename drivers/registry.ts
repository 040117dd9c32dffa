import { CellbenchError } from "../protocols/cellbench-error.js";
import type { Device, DeviceConfig, DriverContext, DriverInfo } from "./capabilities.js";

export class UnknownDriverError extends CellbenchError {
  constructor(name: string, known: readonly string[]) {
    super("UNKNOWN_DRIVER", `unknown driver "${name}"; use one of: ${known.join(", ")}`);
  }
}

const drivers = new Map<string, DriverInfo>();

/** Registers a driver under its `vendor/model` name; a second registration of the same name is a bug. */
export function registerDriver(info: DriverInfo): void {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(info.name))
    throw new Error(`driver name must be vendor/model: ${info.name}`);
  if (drivers.has(info.name)) throw new Error(`driver ${info.name} registered twice`);
  drivers.set(info.name, info);
}

export function driverInfo(name: string): DriverInfo {
  const info = drivers.get(name);
  if (!info) throw new UnknownDriverError(name, [...drivers.keys()].sort());
  return info;
}

export function registeredDrivers(): DriverInfo[] {
  return [...drivers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function createDevice(config: DeviceConfig, context: DriverContext): Device {
  return driverInfo(config.driver).create(config, context);
}
