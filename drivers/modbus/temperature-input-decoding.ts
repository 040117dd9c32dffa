/**
 * From a register map to Modbus reads and back: which blocks one scan reads (one request when the
 * inputs are contiguous), and how each input's registers become a reading or a sensor fault.
 */
import { toFloat32, toInt16 } from "../../protocols/modbus/modbus-values.js";
import type { TemperatureInputReading } from "../capabilities.js";
import type { ResolvedInputMap } from "./temperature-input-options.js";

/** Most registers one FC03/FC04 request may read ("MODBUS Application Protocol" V1.1b3, 6.3 and 6.4). */
export const MAX_READ_REGISTERS = 125;

export interface ReadBlock {
  address: number;
  quantity: number;
}

/** Registers one input value takes. */
export function valueWidth(map: ResolvedInputMap): 1 | 2 {
  return map.dataType === "int16" ? 1 : 2;
}

/** Protocol address of input `n` (1-based). */
export function inputAddress(map: ResolvedInputMap, n: number): number {
  return map.registerBase + (n - 1) * valueWidth(map);
}

/**
 * Groups the inputs (rising) into as few reads as the request size allows; registers between
 * configured inputs are read along, which costs less than another request on a serial line.
 */
export function planReads(map: ResolvedInputMap, inputs: readonly number[]): ReadBlock[] {
  const width = valueWidth(map);
  const blocks: ReadBlock[] = [];
  for (const n of inputs) {
    const start = inputAddress(map, n);
    const current = blocks[blocks.length - 1];
    if (current !== undefined && start + width - current.address <= MAX_READ_REGISTERS)
      current.quantity = start + width - current.address;
    else blocks.push({ address: start, quantity: width });
  }
  return blocks;
}

/** Decodes input `n` from the registers read (address → raw word). */
export function decodeInput(
  map: ResolvedInputMap,
  n: number,
  registers: ReadonlyMap<number, number>,
): TemperatureInputReading {
  const address = inputAddress(map, n);
  const word = (a: number): number => {
    const w = registers.get(a);
    if (w === undefined) throw new Error(`register ${a} of input ${n} was not read`);
    return w;
  };
  let value: number;
  let shown: string;
  /** The module's open-sensor or overload value, as a fault; undefined for any other raw value. */
  const markedValue = (raw: number, text: string) =>
    raw === map.openValue
      ? fault("open", `input ${n} reads ${text}, the module's open-sensor value: no sensor or a broken wire`)
      : raw === map.overloadValue
        ? fault("overload", `input ${n} reads ${text}, the module's overload value: above the input's range`)
        : undefined;
  if (map.dataType === "int16") {
    const raw = word(address);
    shown = `0x${raw.toString(16).toUpperCase().padStart(4, "0")}`;
    const marked = markedValue(raw, shown);
    if (marked) return marked;
    const inverse = 1 / map.scale;
    // Dividing by a whole inverse keeps 219 × 0.1 at 21.9 rather than 21.900000000000002.
    value = Number.isInteger(inverse) ? toInt16(raw) / inverse : toInt16(raw) * map.scale;
  } else {
    const raw = toFloat32([word(address), word(address + 1)], map.wordOrder);
    shown = String(raw);
    const marked = markedValue(raw, shown);
    if (marked) return marked;
    if (!Number.isFinite(raw))
      return fault(
        "out-of-range",
        `input ${n} reads ${shown}, not a temperature (check dataType and wordOrder)`,
      );
    // A float32 carries 7 significant digits; the rest is binary noise (25.43 reads 25.43000030517578).
    value = Number(raw.toPrecision(7));
  }
  const range = map.rangeC;
  if (range !== undefined && (value < range[0] || value > range[1]))
    return fault(
      "out-of-range",
      `input ${n} reads ${value} °C (${shown}), outside the module's range [${range[0]}, ${range[1]}] °C: ` +
        "an open or shorted sensor, or a wrong scale, data type or word order",
    );
  return { ok: true, temperatureC: value };
}

function fault(
  kind: "open" | "overload" | "out-of-range",
  detail: string,
): Extract<TemperatureInputReading, { ok: false }> {
  return { ok: false, fault: kind, detail };
}
