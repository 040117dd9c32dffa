/**
 * What the Modbus device emulators (Watlow F4 and F4T, EA PSB on Modbus) share around their register
 * maps: answering a block read register by register, and putting their units on a shared emulated
 * line (modbus-line.ts) behind one idempotent stop.
 */
import type { ModbusResponse, ReadRegistersRequest } from "../../protocols/modbus/modbus-pdu.js";
import type { Transport } from "../../protocols/transport/transport.js";
import {
  acquireModbusLine,
  type EmulatedModbusLine,
  type EmulatedModbusUnit,
  type ModbusLineOptions,
} from "./modbus-line.js";

/**
 * Answers a register read (FC03 / FC04) with `read` of each address in turn; an address `read` does
 * not know (undefined) fails the whole request with exception 2, ILLEGAL DATA ADDRESS ("MODBUS
 * Application Protocol Specification" V1.1b3, section 7).
 */
export function readRegisterBlock(
  request: ReadRegistersRequest,
  read: (address: number) => number | undefined,
): ModbusResponse {
  const values: number[] = [];
  for (let address = request.address; address < request.address + request.quantity; address++) {
    const value = read(address);
    if (value === undefined) return { functionCode: request.functionCode, exceptionCode: 2 };
    values.push(value);
  }
  return { functionCode: request.functionCode, values };
}

/** Units attached to an emulated line. */
export interface AttachedModbusUnits {
  readonly line: EmulatedModbusLine;
  /** Detaches the units and releases the line (the last holder stops it). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Attaches each device on its unit id to the line listening on `listen`, starting that line or
 * joining it. When one cannot attach (its unit id is taken), those already attached are detached and
 * the line released before the error is rethrown.
 */
export async function attachModbusUnits(
  listen: string | Transport,
  options: ModbusLineOptions,
  units: Iterable<readonly [number, EmulatedModbusUnit]>,
): Promise<AttachedModbusUnits> {
  const lease = await acquireModbusLine(listen, options);
  const detach: Array<() => void> = [];
  try {
    for (const [unit, device] of units) detach.push(lease.line.attach(unit, device));
  } catch (err) {
    for (const d of detach) d();
    await lease.release();
    throw err;
  }
  let stopped = false;
  return {
    line: lease.line,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const d of detach) d();
      await lease.release();
    },
  };
}
