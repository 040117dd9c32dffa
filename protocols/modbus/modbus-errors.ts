import { CellbenchError } from "../cellbench-error.js";

/** Exception code names from "MODBUS Application Protocol" V1.1b3, section 7. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: "ILLEGAL FUNCTION",
  2: "ILLEGAL DATA ADDRESS",
  3: "ILLEGAL DATA VALUE",
  4: "SERVER DEVICE FAILURE",
  5: "ACKNOWLEDGE",
  6: "SERVER DEVICE BUSY",
  8: "MEMORY PARITY ERROR",
  10: "GATEWAY PATH UNAVAILABLE",
  11: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
};

/** Returns the spec name of an exception code ("ILLEGAL DATA ADDRESS"), or "UNKNOWN EXCEPTION n". */
export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `UNKNOWN EXCEPTION ${code}`;
}

const EXCEPTION_HINTS: Readonly<Record<number, string>> = {
  1: "the device does not support this function code",
  2: "the device has no such register or coil; check the address against the manual (0-based vs 1-based)",
  3: "the device refused the value or quantity; check range and scaling",
  6: "the device is busy; retry later",
};

/** No reply arrived in time. */
export class ModbusTimeoutError extends CellbenchError {
  constructor(
    readonly timeoutMs: number,
    readonly request: string,
    url: string,
  ) {
    super(
      "MODBUS_TIMEOUT",
      `Timeout after ${timeoutMs} ms ${request} on ${url}; check the unit id, serial settings and wiring, or raise the timeout`,
    );
  }
}

/** The device answered with an exception. */
export class ModbusExceptionError extends CellbenchError {
  readonly exceptionName: string;

  constructor(
    readonly exceptionCode: number,
    readonly request: string,
  ) {
    const name = exceptionName(exceptionCode);
    const hint = EXCEPTION_HINTS[exceptionCode];
    super(
      "MODBUS_EXCEPTION",
      `Modbus exception ${exceptionCode} (${name}) ${request}${hint ? `; ${hint}` : ""}`,
    );
    this.exceptionName = name;
  }
}

/** A frame arrived whose CRC does not match its contents (noise, wrong baud or parity, bus collision). */
export class ModbusCrcError extends CellbenchError {
  constructor(
    readonly received: number,
    readonly computed: number,
    readonly request?: string,
  ) {
    super(
      "MODBUS_CRC_ERROR",
      `CRC error${request ? ` in reply ${request}` : ""}: frame carries 0x${hex4(received)}, contents give 0x${hex4(computed)}; ` +
        "check baud rate, parity, termination and grounding of the line",
    );
  }
}

/**
 * A frame that cannot be what was sent or asked for: wrong length or byte count, unknown function
 * code, a reply that does not echo the request. `exceptionCode` is what a server should answer.
 */
export class ModbusBadFrameError extends CellbenchError {
  constructor(
    readonly reason: string,
    readonly details: { unit?: number; functionCode?: number; exceptionCode?: 1 | 3; request?: string } = {},
  ) {
    super(
      "MODBUS_BAD_FRAME",
      `Bad Modbus frame${details.request ? ` in reply ${details.request}` : ""}: ${reason}`,
    );
  }

  get exceptionCode(): 1 | 3 | undefined {
    return this.details.exceptionCode;
  }
}

/** A request that cannot be encoded (quantity out of range, value not 16-bit, ...). */
export class ModbusRequestError extends CellbenchError {
  constructor(problem: string) {
    super("MODBUS_INVALID_REQUEST", `Invalid Modbus request: ${problem}`);
  }
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}
