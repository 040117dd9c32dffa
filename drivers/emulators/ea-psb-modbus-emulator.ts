/**
 * Emulated Elektro-Automatik PSB 10000 on Modbus (RTU on a pty or memory pair, TCP on a loopback
 * port), answering the `ea/psb-modbus` driver, with a cell on its terminals
 * (ea-itech-supply-physics.ts). Registers as drivers/ea/ea-psb-modbus.ts reads them — including the
 * ones that file marks as unconfirmed (1–20 device type, 498/499 sink set values, state bits 9–10
 * and 12): the emulator agrees with the driver, it cannot vouch for the instrument.
 *
 *   FC03  1–20 device type (ASCII), 151–170 serial number (ASCII), 498–502 set values, 505–506 state,
 *         507–509 actual U, I (magnitude; bit 12 says sink), P; other addresses: exception 2
 *   FC01  coils 402 (remote), 405 (output)
 *   FC05  coil 402 remote on/off; coil 405 output on/off (exception 4 unless remote — the emulator's
 *         choice for "not in remote")
 *   FC06 / FC16  498–502 (exception 4 unless remote, exception 3 above 102 % = 53477)
 *
 * Options (all optional):
 *   unit: 1   model: "PSB 10060-60"   serial: "2411230001"   nominal: { voltageV: 60, currentA: 60, powerW: 1500 }
 *   cell: { chemistry, capacityAh }   initialSoc: 0.5
 *   framing: "rtu" | "tcp" (default by listen address)   linkTiming: false   baud: 115200 (for link
 *   timing when the listen address names none)   turnaroundMs: 2 (device reply latency under link timing)
 *   faults: { timeout, badCrc, garbage: { bytes }, wrongUnit, exception: { code }, lateReply: { delayMs },
 *             disconnect: { forMs } }
 */
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { SystemClock } from "../clock.js";
import { EA_FULL_SCALE, EA_MODBUS, EA_STATE } from "../ea/ea-psb-modbus.js";
import { SupplyCell } from "./ea-itech-supply-physics.js";
import { initialPsbSetValues, type PsbSetValues, psbDrive, readPsbOptions } from "./ea-psb-scpi-emulator.js";
import { FaultDeck } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import { readLinkTiming } from "./link-timing.js";
import { framingFor, MODBUS_FAULT_KNOBS, type ModbusFaults } from "./modbus-line.js";
import { attachModbusUnits, readRegisterBlock } from "./modbus-unit-wiring.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const EA_PSB_MODBUS_EMULATOR = "ea/psb-modbus";

/** 102 % of a rating, the most a set value may be [PG MB: "Translating set values"]. */
const MAX_RAW = 53_477;

export interface EaPsbModbusEmulator extends RunningEmulator {
  readonly unit: number;
  readonly supply: SupplyCell;
  readonly faults: FaultDeck<ModbusFaults>;
  readonly setValues: Readonly<PsbSetValues>;
  readonly outputOn: boolean;
  readonly remote: boolean;
  /** Sets or clears the alarm bit (15) of the state word; an alarm switches the output off. */
  alarm(on: boolean): void;
  disconnectFor(ms: number): void;
}

/** Starts an emulated PSB 10000 on Modbus. */
export async function startEaPsbModbusEmulator(start: EmulatorStartOptions): Promise<EaPsbModbusEmulator> {
  const reader = new OptionReader(EA_PSB_MODBUS_EMULATOR, start.options);
  const unit = reader.integer("unit", 1, 1, 247);
  const { model, serial, nominal, cell } = readPsbOptions(reader);
  const framing = reader.choice<"rtu" | "tcp">("framing", framingFor(start.listen), ["rtu", "tcp"]);
  const { linkTiming, baudRate, turnaroundMs } = readLinkTiming(reader, { baud: 115_200, turnaroundMs: 2 });
  const faults = new FaultDeck<ModbusFaults>(
    EA_PSB_MODBUS_EMULATOR,
    MODBUS_FAULT_KNOBS,
    reader.raw("faults"),
  );
  reader.done();

  const supply = new SupplyCell(start.clock ?? new SystemClock(), cell);
  const set = initialPsbSetValues(nominal);
  let outputOn = false;
  let remote = false;
  let alarm = false;

  const registers: Record<number, { key: keyof PsbSetValues; nominal: number }> = {
    [EA_MODBUS.sinkPower]: { key: "sinkPowerW", nominal: nominal.powerW },
    [EA_MODBUS.sinkCurrent]: { key: "sinkCurrentA", nominal: nominal.currentA },
    [EA_MODBUS.voltage]: { key: "voltageV", nominal: nominal.voltageV },
    [EA_MODBUS.sourceCurrent]: { key: "sourceCurrentA", nominal: nominal.currentA },
    [EA_MODBUS.sourcePower]: { key: "sourcePowerW", nominal: nominal.powerW },
  };
  const toRaw = (value: number, rating: number) =>
    Math.min(0xffff, Math.max(0, Math.round((Math.abs(value) / rating) * EA_FULL_SCALE)));
  const ascii = (text: string, first: number, address: number) => {
    const i = address - first;
    const code = (k: number) => (k < text.length ? text.charCodeAt(k) & 0xff : 0);
    return (code(2 * i) << 8) | code(2 * i + 1);
  };

  const updateDrive = () => supply.setDrive(psbDrive(set, outputOn && !alarm));

  /** Reads registers 505–509 from one consistent measurement. */
  const liveRegisters = (): Map<number, number> => {
    const m = supply.measure();
    const regulation = { off: 0, CV: 0, CC: 2, CP: 3 }[m.regulation];
    let state = (remote ? 0x03 : 0x00) | (regulation << 9);
    if (outputOn) state |= EA_STATE.outputOn;
    if (remote) state |= EA_STATE.remote;
    if (m.currentA < 0) state |= EA_STATE.sinkMode;
    if (alarm) state |= EA_STATE.alarm;
    return new Map([
      [EA_MODBUS.state, (state >>> 16) & 0xffff],
      [EA_MODBUS.state + 1, state & 0xffff],
      [EA_MODBUS.actualVoltage, toRaw(m.voltageV, nominal.voltageV)],
      [EA_MODBUS.actualCurrent, toRaw(m.currentA, nominal.currentA)],
      [EA_MODBUS.actualPower, toRaw(m.powerW, nominal.powerW)],
    ]);
  };

  const readRegister = (address: number, live: () => Map<number, number>): number | undefined => {
    if (address >= EA_MODBUS.deviceType && address < EA_MODBUS.deviceType + 20)
      return ascii(model, EA_MODBUS.deviceType, address);
    if (address >= 151 && address < 171) return ascii(serial, 151, address);
    const setValue = registers[address];
    if (setValue) return toRaw(set[setValue.key], setValue.nominal);
    if (address >= EA_MODBUS.state && address <= EA_MODBUS.actualPower) return live().get(address);
    return undefined;
  };

  const writeSetValue = (address: number, raw: number): number | undefined => {
    const setValue = registers[address];
    if (!setValue) return 2;
    if (!remote) return 4;
    if (raw > MAX_RAW) return 3;
    set[setValue.key] = (raw / EA_FULL_SCALE) * setValue.nominal;
    return undefined;
  };

  const writeCoil = (address: number, value: boolean): number | undefined => {
    if (address === EA_MODBUS.remoteCoil) {
      remote = value;
      return undefined;
    }
    if (address === EA_MODBUS.outputCoil) {
      if (!remote) return 4;
      if (value && alarm) return 4;
      outputOn = value;
      updateDrive();
      return undefined;
    }
    return 2;
  };

  const handle = (request: ModbusRequest): ModbusResponse => {
    const refuse = (exceptionCode: number): ModbusResponse => ({
      functionCode: request.functionCode,
      exceptionCode,
    });
    switch (request.functionCode) {
      case 0x03:
      case 0x04: {
        let cache: Map<number, number> | undefined;
        const live = () => {
          cache ??= liveRegisters();
          return cache;
        };
        return readRegisterBlock(request, (address) => readRegister(address, live));
      }
      case 0x01:
      case 0x02: {
        const bits: boolean[] = [];
        for (let k = 0; k < Math.ceil(request.quantity / 8) * 8; k++) {
          const address = request.address + k;
          if (k >= request.quantity) bits.push(false);
          else if (address === EA_MODBUS.remoteCoil) bits.push(remote);
          else if (address === EA_MODBUS.outputCoil) bits.push(outputOn);
          else return refuse(2);
        }
        return { functionCode: request.functionCode, bits };
      }
      case 0x05: {
        const refused = writeCoil(request.address, request.value);
        return refused
          ? refuse(refused)
          : { functionCode: 0x05, address: request.address, value: request.value };
      }
      case 0x0f: {
        for (const [k, v] of request.values.entries()) {
          const refused = writeCoil(request.address + k, v);
          if (refused) return refuse(refused);
        }
        return { functionCode: 0x0f, address: request.address, quantity: request.values.length };
      }
      case 0x06: {
        const refused = writeSetValue(request.address, request.value);
        if (refused) return refuse(refused);
        updateDrive();
        return { functionCode: 0x06, address: request.address, value: request.value };
      }
      case 0x10: {
        for (const [k, v] of request.values.entries()) {
          const refused = writeSetValue(request.address + k, v);
          if (refused) {
            updateDrive();
            return refuse(refused);
          }
        }
        updateDrive();
        return { functionCode: 0x10, address: request.address, quantity: request.values.length };
      }
    }
  };

  const attached = await attachModbusUnits(start.listen, { framing, linkTiming, baudRate }, [
    [unit, { handle, faults, turnaroundMs, minRequestGapMs: 0 }],
  ]);

  return {
    name: EA_PSB_MODBUS_EMULATOR,
    listen: attached.line.url,
    unit,
    supply,
    faults,
    get setValues() {
      return { ...set };
    },
    get outputOn() {
      return outputOn;
    },
    get remote() {
      return remote;
    },
    alarm: (on) => {
      alarm = on;
      if (on) outputOn = false;
      updateDrive();
    },
    disconnectFor: (ms) => attached.line.disconnectFor(ms),
    stop: attached.stop,
  };
}
