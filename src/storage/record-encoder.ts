/**
 * Turns the daemon's records (src/run/records.ts) into InfluxDB line protocol, once, when a sample
 * is logged (DESIGN §2, §3). Precision ms. Tags are only identities (bench, channel, run, cell,
 * chamber); every measured or counted value is a field, named with its unit. Current and power:
 * positive = charge.
 *
 *   cell,bench=b1,cell=NMC-0042,channel=ch1,run=R7 voltage_v=4.1012,current_a=1.2,...,step_index=4i,cycle_index=12i 1764100000123
 */
import type { CellRecord, ChamberRecord, CycleRecord, RunEventRecord, StepRecord } from "../run/records.js";
import { LineProtocolError } from "./errors.js";
import {
  checkInteger,
  escapeKey,
  formatFloat,
  formatInteger,
  formatTimestampMs,
  quoteFieldString,
  seriesPrefix,
} from "./line-protocol.js";

export const MEASUREMENTS = {
  cell: "cell",
  chamber: "chamber",
  runEvent: "run_event",
  cycle: "cycle",
  step: "step",
} as const;

/** Field keys of the `cell` measurement (the export and the continuous queries read the same names). */
export const CELL_FIELDS = {
  voltageV: "voltage_v",
  currentA: "current_a",
  temperatureC: "temperature_c",
  powerW: "power_w",
  chargeAh: "charge_ah",
  dischargeAh: "discharge_ah",
  chargeWh: "charge_wh",
  dischargeWh: "discharge_wh",
  testTimeS: "test_time_s",
  stepTimeS: "step_time_s",
  stepIndex: "step_index",
  cycleIndex: "cycle_index",
} as const;

export const CHAMBER_FIELDS = {
  temperatureC: "temperature_c",
  setpointC: "setpoint_c",
  outputPct: "output_pct",
} as const;

export const RUN_EVENT_FIELDS = { state: "state", reason: "reason", stepIndex: "step_index" } as const;

export const CYCLE_FIELDS = {
  cycleIndex: "cycle_index",
  chargeAh: "charge_ah",
  dischargeAh: "discharge_ah",
  chargeWh: "charge_wh",
  dischargeWh: "discharge_wh",
  /** Dimensionless (discharge Ah / charge Ah); left out when nothing was charged. */
  coulombicEfficiency: "coulombic_efficiency",
  /** Dimensionless (discharge Wh / charge Wh); left out when nothing was charged. */
  energyEfficiency: "energy_efficiency",
  /** Dimensionless: discharge Ah / the cell's first cycle's; left out until that is known. */
  capacityRetention: "capacity_retention",
  minTemperatureC: "min_temperature_c",
  maxTemperatureC: "max_temperature_c",
} as const;

/** Field keys of the `step` measurement: one point per completed step, at its end. */
export const STEP_FIELDS = {
  stepIndex: "step_index",
  cycleIndex: "cycle_index",
  stepId: "step_id",
  path: "path",
  type: "step_type",
  endReason: "end_reason",
  durationS: "duration_s",
  chargeAh: "charge_ah",
  dischargeAh: "discharge_ah",
  chargeWh: "charge_wh",
  dischargeWh: "discharge_wh",
  startVoltageV: "start_voltage_v",
  endVoltageV: "end_voltage_v",
  maxTemperatureC: "max_temperature_c",
  dcir0p1sOhm: "dcir_0p1s_ohm",
  dcir1sOhm: "dcir_1s_ohm",
  dcir10sOhm: "dcir_10s_ohm",
} as const;

const PREFIX_CACHE_LIMIT = 1024;

/** A series' `measurement,tags` prefix, as text and as UTF-8 bytes. */
interface Series {
  text: string;
  bytes: Uint8Array;
}

const ascii = (text: string) => Buffer.from(text, "latin1");
/** What `cell()` writes before each value, and before the timestamp, as bytes. */
const CELL_KEYS = {
  voltageV: ascii(` ${CELL_FIELDS.voltageV}=`),
  currentA: ascii(`,${CELL_FIELDS.currentA}=`),
  temperatureC: ascii(`,${CELL_FIELDS.temperatureC}=`),
  powerW: ascii(`,${CELL_FIELDS.powerW}=`),
  chargeAh: ascii(`,${CELL_FIELDS.chargeAh}=`),
  dischargeAh: ascii(`,${CELL_FIELDS.dischargeAh}=`),
  chargeWh: ascii(`,${CELL_FIELDS.chargeWh}=`),
  dischargeWh: ascii(`,${CELL_FIELDS.dischargeWh}=`),
  testTimeS: ascii(`,${CELL_FIELDS.testTimeS}=`),
  stepTimeS: ascii(`,${CELL_FIELDS.stepTimeS}=`),
  stepIndex: ascii(`,${CELL_FIELDS.stepIndex}=`),
  cycleIndex: ascii(`i,${CELL_FIELDS.cycleIndex}=`),
};
const I = 0x69;
const SPACE = 0x20;
/** Room a fast-path line needs beyond its prefix and sensors: 12 numbers of at most 25 characters, keys and time. */
const CELL_VALUES_ROOM = 512;
const EVENT_SERIES_LIMIT = 10_000;

/**
 * Encodes records for one bench. Series prefixes are cached, so encoding a sample is string
 * concatenation only. Events and cycles of one series never share a millisecond: InfluxDB keeps one
 * point per series and timestamp, so a second event in the same millisecond (a step end and a fault,
 * say) would silently replace the first; it is moved 1 ms later instead.
 */
export class RecordEncoder {
  readonly bench: string;
  private readonly prefixes = new Map<string, Map<string, Map<string, Map<string, Series>>>>();
  private cachedPrefixes = 0;
  private readonly lastEventMs = new Map<string, number>();
  private scratch = Buffer.alloc(4096);

  constructor(bench: string) {
    // Validates the bench name once, with a message that names the setting.
    if (bench === "") throw new LineProtocolError("bench name is empty; set `bench` in the configuration");
    seriesPrefix("cell", { bench });
    this.bench = bench;
  }

  /** Encodes one logged cell sample. */
  cell(r: CellRecord): string {
    const prefix = this.prefix("cell", r.channel, r.run, r.cell);
    const { stepIndex, cycleIndex } = r;
    // Checked here, written in the template below: no intermediate `12i` strings per sample.
    checkInteger(stepIndex, "stepIndex");
    checkInteger(cycleIndex, "cycleIndex");
    const time = formatTimestampMs(r.tWallMs);
    const { voltageV, currentA, temperatureC, powerW, chargeAh, dischargeAh, chargeWh, dischargeWh } = r;
    const { testTimeS, stepTimeS } = r;
    if (
      Number.isFinite(voltageV) &&
      Number.isFinite(currentA) &&
      Number.isFinite(temperatureC) &&
      Number.isFinite(powerW) &&
      Number.isFinite(chargeAh) &&
      Number.isFinite(dischargeAh) &&
      Number.isFinite(chargeWh) &&
      Number.isFinite(dischargeWh) &&
      Number.isFinite(testTimeS) &&
      Number.isFinite(stepTimeS)
    ) {
      // Fast path (every value present): one template, no intermediate strings per field.
      return (
        `${prefix} voltage_v=${voltageV},current_a=${currentA},temperature_c=${temperatureC},power_w=${powerW},` +
        `charge_ah=${chargeAh},discharge_ah=${dischargeAh},charge_wh=${chargeWh},discharge_wh=${dischargeWh},` +
        `test_time_s=${testTimeS},step_time_s=${stepTimeS},step_index=${stepIndex}i,cycle_index=${cycleIndex}i` +
        `${sensorFields(r.sensorsC)} ${time}`
      );
    }
    let fields = "";
    fields = float(fields, CELL_FIELDS.voltageV, voltageV);
    fields = float(fields, CELL_FIELDS.currentA, currentA);
    fields = float(fields, CELL_FIELDS.temperatureC, temperatureC);
    fields = float(fields, CELL_FIELDS.powerW, powerW);
    fields = float(fields, CELL_FIELDS.chargeAh, chargeAh);
    fields = float(fields, CELL_FIELDS.dischargeAh, dischargeAh);
    fields = float(fields, CELL_FIELDS.chargeWh, chargeWh);
    fields = float(fields, CELL_FIELDS.dischargeWh, dischargeWh);
    fields = float(fields, CELL_FIELDS.testTimeS, testTimeS);
    fields = float(fields, CELL_FIELDS.stepTimeS, stepTimeS);
    fields += `${fields ? "," : ""}step_index=${stepIndex}i,cycle_index=${cycleIndex}i${sensorFields(r.sensorsC)}`;
    return `${prefix} ${fields} ${time}`;
  }

  /**
   * `cell(r)` as UTF-8 bytes, written into a scratch buffer that the next call overwrites (copy them
   * before then). With every value present no line string is built: the line's pieces, its number
   * strings aside, were a kilobyte of garbage per sample on the sampling thread. A line with a
   * missing value takes cell()'s own path.
   */
  cellBytes(r: CellRecord): Uint8Array {
    const { voltageV, currentA, temperatureC, powerW, chargeAh, dischargeAh, chargeWh, dischargeWh } = r;
    const { testTimeS, stepTimeS, stepIndex, cycleIndex } = r;
    if (
      !Number.isFinite(voltageV) ||
      !Number.isFinite(currentA) ||
      !Number.isFinite(temperatureC) ||
      !Number.isFinite(powerW) ||
      !Number.isFinite(chargeAh) ||
      !Number.isFinite(dischargeAh) ||
      !Number.isFinite(chargeWh) ||
      !Number.isFinite(dischargeWh) ||
      !Number.isFinite(testTimeS) ||
      !Number.isFinite(stepTimeS)
    )
      return this.scratchText(this.cell(r));
    const series = this.series("cell", r.channel, r.run, r.cell);
    checkInteger(stepIndex, "stepIndex");
    checkInteger(cycleIndex, "cycleIndex");
    const time = formatTimestampMs(r.tWallMs);
    const sensors = sensorFields(r.sensorsC);
    const room = series.bytes.length + CELL_VALUES_ROOM + 3 * sensors.length;
    if (this.scratch.length < room) this.scratch = Buffer.alloc(2 * room);
    const out = this.scratch;
    let at = copyInto(out, 0, series.bytes);
    const K = CELL_KEYS;
    at = writeAscii(out, copyInto(out, at, K.voltageV), String(voltageV));
    at = writeAscii(out, copyInto(out, at, K.currentA), String(currentA));
    at = writeAscii(out, copyInto(out, at, K.temperatureC), String(temperatureC));
    at = writeAscii(out, copyInto(out, at, K.powerW), String(powerW));
    at = writeAscii(out, copyInto(out, at, K.chargeAh), String(chargeAh));
    at = writeAscii(out, copyInto(out, at, K.dischargeAh), String(dischargeAh));
    at = writeAscii(out, copyInto(out, at, K.chargeWh), String(chargeWh));
    at = writeAscii(out, copyInto(out, at, K.dischargeWh), String(dischargeWh));
    at = writeAscii(out, copyInto(out, at, K.testTimeS), String(testTimeS));
    at = writeAscii(out, copyInto(out, at, K.stepTimeS), String(stepTimeS));
    at = writeAscii(out, copyInto(out, at, K.stepIndex), String(stepIndex));
    at = writeAscii(out, copyInto(out, at, K.cycleIndex), String(cycleIndex));
    out[at++] = I;
    if (sensors) at += out.write(sensors, at);
    out[at++] = SPACE;
    at = writeAscii(out, at, time);
    return out.subarray(0, at);
  }

  /** Encodes one chamber reading. Returns undefined when no value is finite (nothing to write). */
  chamber(r: ChamberRecord): string | undefined {
    const prefix = this.prefix("chamber", r.chamber);
    let fields = "";
    fields = float(fields, CHAMBER_FIELDS.temperatureC, r.temperatureC);
    fields = float(fields, CHAMBER_FIELDS.setpointC, r.setpointC);
    fields = float(fields, CHAMBER_FIELDS.outputPct, r.outputPct);
    fields += sensorFields(r.sensorsC);
    if (fields.startsWith(",")) fields = fields.slice(1);
    if (!fields) return undefined;
    return `${prefix} ${fields} ${formatTimestampMs(r.tWallMs)}`;
  }

  /** Encodes a run state change. */
  runEvent(r: RunEventRecord): string {
    const prefix = this.prefix("run_event", r.channel, r.run);
    const fields =
      `state=${quoteFieldString(r.state)},reason=${quoteFieldString(r.reason)},` +
      `step_index=${formatInteger(r.stepIndex, "stepIndex")}`;
    return `${prefix} ${fields} ${this.eventTime(prefix, r.tWallMs)}`;
  }

  /** Encodes a completed cycle's summary. */
  cycle(r: CycleRecord): string {
    const prefix = this.prefix("cycle", r.channel, r.run, r.cell);
    let fields = `cycle_index=${formatInteger(r.cycleIndex, "cycleIndex")}`;
    fields = float(fields, CYCLE_FIELDS.chargeAh, r.chargeAh);
    fields = float(fields, CYCLE_FIELDS.dischargeAh, r.dischargeAh);
    fields = float(fields, CYCLE_FIELDS.chargeWh, r.chargeWh);
    fields = float(fields, CYCLE_FIELDS.dischargeWh, r.dischargeWh);
    fields = float(fields, CYCLE_FIELDS.coulombicEfficiency, r.coulombicEfficiency);
    fields = float(fields, CYCLE_FIELDS.energyEfficiency, r.energyEfficiency);
    fields = float(fields, CYCLE_FIELDS.capacityRetention, r.capacityRetention);
    fields = float(fields, CYCLE_FIELDS.minTemperatureC, r.minTemperatureC);
    fields = float(fields, CYCLE_FIELDS.maxTemperatureC, r.maxTemperatureC);
    return `${prefix} ${fields} ${this.eventTime(prefix, r.tWallMs)}`;
  }

  /** Encodes a completed step's record. */
  step(r: StepRecord): string {
    const prefix = this.prefix("step", r.channel, r.run, r.cell);
    const F = STEP_FIELDS;
    let fields =
      `${F.stepIndex}=${formatInteger(r.stepIndex, "stepIndex")},${F.cycleIndex}=${formatInteger(r.cycleIndex, "cycleIndex")},` +
      `${F.stepId}=${formatInteger(r.stepId, "stepId")},` +
      `${F.path}=${quoteFieldString(r.path)},${F.type}=${quoteFieldString(r.type)},${F.endReason}=${quoteFieldString(r.endReason)}`;
    fields = float(fields, F.durationS, r.durationS);
    fields = float(fields, F.chargeAh, r.chargeAh);
    fields = float(fields, F.dischargeAh, r.dischargeAh);
    fields = float(fields, F.chargeWh, r.chargeWh);
    fields = float(fields, F.dischargeWh, r.dischargeWh);
    fields = float(fields, F.startVoltageV, r.startVoltageV);
    fields = float(fields, F.endVoltageV, r.endVoltageV);
    fields = float(fields, F.maxTemperatureC, r.maxTemperatureC);
    if (r.dcirOhm.s0p1 !== undefined) fields = float(fields, F.dcir0p1sOhm, r.dcirOhm.s0p1);
    if (r.dcirOhm.s1 !== undefined) fields = float(fields, F.dcir1sOhm, r.dcirOhm.s1);
    if (r.dcirOhm.s10 !== undefined) fields = float(fields, F.dcir10sOhm, r.dcirOhm.s10);
    return `${prefix} ${fields} ${this.eventTime(prefix, r.tWallMs)}`;
  }

  private prefix(kind: "cell" | "cycle" | "step", channel: string, run: string, cell: string): string;
  private prefix(kind: "run_event", channel: string, run: string): string;
  private prefix(kind: "chamber", chamber: string): string;
  private prefix(
    kind: "cell" | "cycle" | "step" | "run_event" | "chamber",
    a: string,
    b = "",
    c = "",
  ): string {
    return this.series(kind, a, b, c).text;
  }

  private series(
    kind: "cell" | "cycle" | "step" | "run_event" | "chamber",
    a: string,
    b: string,
    c: string,
  ): Series {
    // Nested maps: no key string is built per sample.
    const byA = this.prefixes.get(kind)?.get(a);
    const cached = byA?.get(b)?.get(c);
    if (cached !== undefined) return cached;
    const tags: Record<string, string> =
      kind === "chamber"
        ? { bench: this.bench, chamber: a }
        : kind === "run_event"
          ? { bench: this.bench, channel: a, run: b }
          : { bench: this.bench, channel: a, run: b, cell: c };
    const text = seriesPrefix(kind, tags);
    const built: Series = { text, bytes: Buffer.from(text, "utf8") };
    if (++this.cachedPrefixes > PREFIX_CACHE_LIMIT) {
      this.prefixes.clear();
      this.cachedPrefixes = 1;
    }
    const level1 = this.prefixes.get(kind) ?? new Map<string, Map<string, Map<string, Series>>>();
    this.prefixes.set(kind, level1);
    const level2 = level1.get(a) ?? new Map<string, Map<string, Series>>();
    level1.set(a, level2);
    const level3 = level2.get(b) ?? new Map<string, Series>();
    level2.set(b, level3);
    level3.set(c, built);
    return built;
  }

  /** `text` as UTF-8 in the scratch buffer (the path of lines with sensors or missing values). */
  private scratchText(text: string): Uint8Array {
    const worst = text.length * 3;
    if (this.scratch.length < worst) this.scratch = Buffer.alloc(2 * worst);
    return this.scratch.subarray(0, this.scratch.write(text, 0));
  }

  private eventTime(series: string, tWallMs: number): string {
    let t = Math.round(tWallMs);
    const last = this.lastEventMs.get(series);
    if (last !== undefined && t <= last && last - t < 1_000) t = last + 1;
    if (this.lastEventMs.size >= EVENT_SERIES_LIMIT && last === undefined) {
      const oldest = this.lastEventMs.keys().next().value;
      if (oldest !== undefined) this.lastEventMs.delete(oldest);
    }
    this.lastEventMs.set(series, t);
    return formatTimestampMs(t);
  }
}

/** Field key of one sensor's value (cell or chamber): `temperature_c_daq1_101` for sensor `daq1:101`. */
export function sensorFieldKey(sensor: string): string {
  return `${CELL_FIELDS.temperatureC}_${sensor.replace(/:/g, "_")}`;
}

/** `,temperature_c_<device>_<input>=<value>` for every sensor value line protocol can carry. */
function sensorFields(sensors: Record<string, number> | undefined): string {
  if (!sensors) return "";
  let fields = "";
  for (const [sensor, value] of Object.entries(sensors)) {
    const text = formatFloat(value);
    if (text !== undefined) fields += `,${escapeKey(sensorFieldKey(sensor), "sensor field key")}=${text}`;
  }
  return fields;
}

function float(fields: string, key: string, value: number): string {
  const text = formatFloat(value);
  if (text === undefined) return fields;
  return fields ? `${fields},${key}=${text}` : `${key}=${text}`;
}

function copyInto(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}

/** Writes `text`, which must be ASCII (a number's or a timestamp's digits). */
function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}
