/**
 * Emulated Modbus temperature input module (RTU on a pty or memory pair, or Modbus TCP), answering the
 * `modbus/temperature-inputs` driver from the module's documented register map
 * (modbus-temperature-module-maps.ts). It can share one emulated line with other Modbus emulators
 * (a Watlow F4 on unit 1, this module on unit 2) when started on the same listen address.
 *
 * Options (all optional):
 *   preset: "eletechsup-r4dcb08"   or "juying-dam-pt100"
 *   unit: 1                        Modbus unit id
 *   temperatureOf: (input) => °C   temperatures from the simulated cells (default 25 °C each);
 *                                  setTemperature(input, °C) overrides one input at run time
 *   open: [3]   overload: [4]      inputs with an open sensor / above range (also setOpen / setOverload)
 *   autoReportS: 0                 R4DCB08 register 0x00FD (automatic reporting period)
 *   linkTiming, baud, turnaroundMs (default 10), minRequestGapMs (default 0)
 *   faults: ModbusFaults           no reply (timeout), garbage / badCrc, slow reply (lateReply), ... (modbus-line.ts)
 */
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { EmulatorOptionsError } from "./emulator-errors.js";
import { FaultDeck } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import { readLinkTiming } from "./link-timing.js";
import {
  type EmulatedModbusLine,
  type EmulatedModbusUnit,
  framingFor,
  MODBUS_FAULT_KNOBS,
  type ModbusFaults,
} from "./modbus-line.js";
import {
  DamPt100Map,
  type EmulatedInputs,
  type EmulatedModuleMap,
  R4dcb08Map,
} from "./modbus-temperature-module-maps.js";
import { attachModbusUnits } from "./modbus-unit-wiring.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const MODBUS_TEMPERATURE_INPUTS_EMULATOR = "modbus/temperature-inputs";
const EMULATED_PRESETS = ["eletechsup-r4dcb08", "juying-dam-pt100"] as const;
const DEFAULT_TEMPERATURE_C = 25;

/** One emulated module on one unit id. */
export class EmulatedTemperatureModule implements EmulatedModbusUnit, EmulatedInputs {
  readonly faults: FaultDeck<ModbusFaults>;
  turnaroundMs: number;
  minRequestGapMs: number;
  private readonly overrides = new Map<number, number>();
  private readonly opened = new Set<number>();
  private readonly overloaded = new Set<number>();
  /** Every request received, in order. */
  readonly requests: ModbusRequest[] = [];

  constructor(
    readonly unit: number,
    readonly map: EmulatedModuleMap,
    private readonly temperatureOf: (input: number) => number,
    settings: { faults: unknown; turnaroundMs: number; minRequestGapMs: number },
  ) {
    this.faults = new FaultDeck<ModbusFaults>(
      `modbus/temperature-inputs unit ${unit}`,
      MODBUS_FAULT_KNOBS,
      settings.faults,
    );
    this.turnaroundMs = settings.turnaroundMs;
    this.minRequestGapMs = settings.minRequestGapMs;
  }

  handle(request: ModbusRequest): ModbusResponse {
    this.requests.push(request);
    return this.map.handle(request, this);
  }

  temperatureC(input: number): number {
    return this.overrides.get(input) ?? this.temperatureOf(input);
  }

  open(input: number): boolean {
    return this.opened.has(input);
  }

  overload(input: number): boolean {
    return this.overloaded.has(input);
  }

  /** Sets input `input` to `celsius` from now on (undefined: back to temperatureOf). */
  setTemperature(input: number, celsius: number | undefined): void {
    this.checkInput(input);
    if (celsius === undefined) this.overrides.delete(input);
    else this.overrides.set(input, celsius);
  }

  /** Breaks (or mends) the sensor wire of `input`. */
  setOpen(input: number, open = true): void {
    this.checkInput(input);
    if (open) this.opened.add(input);
    else this.opened.delete(input);
  }

  /** Drives `input` above its range (or back). */
  setOverload(input: number, overload = true): void {
    this.checkInput(input);
    if (overload) this.overloaded.add(input);
    else this.overloaded.delete(input);
  }

  private checkInput(input: number): void {
    if (!Number.isInteger(input) || input < 1 || input > this.map.inputCount)
      throw new EmulatorOptionsError(
        MODBUS_TEMPERATURE_INPUTS_EMULATOR,
        `input ${input} does not exist; this module has inputs 1..${this.map.inputCount}`,
      );
  }
}

export interface ModbusTemperatureInputsEmulator extends RunningEmulator {
  readonly line: EmulatedModbusLine;
  readonly module: EmulatedTemperatureModule;
  /** Sets input `input` to `celsius` (undefined: back to temperatureOf). */
  setTemperature(input: number, celsius: number | undefined): void;
}

/** Starts one emulated temperature input module. */
export async function startModbusTemperatureInputsEmulator(
  start: EmulatorStartOptions,
): Promise<ModbusTemperatureInputsEmulator> {
  const reader = new OptionReader(MODBUS_TEMPERATURE_INPUTS_EMULATOR, start.options);
  const preset = reader.choice("preset", "eletechsup-r4dcb08", EMULATED_PRESETS);
  const unit = reader.integer("unit", 1, 1, 247);
  const temperatureOf = reader.raw("temperatureOf") ?? (() => DEFAULT_TEMPERATURE_C);
  if (typeof temperatureOf !== "function")
    reader.fail("temperatureOf must be a function (input number) => °C");
  const open = reader.integers("open", [], 1, 16);
  const overload = reader.integers("overload", [], 1, 16);
  const autoReportS = reader.integer("autoReportS", 0, 0, 255);
  const { linkTiming, baudRate, turnaroundMs } = readLinkTiming(reader, { baud: 9600, turnaroundMs: 10 });
  const minRequestGapMs = reader.number("minRequestGapMs", 0, 0, 10_000);
  const faults = reader.raw("faults");
  reader.done();
  if (preset !== "eletechsup-r4dcb08" && autoReportS !== 0)
    reader.fail("autoReportS is a register of the R4DCB08 only");
  const map = preset === "eletechsup-r4dcb08" ? new R4dcb08Map(autoReportS, unit) : new DamPt100Map();
  const of = temperatureOf as (input: number) => unknown;
  const module = new EmulatedTemperatureModule(
    unit,
    map,
    (input) => {
      const c = of(input);
      return typeof c === "number" && Number.isFinite(c) ? c : Number.NaN;
    },
    { faults, turnaroundMs, minRequestGapMs },
  );
  for (const input of open) module.setOpen(input);
  for (const input of overload) module.setOverload(input);
  const attached = await attachModbusUnits(
    start.listen,
    { framing: framingFor(start.listen), linkTiming, baudRate },
    [[unit, module]],
  );
  return {
    name: MODBUS_TEMPERATURE_INPUTS_EMULATOR,
    listen: attached.line.url,
    line: attached.line,
    module,
    setTemperature: (input, celsius) => module.setTemperature(input, celsius),
    stop: attached.stop,
  };
}
