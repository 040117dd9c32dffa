/** Reads the options of a `keysight/daq970a` device entry, with errors that say what to change. */
import type { DeviceConfig } from "../capabilities.js";
import { shown } from "../common/device-option-reader.js";
import { DriverOptionReader } from "../common/driver-options.js";
import { type CyclerTimings, readCyclerTimings } from "../common/supervised-cycler.js";
import { DaqOptionsError } from "./daq970a-errors.js";
import {
  type ReferenceJunction,
  type ScanSetup,
  THERMOCOUPLE_TYPES,
  type ThermocoupleType,
} from "./daq970a-scan.js";

export interface Daq970aOptions {
  url: string;
  setup: ScanSetup;
  timings: CyclerTimings;
  /** Time allowed per input for one scan, on top of timeoutMs, ms. */
  scanMsPerInput: number;
}

/**
 * Fixed reference-junction temperatures the instrument accepts, °C (34980A Command Reference,
 * [SENSe:]TEMPerature:TRANsducer:TCouple:RJUNction; the 34970A's limits are assumed the same).
 */
const FIXED_JUNCTION_C: readonly [number, number] = [-20, 80];

/** Slot·100 + channel: slots 1 to 3, channels 1 to 40 (the 34908A has the most, 40). */
const INPUT_ID = /^[1-3](?:0[1-9]|[1-3]\d|40)$/;

class DaqOptionReader extends DriverOptionReader {
  override fail(problem: string): never {
    throw new DaqOptionsError(this.config.id, this.config.driver, problem);
  }

  /** Returns `options.inputs` ({ "101": "K", ... }) as a scan setup's inputs, ascending. */
  inputs(): ScanSetup["inputs"] {
    const v = this.take("inputs");
    if (typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length === 0)
      this.fail(
        `options.inputs must map each input to its thermocouple type, e.g. { "101": "K", "102": "T" }; got ${shown(v)}`,
      );
    const inputs: { id: string; type: ThermocoupleType }[] = [];
    for (const [id, type] of Object.entries(v as Record<string, unknown>)) {
      if (!INPUT_ID.test(id))
        this.fail(
          `options.inputs: "${id}" is not an input number; write slot·100 + channel as the instrument ` +
            'numbers it, e.g. "101" for channel 1 of slot 1 (slots 1-3, channels 01-40)',
        );
      if (typeof type !== "string" || !(THERMOCOUPLE_TYPES as readonly string[]).includes(type.toUpperCase()))
        this.fail(
          `options.inputs.${id} must be a thermocouple type (${THERMOCOUPLE_TYPES.join(", ")}), got ${shown(type)}`,
        );
      inputs.push({ id, type: (type as string).toUpperCase() as ThermocoupleType });
    }
    return inputs.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Returns `options.referenceJunction`: "internal" (default) or { fixedC }. */
  referenceJunction(): ReferenceJunction {
    const v = this.take("referenceJunction");
    if (v === undefined || v === "internal") return { kind: "internal" };
    const fixed = (v as { fixedC?: unknown } | null)?.fixedC;
    const [lo, hi] = FIXED_JUNCTION_C;
    if (
      typeof v !== "object" ||
      Object.keys(v as object).length !== 1 ||
      typeof fixed !== "number" ||
      !(fixed >= lo && fixed <= hi)
    )
      this.fail(
        `options.referenceJunction must be "internal" (the module's isothermal block) or { fixedC } with ` +
          `fixedC in ${lo}..${hi} °C (an ice bath: { fixedC: 0 }); got ${shown(v)}`,
      );
    return { kind: "fixed", celsius: fixed as number };
  }

  /** Refuses cycler channels: inputs reach channels through the bench configuration. */
  noChannels(): void {
    const channels = this.config.channels ?? [];
    if (channels.length > 0)
      this.fail(
        `has no cycler channels (it reads temperature inputs); remove channels [${channels.join(", ")}] and ` +
          "map its inputs to channels in the bench configuration",
      );
  }
}

/** Reads every option of the entry; throws DAQ_BAD_OPTIONS naming the first problem. */
export function readDaq970aOptions(config: DeviceConfig): Daq970aOptions {
  const o = new DaqOptionReader(config);
  const url = o.transport();
  o.noChannels();
  const inputs = o.inputs();
  const referenceJunction = o.referenceJunction();
  const timings = readCyclerTimings(o);
  // 100 ms: three integrations of 1 PLC at 50 Hz (reading, auto-zero, open-thermocouple check) and margin.
  const scanMsPerInput = o.positive("scanMsPerInput", 100);
  o.done();
  return { url, setup: { inputs, referenceJunction }, timings, scanMsPerInput };
}
