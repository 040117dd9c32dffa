/**
 * `modbus/temperature-inputs`: a generic thermocouple / RTD input module on Modbus RTU or TCP (the
 * 4/8/16-channel modules labs put beside the cells). It offers TemperatureInputs only: no cycler
 * channels, no chamber.
 *
 * One scan() reads the block of registers holding every configured input (one request when they are
 * contiguous, more only beyond 125 registers) and decodes each input: a value in °C, or the module's
 * open-sensor / overload value, or a value outside its range, as a sensor fault. A module that does
 * not answer (or answers garbage) rejects the scan.
 *
 * Transport: `serial:///dev/serial/by-id/...?baud=9600&unit=3` or `tcp://host:502?unit=1`. Modules share
 * an RS-485 line with chambers and each other through the shared bus queue (modbus-bus-pool), each on
 * its own unit id.
 *
 * Options:
 *   preset: "eletechsup-r4dcb08" | "juying-dam-pt100"   register map of a known module (presets file)
 *   functionCode: 3 | 4     registerBase: 0 (protocol address of input 1)
 *   dataType: "int16" with scale (°C per count) | "float32" with wordOrder ("high-first" | "low-first")
 *   openValue, overloadValue   what the module reports for an open sensor / above range (raw int16 register, or float)
 *   rangeC: [lo, hi]        values outside are out-of-range
 *   inputs: [1, 2, 3]       input numbers in use (default: all of the preset's); their ids are "1", "2", "3"
 *   unit: 1  timeoutMs: 500  minGapMs: 0  connectTimeoutMs: 5000  retryMs: 2000
 * Explicit map options override the preset's. Without a preset, functionCode, registerBase, dataType
 * (and scale or wordOrder) and inputs are required.
 *
 * Connect (and every reconnect): the preset's documented check register if it has one (R4DCB08: no
 * automatic reporting), then a first scan must be answered.
 */
import type { ModbusDevice } from "../../protocols/modbus/modbus-bus.js";
import { ModbusBadFrameError } from "../../protocols/modbus/modbus-errors.js";
import { describeRequest } from "../../protocols/modbus/modbus-pdu.js";
import type {
  Device,
  DeviceConfig,
  DriverContext,
  TemperatureInputReading,
  TemperatureInputs,
} from "../capabilities.js";
import { decodeInput, planReads, type ReadBlock } from "./temperature-input-decoding.js";
import { readTemperatureInputSettings, type TemperatureInputSettings } from "./temperature-input-options.js";
import { TemperatureInputsConfigError } from "./temperature-inputs-errors.js";
import { TemperatureInputsLink, type TemperatureInputsLinkState } from "./temperature-inputs-link.js";

export const MODBUS_TEMPERATURE_INPUTS_DRIVER = "modbus/temperature-inputs";

export class ModbusTemperatureInputs implements Device {
  readonly driver = MODBUS_TEMPERATURE_INPUTS_DRIVER;
  readonly id: string;
  readonly channels = [] as const;
  readonly temperatureInputs: TemperatureInputs;
  readonly settings: TemperatureInputSettings;
  private readonly blocks: readonly ReadBlock[];
  private readonly link: TemperatureInputsLink;

  constructor(config: DeviceConfig, context?: Pick<DriverContext, "reportLink">) {
    this.id = config.id;
    this.settings = readTemperatureInputSettings(config);
    this.blocks = planReads(this.settings.map, this.settings.inputs);
    this.link = new TemperatureInputsLink(this.id, this.settings.link, (event) =>
      context?.reportLink?.(config.id, event),
    );
    const inputs = this.settings.inputs.map(String);
    this.temperatureInputs = { inputs, scan: () => this.scan() };
  }

  /** Modbus unit id of the module. */
  get unit(): number {
    return this.settings.link.unit;
  }

  /** Where the connection stands: ready, link-down, identifying, not-ready, closed. */
  get linkState(): TemperatureInputsLinkState {
    return this.link.state;
  }

  connect(): Promise<void> {
    return this.link.connect((modbus) => this.identify(modbus));
  }

  close(): Promise<void> {
    return this.link.close();
  }

  private async scan(): Promise<ReadonlyMap<string, TemperatureInputReading>> {
    const modbus = this.link.require("scan()");
    let registers: Map<number, number>;
    try {
      registers = await this.read(modbus);
    } catch (err) {
      throw this.link.explain("scan()", err);
    }
    const map = this.settings.map;
    return new Map(this.settings.inputs.map((n) => [String(n), decodeInput(map, n, registers)]));
  }

  /** Reads every block of configured inputs; returns address → raw register. */
  private async read(modbus: ModbusDevice): Promise<Map<number, number>> {
    const registers = new Map<number, number>();
    for (const block of this.blocks) {
      const words =
        this.settings.map.functionCode === 3
          ? await modbus.readHoldingRegisters(block.address, block.quantity)
          : await modbus.readInputRegisters(block.address, block.quantity);
      if (words.length < block.quantity)
        throw new ModbusBadFrameError(`${words.length} registers in the reply, ${block.quantity} asked for`, {
          request: describeRequest(modbus.unit, {
            functionCode: this.settings.map.functionCode,
            address: block.address,
            quantity: block.quantity,
          }),
        });
      for (const [i, w] of words.entries()) registers.set(block.address + i, w);
    }
    return registers;
  }

  /** On connect and after every reconnect: the preset's check register, then one scan must be answered. */
  private async identify(modbus: ModbusDevice): Promise<void> {
    const check = this.settings.check;
    if (check !== undefined) {
      const [value] =
        check.functionCode === 3
          ? await modbus.readHoldingRegisters(check.address, 1)
          : await modbus.readInputRegisters(check.address, 1);
      if (value !== check.expected)
        throw new TemperatureInputsConfigError(this.id, check.problem(value ?? Number.NaN), check.fix);
    }
    await this.read(modbus);
  }
}
