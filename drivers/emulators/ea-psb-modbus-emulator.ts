/**
 * Emulated Elektro-Automatik PSB 10000 on Modbus (RTU on a pty or memory pair, TCP on a loopback
 * port), with a cell on its terminals (ea-itech-supply-physics.ts). Its register map is its own, written
 * from EA's "Programming Guide ModBus & SCPI" (PGMBEN rev 24) as cellbench's audit (issue 12) reads it
 * and from ../shared/reference/instruments.md — not from the driver's tables, so a driver that reads a
 * bit the guide does not define fails against it. What the guide's reading does not settle (device type
 * 1–20, coil 409's coding, regulation bits 9–10, alarm bits 16–20) follows public third-party PSB 10000
 * code and is marked unconfirmed, like in the driver. Two such codes were re-read for issue 15: a
 * LabWindows/CVI PSB 10000 Modbus library ("PSB 10000 Series Power Supply Control Library", auto-discovery:
 * FC03 1–20 device type as 40 ASCII bytes, 151–170 serial number; coil 409 0x0000 U/I/P, 0xFF00 U/I/R;
 * state bits 7, 9–10, 11) and the Python package ea_driver (EAPSB10060_60, decode_ea_device_state: bits
 * 9–10 0 CV, 1 CR, 2 CC, 3 CP; 16 OVP, 17 OCP, 18 OPP, 19 OT). Both agree with this map there; ea_driver
 * differs on power fail (bits 21–23, here 20) and takes the sink flag from bit 12 (here 31, the guide's
 * §4.11.5.2 as issue 12 read it): still open until checked against the guide or an instrument.
 *
 *   FC03  1–20 device type (ASCII), 151–170 serial number (ASCII), 498–502 set values, 505–506 state,
 *         507–509 actual U, I (unsigned magnitude [PG §8.3.5.2]), P; other addresses: exception 2
 *   state 505 high word, 506 low word of one 32-bit value [PG §4.11.5.2]: bits 0–4 control location
 *         (USB when remote), bit 7 output on, bits 9–10 regulation (0 CV, 2 CC, 3 CP — unconfirmed),
 *         bit 11 remote, bit 15 alarms active, bits 16–20 OVP, OCP, OPP, OT, PF (unconfirmed), bit 31
 *         sink mode (set while the instrument sinks current) [PG §4.11.5.2]
 *   FC01  coils 402 (remote), 405 (output), 409 (operation mode: OFF U/I/P, ON U/I/R)
 *   FC05  coil 402 remote on/off; coil 405 output on/off (exception 4 unless remote — the emulator's
 *         choice for "not in remote"; also while an alarm is latched); coil 409 U/I/P / U/I/R
 *         (exception 4 unless remote); coil 411 ON acknowledges the latched alarms [PG §4.11.2]
 *   FC06 / FC16  498–502 (exception 4 unless remote, exception 3 above 102 % = 53477)
 *
 * Alarms latch: trip("OVP") sets bit 15 and the alarm's bit and switches the output off; the bits stay
 * set, whatever the cause does, until coil 411 is written ON or acknowledge() (the operator at the front
 * panel) clears them [PG §4.11.2].
 * In U/I/R the resistance set value (option resistanceOhm, the front panel's value; 0 = none) acts:
 * the current either way is limited to |U set − cell open-circuit voltage| / R.
 *
 * Options (all optional):
 *   unit: 1   model: "PSB 10060-60"   serial: "2411230001"   nominal: { voltageV: 60, currentA: 60, powerW: 1500 }
 *   operationMode: "UIP" | "UIR" (default "UIP")   resistanceOhm: 0
 *   cell: { chemistry, capacityAh }   initialSoc: 0.5
 *   framing: "rtu" | "tcp" (default by listen address)   linkTiming: false   baud: 115200 (for link
 *   timing when the listen address names none)   turnaroundMs: 2 (device reply latency under link timing)
 *   faults: { timeout, badCrc, garbage: { bytes }, wrongUnit, exception: { code }, lateReply: { delayMs },
 *             disconnect: { forMs } }
 */
import type { ModbusRequest, ModbusResponse } from "../../protocols/modbus/modbus-pdu.js";
import { SystemClock } from "../clock.js";
import { SupplyCell, type SupplyDrive } from "./ea-itech-supply-physics.js";
import { initialPsbSetValues, type PsbSetValues, readPsbOptions } from "./ea-psb-scpi-emulator.js";
import { FaultDeck } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import { readLinkTiming } from "./link-timing.js";
import { framingFor, MODBUS_FAULT_KNOBS, type ModbusFaults } from "./modbus-line.js";
import { attachModbusUnits, readRegisterBlock } from "./modbus-unit-wiring.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const EA_PSB_MODBUS_EMULATOR = "ea/psb-modbus";

/** 100 % of a rating [PG MB: "Translating set values and actual values"; instruments.md]. */
const FULL_SCALE = 0xcccc;
/** 102 % of a rating, the most a set value may be [PG MB: "Translating set values"]. */
const MAX_RAW = 53_477;

/** Register and coil addresses [PG MB register list; instruments.md]; see the header for the unconfirmed. */
const REG = {
  deviceType: 1,
  serial: 151,
  remoteCoil: 402,
  outputCoil: 405,
  operationModeCoil: 409,
  acknowledgeAlarmsCoil: 411,
  sinkPower: 498,
  sinkCurrent: 499,
  voltage: 500,
  sourceCurrent: 501,
  sourcePower: 502,
  state: 505,
  actualVoltage: 507,
  actualCurrent: 508,
  actualPower: 509,
} as const;

/** Device state bits [PG §4.11.5.2]. */
const STATE = {
  controlUsb: 0x03,
  outputOn: 1 << 7,
  regulationShift: 9,
  remote: 1 << 11,
  alarmsActive: 1 << 15,
  sinkMode: 0x8000_0000,
} as const;

/** Alarms the emulator can latch and their state bits (positions unconfirmed, see the header). */
export const EA_MODBUS_EMULATOR_ALARMS = { OVP: 16, OCP: 17, OPP: 18, OT: 19, PF: 20 } as const;
export type EaModbusAlarm = keyof typeof EA_MODBUS_EMULATOR_ALARMS;

export interface EaPsbModbusEmulator extends RunningEmulator {
  readonly unit: number;
  readonly supply: SupplyCell;
  readonly faults: FaultDeck<ModbusFaults>;
  readonly setValues: Readonly<PsbSetValues>;
  readonly outputOn: boolean;
  readonly remote: boolean;
  /** U/I/P or U/I/R, as coil 409 last set it (or the option). */
  readonly operationMode: "UIP" | "UIR";
  /** The latched alarms, by name ("alarm" for one latched by alarm(true)). */
  readonly alarms: readonly string[];
  /** How many times coil 411 (acknowledge alarms) was written ON. */
  readonly acknowledgements: number;
  /** Switches the mode as the front panel would. */
  setOperationMode(mode: "UIP" | "UIR"): void;
  /** Latches an alarm (bit 15 and its own bit) and switches the output off. */
  trip(alarm: EaModbusAlarm): void;
  /** Clears the latched alarms as the operator does at the front panel. */
  acknowledge(): void;
  /** alarm(true) latches an alarm with no named bit (bit 15 only); alarm(false) acknowledges. */
  alarm(on: boolean): void;
  disconnectFor(ms: number): void;
}

/** Starts an emulated PSB 10000 on Modbus. */
export async function startEaPsbModbusEmulator(start: EmulatorStartOptions): Promise<EaPsbModbusEmulator> {
  const reader = new OptionReader(EA_PSB_MODBUS_EMULATOR, start.options);
  const unit = reader.integer("unit", 1, 1, 247);
  const { model, serial, nominal, cell } = readPsbOptions(reader);
  let operationMode = reader.choice<"UIP" | "UIR">("operationMode", "UIP", ["UIP", "UIR"]);
  const resistanceOhm = reader.number("resistanceOhm", 0, 0, 1e6);
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
  const latched = new Set<string>();
  let acknowledgements = 0;

  const registers: Record<number, { key: keyof PsbSetValues; nominal: number }> = {
    [REG.sinkPower]: { key: "sinkPowerW", nominal: nominal.powerW },
    [REG.sinkCurrent]: { key: "sinkCurrentA", nominal: nominal.currentA },
    [REG.voltage]: { key: "voltageV", nominal: nominal.voltageV },
    [REG.sourceCurrent]: { key: "sourceCurrentA", nominal: nominal.currentA },
    [REG.sourcePower]: { key: "sourcePowerW", nominal: nominal.powerW },
  };
  const toRaw = (value: number, rating: number) =>
    Math.min(0xffff, Math.max(0, Math.round((Math.abs(value) / rating) * FULL_SCALE)));
  const ascii = (text: string, first: number, address: number) => {
    const i = address - first;
    const code = (k: number) => (k < text.length ? text.charCodeAt(k) & 0xff : 0);
    return (code(2 * i) << 8) | code(2 * i + 1);
  };

  /** The drive of the cell: set values, each current limited through R in U/I/R. */
  const drive = (): SupplyDrive => {
    if (!outputOn || latched.size > 0) return { kind: "off" };
    if (operationMode === "UIP" || resistanceOhm <= 0) return { kind: "voltage-priority", ...set };
    const cell = supply.cell;
    const limit = Math.abs(set.voltageV - (cell.ocvV + cell.v1 + cell.v2)) / resistanceOhm;
    return {
      kind: "voltage-priority",
      ...set,
      sourceCurrentA: Math.min(set.sourceCurrentA, limit),
      sinkCurrentA: Math.min(set.sinkCurrentA, limit),
    };
  };
  const updateDrive = () => supply.setDrive(drive());

  /** Reads registers 505–509 from one consistent measurement. */
  const liveRegisters = (): Map<number, number> => {
    if (operationMode === "UIR") updateDrive();
    const m = supply.measure();
    const regulation = { off: 0, CV: 0, CC: 2, CP: 3 }[m.regulation];
    let state = regulation << STATE.regulationShift;
    if (remote) state |= STATE.controlUsb | STATE.remote;
    if (outputOn) state |= STATE.outputOn;
    if (m.currentA < 0) state |= STATE.sinkMode;
    if (latched.size > 0) state |= STATE.alarmsActive;
    for (const name of latched) {
      const bit = EA_MODBUS_EMULATOR_ALARMS[name as EaModbusAlarm];
      if (bit !== undefined) state |= 1 << bit;
    }
    state >>>= 0;
    return new Map([
      [REG.state, (state >>> 16) & 0xffff],
      [REG.state + 1, state & 0xffff],
      [REG.actualVoltage, toRaw(m.voltageV, nominal.voltageV)],
      [REG.actualCurrent, toRaw(m.currentA, nominal.currentA)],
      [REG.actualPower, toRaw(m.powerW, nominal.powerW)],
    ]);
  };

  const acknowledge = () => {
    latched.clear();
    updateDrive();
  };
  const trip = (name: string) => {
    latched.add(name);
    outputOn = false;
    updateDrive();
  };

  const readRegister = (address: number, live: () => Map<number, number>): number | undefined => {
    if (address >= REG.deviceType && address < REG.deviceType + 20)
      return ascii(model, REG.deviceType, address);
    if (address >= REG.serial && address < REG.serial + 20) return ascii(serial, REG.serial, address);
    const setValue = registers[address];
    if (setValue) return toRaw(set[setValue.key], setValue.nominal);
    if (address >= REG.state && address <= REG.actualPower) return live().get(address);
    return undefined;
  };

  const writeSetValue = (address: number, raw: number): number | undefined => {
    const setValue = registers[address];
    if (!setValue) return 2;
    if (!remote) return 4;
    if (raw > MAX_RAW) return 3;
    set[setValue.key] = (raw / FULL_SCALE) * setValue.nominal;
    return undefined;
  };

  const writeCoil = (address: number, value: boolean): number | undefined => {
    if (address === REG.remoteCoil) {
      remote = value;
      return undefined;
    }
    if (address === REG.outputCoil) {
      if (!remote) return 4;
      if (value && latched.size > 0) return 4;
      outputOn = value;
      updateDrive();
      return undefined;
    }
    if (address === REG.operationModeCoil) {
      if (!remote) return 4;
      operationMode = value ? "UIR" : "UIP";
      updateDrive();
      return undefined;
    }
    if (address === REG.acknowledgeAlarmsCoil) {
      if (value) {
        acknowledgements++;
        acknowledge();
      }
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
          else if (address === REG.remoteCoil) bits.push(remote);
          else if (address === REG.outputCoil) bits.push(outputOn);
          else if (address === REG.operationModeCoil) bits.push(operationMode === "UIR");
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
    get operationMode() {
      return operationMode;
    },
    get alarms() {
      return [...latched];
    },
    get acknowledgements() {
      return acknowledgements;
    },
    setOperationMode: (mode) => {
      operationMode = mode;
      updateDrive();
    },
    trip: (name) => trip(name),
    acknowledge,
    alarm: (on) => (on ? trip("alarm") : acknowledge()),
    disconnectFor: (ms) => attached.line.disconnectFor(ms),
    stop: attached.stop,
  };
}
