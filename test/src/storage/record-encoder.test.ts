import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  CellRecord,
  ChamberRecord,
  CycleRecord,
  RunEventRecord,
  StepRecord,
} from "../../../src/run/records.js";
import { RecordEncoder } from "../../../src/storage/record-encoder.js";
import { type Influxd, startInfluxd } from "../../support/influxd.js";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function cellRecord(overrides: Partial<CellRecord> = {}): CellRecord {
  return {
    channel: "ch1",
    run: "R20261125-0007",
    cell: "NMC-0042",
    tWallMs: T0,
    testTimeS: 5412.37,
    stepTimeS: 12.5,
    voltageV: 4.1012,
    currentA: 1.2,
    temperatureC: 25.3,
    powerW: 4.92,
    chargeAh: 0.512,
    dischargeAh: 0.25,
    chargeWh: 2.01,
    dischargeWh: 0.9,
    stepIndex: 4,
    cycleIndex: 12,
    ...overrides,
  };
}

describe("RecordEncoder (pure)", () => {
  it("encodes a cell sample as in DESIGN §3: identity tags, unit-named fields, integer counters, ms time", () => {
    const line = new RecordEncoder("b1").cell(cellRecord());
    expect(line).toBe(
      "cell,bench=b1,cell=NMC-0042,channel=ch1,run=R20261125-0007 " +
        "voltage_v=4.1012,current_a=1.2,temperature_c=25.3,power_w=4.92,charge_ah=0.512,discharge_ah=0.25," +
        "charge_wh=2.01,discharge_wh=0.9,test_time_s=5412.37,step_time_s=12.5,step_index=4i,cycle_index=12i " +
        String(T0),
    );
  });

  it("cellBytes gives cell()'s line as UTF-8 for any record, and refuses what cell() refuses", () => {
    const decoder = new TextDecoder();
    const value = fc.oneof(
      fc.double(),
      fc.double({ min: -1e4, max: 1e4, noNaN: true }),
      fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 1e4),
      fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY),
    );
    const tag = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 });
    const record = fc.record({
      channel: tag,
      run: tag,
      cell: tag,
      tWallMs: fc.oneof(fc.double({ min: 0, max: 4e12, noNaN: true }), fc.constant(Number.NaN)),
      testTimeS: value,
      stepTimeS: value,
      voltageV: value,
      currentA: value,
      temperatureC: value,
      powerW: value,
      chargeAh: value,
      dischargeAh: value,
      chargeWh: value,
      dischargeWh: value,
      stepIndex: fc.oneof(fc.nat(), fc.constant(1.5)),
      cycleIndex: fc.oneof(fc.nat(), fc.constant(-1)),
      sensorsC: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value), {
        nil: undefined,
      }),
    });
    const outcome = (encode: () => string) => {
      try {
        return { line: encode() };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const enc = new RecordEncoder("b1");
    fc.assert(
      fc.property(record, (r) => {
        expect(outcome(() => decoder.decode(enc.cellBytes(r)))).toEqual(outcome(() => enc.cell(r)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("adds one field per configured sensor, named temperature_c_<device>_<input>, in both encodings", () => {
    const enc = new RecordEncoder("b1");
    const sensorsC = { "daq1:101": 24.5, "daq1:102": 27.25, "tc-mod.2:7": Number.NaN };
    const tail = `step_index=4i,cycle_index=12i,temperature_c_daq1_101=24.5,temperature_c_daq1_102=27.25 ${T0}`;
    expect(enc.cell(cellRecord({ temperatureC: 27.25, sensorsC }))).toMatch(
      new RegExp(`temperature_c=27.25,.*,${tail}$`),
    );
    // A value missing elsewhere (slow path) keeps the sensor fields.
    const slow = enc.cell(cellRecord({ temperatureC: 27.25, powerW: Number.NaN, sensorsC }));
    expect(slow).not.toContain("power_w");
    expect(slow.endsWith(tail)).toBe(true);
  });

  it("adds a chamber's extra sensors as fields, even when the controller reads nothing", () => {
    const enc = new RecordEncoder("b1");
    const sensorsC = { "daq1:110": 30.5 };
    expect(
      enc.chamber({ chamber: "tc1", tWallMs: T0, temperatureC: 25, setpointC: 25, outputPct: 1, sensorsC }),
    ).toBe(
      `chamber,bench=b1,chamber=tc1 temperature_c=25,setpoint_c=25,output_pct=1,temperature_c_daq1_110=30.5 ${T0}`,
    );
    const nan = Number.NaN;
    expect(
      enc.chamber({
        chamber: "tc1",
        tWallMs: T0,
        temperatureC: nan,
        setpointC: nan,
        outputPct: nan,
        sensorsC,
      }),
    ).toBe(`chamber,bench=b1,chamber=tc1 temperature_c_daq1_110=30.5 ${T0}`);
  });

  it("encodes chamber readings, run events and cycles", () => {
    const enc = new RecordEncoder("b1");
    expect(
      enc.chamber({ chamber: "tc1", tWallMs: T0, temperatureC: 25.02, setpointC: 25, outputPct: 31.5 }),
    ).toBe(`chamber,bench=b1,chamber=tc1 temperature_c=25.02,setpoint_c=25,output_pct=31.5 ${T0}`);
    expect(
      enc.runEvent({
        channel: "ch1",
        run: "R7",
        tWallMs: T0,
        state: "faulted",
        reason: "temperature 61.2 °C > 60 °C",
        stepIndex: 4,
      }),
    ).toBe(
      `run_event,bench=b1,channel=ch1,run=R7 state="faulted",reason="temperature 61.2 °C > 60 °C",step_index=4i ${T0}`,
    );
    expect(
      enc.cycle({
        channel: "ch1",
        run: "R7",
        cell: "C1",
        tWallMs: T0,
        cycleIndex: 3,
        chargeAh: 1,
        dischargeAh: 0.98,
        chargeWh: 4,
        dischargeWh: 3.7,
        coulombicEfficiency: Number.NaN,
        energyEfficiency: 0.925,
        capacityRetention: 0.98,
        minTemperatureC: 24.8,
        maxTemperatureC: 27.1,
      }),
    ).toBe(
      "cycle,bench=b1,cell=C1,channel=ch1,run=R7 cycle_index=3i,charge_ah=1,discharge_ah=0.98,charge_wh=4," +
        `discharge_wh=3.7,energy_efficiency=0.925,capacity_retention=0.98,min_temperature_c=24.8,max_temperature_c=27.1 ${T0}`,
    );
    expect(
      enc.step({
        channel: "ch1",
        run: "R7",
        cell: "C1",
        tWallMs: T0 + 5,
        stepIndex: 12,
        cycleIndex: 0,
        stepId: 7,
        path: "steps[3].steps[0]",
        type: "cc_discharge",
        endReason: 'step time 10 s "pulse"',
        durationS: 10,
        chargeAh: 0,
        dischargeAh: 0.0083,
        chargeWh: 0,
        dischargeWh: 0.031,
        startVoltageV: 3.71,
        endVoltageV: 3.62,
        maxTemperatureC: Number.NaN,
        dcirOhm: { s0p1: 0.021, s10: 0.03 },
      }),
    ).toBe(
      'step,bench=b1,cell=C1,channel=ch1,run=R7 step_index=12i,cycle_index=0i,step_id=7i,path="steps[3].steps[0]",' +
        'step_type="cc_discharge",end_reason="step time 10 s \\"pulse\\"",duration_s=10,charge_ah=0,discharge_ah=0.0083,' +
        "charge_wh=0,discharge_wh=0.031,start_voltage_v=3.71,end_voltage_v=3.62,dcir_0p1s_ohm=0.021,dcir_10s_ohm=0.03 " +
        `${T0 + 5}`,
    );
  });

  it("leaves out non-finite fields rather than writing NaN", () => {
    const line = new RecordEncoder("b1").cell(cellRecord({ temperatureC: Number.NaN }));
    expect(line).not.toContain("temperature_c");
    expect(line).toContain("voltage_v=4.1012");
  });

  it("moves a second event of the same series and millisecond 1 ms later instead of overwriting the first", () => {
    const enc = new RecordEncoder("b1");
    const e: RunEventRecord = {
      channel: "ch1",
      run: "R7",
      tWallMs: T0,
      state: "running",
      reason: "",
      stepIndex: 5,
    };
    const a = enc.runEvent(e);
    const b = enc.runEvent({ ...e, state: "faulted" });
    const c = enc.runEvent({ ...e, channel: "ch2" });
    expect(a.endsWith(` ${T0}`)).toBe(true);
    expect(b.endsWith(` ${T0 + 1}`)).toBe(true);
    expect(c.endsWith(` ${T0}`)).toBe(true);
  });

  it("refuses a non-integer step index and an empty bench", () => {
    expect(() => new RecordEncoder("b1").cell(cellRecord({ stepIndex: 1.5 }))).toThrow(/stepIndex/);
    expect(() => new RecordEncoder("b1").cell(cellRecord({ cycleIndex: Number.NaN }))).toThrow(
      /cycleIndex must be an integer, got NaN/,
    );
    // The slow path (a value line protocol cannot carry) checks them too.
    expect(() =>
      new RecordEncoder("b1").cell(cellRecord({ voltageV: Number.NaN, stepIndex: 2 ** 53 })),
    ).toThrow(/stepIndex must be an integer/);
    expect(() => new RecordEncoder("")).toThrow(/bench/);
  });
});

describe("RecordEncoder round trip through a real influxd", () => {
  let influxd: Influxd;
  const db = "roundtrip";

  beforeAll(async () => {
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${db}`);
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  async function write(lines: string[]): Promise<void> {
    const res = await fetch(`${influxd.url}/write?db=${db}&precision=ms`, {
      method: "POST",
      body: lines.join("\n"),
    });
    expect(res.status, await res.text()).toBe(204);
  }

  type Series = { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> };
  async function select(q: string): Promise<Series[]> {
    const json = (await influxd.query(q, { db })) as { results: { series?: Series[]; error?: string }[] };
    expect(json.results[0]?.error).toBeUndefined();
    return json.results[0]?.series ?? [];
  }

  function rowsAsObjects(series: Series): Record<string, unknown>[] {
    return series.values.map((row) => Object.fromEntries(series.columns.map((c, i) => [c, row[i]])));
  }

  it("reads back every field and tag exactly, including awkward tag values and extreme floats", async () => {
    const enc = new RecordEncoder("bench 1,a=b");
    const records: CellRecord[] = [
      cellRecord({ run: "run with spaces", cell: "cell,with,commas", channel: "ch=1" }),
      cellRecord({
        tWallMs: T0 + 1,
        run: "run with spaces",
        cell: "cell,with,commas",
        channel: "ch=1",
        voltageV: 1e-7,
        currentA: -1.5e21,
        temperatureC: -0,
        powerW: Number.MAX_VALUE,
        chargeAh: 5e-324,
        dischargeAh: 0.1 + 0.2,
        chargeWh: -123456.789012345,
        dischargeWh: 2 ** 53,
        stepIndex: Number.MAX_SAFE_INTEGER,
        cycleIndex: -3,
      }),
    ];
    await write(records.map((r) => enc.cell(r)));
    const series = await select(
      `SELECT * FROM cell WHERE bench = 'bench 1,a=b' AND "run" = 'run with spaces' ORDER BY time`,
    );
    expect(series).toHaveLength(1);
    const rows = rowsAsObjects(series[0] as Series);
    expect(rows).toHaveLength(2);
    rows.forEach((row, i) => {
      const r = records[i] as CellRecord;
      expect(row).toEqual({
        time: r.tWallMs,
        bench: "bench 1,a=b",
        channel: r.channel,
        run: r.run,
        cell: r.cell,
        voltage_v: r.voltageV,
        current_a: r.currentA,
        temperature_c: r.temperatureC === 0 ? 0 : r.temperatureC,
        power_w: r.powerW,
        charge_ah: r.chargeAh,
        discharge_ah: r.dischargeAh,
        charge_wh: r.chargeWh,
        discharge_wh: r.dischargeWh,
        test_time_s: r.testTimeS,
        step_time_s: r.stepTimeS,
        step_index: r.stepIndex,
        cycle_index: r.cycleIndex,
      });
    });
  });

  it("reads back chamber readings, run events (quotes, backslashes, unicode) and cycles", async () => {
    const enc = new RecordEncoder("b-events");
    const chamber: ChamberRecord = {
      chamber: "tc 1",
      tWallMs: T0,
      temperatureC: -20.25,
      setpointC: -20,
      outputPct: 99.5,
    };
    const event: RunEventRecord = {
      channel: "ch1",
      run: "R=7",
      tWallMs: T0,
      state: "faulted",
      reason: 'temperature "61.2 °C" > 60 °C \\ watchdog\nsecond line',
      stepIndex: 4,
    };
    const cycle: CycleRecord = {
      channel: "ch1",
      run: "R=7",
      cell: "C 1",
      tWallMs: T0,
      cycleIndex: 2,
      chargeAh: 1.0123,
      dischargeAh: 0.9988,
      chargeWh: 3.9,
      dischargeWh: 3.6,
      coulombicEfficiency: 0.9988 / 1.0123,
      energyEfficiency: 3.6 / 3.9,
      capacityRetention: Number.NaN,
      minTemperatureC: 24.5,
      maxTemperatureC: 31.25,
    };
    const step: StepRecord = {
      channel: "ch1",
      run: "R=7",
      cell: "C 1",
      tWallMs: T0,
      stepIndex: 9,
      cycleIndex: 2,
      stepId: 5,
      path: "steps[2].steps[0]",
      type: "cccv_charge",
      endReason: 'current < C/20 "taper"',
      durationS: 5400.5,
      chargeAh: 1.0123,
      dischargeAh: 0,
      chargeWh: 3.9,
      dischargeWh: 0,
      startVoltageV: 3.4,
      endVoltageV: 4.2,
      maxTemperatureC: 27.5,
      dcirOhm: { s1: 0.042 },
    };
    await write([enc.chamber(chamber) as string, enc.runEvent(event), enc.cycle(cycle), enc.step(step)]);
    const [c] = await select(`SELECT * FROM chamber WHERE bench = 'b-events'`);
    expect(rowsAsObjects(c as Series)).toEqual([
      {
        time: T0,
        bench: "b-events",
        chamber: "tc 1",
        temperature_c: -20.25,
        setpoint_c: -20,
        output_pct: 99.5,
      },
    ]);
    const [e] = await select(`SELECT * FROM run_event WHERE bench = 'b-events'`);
    expect(rowsAsObjects(e as Series)).toEqual([
      {
        time: T0,
        bench: "b-events",
        channel: "ch1",
        run: "R=7",
        state: "faulted",
        reason: 'temperature "61.2 °C" > 60 °C \\ watchdog second line',
        step_index: 4,
      },
    ]);
    const [y] = await select(`SELECT * FROM cycle WHERE bench = 'b-events'`);
    expect(rowsAsObjects(y as Series)).toEqual([
      {
        time: T0,
        bench: "b-events",
        channel: "ch1",
        run: "R=7",
        cell: "C 1",
        cycle_index: 2,
        charge_ah: 1.0123,
        discharge_ah: 0.9988,
        charge_wh: 3.9,
        discharge_wh: 3.6,
        coulombic_efficiency: 0.9988 / 1.0123,
        energy_efficiency: 3.6 / 3.9,
        min_temperature_c: 24.5,
        max_temperature_c: 31.25,
      },
    ]);
    const [st] = await select(`SELECT * FROM step WHERE bench = 'b-events'`);
    expect(rowsAsObjects(st as Series)).toEqual([
      {
        time: T0,
        bench: "b-events",
        channel: "ch1",
        run: "R=7",
        cell: "C 1",
        step_index: 9,
        cycle_index: 2,
        step_id: 5,
        path: "steps[2].steps[0]",
        step_type: "cccv_charge",
        end_reason: 'current < C/20 "taper"',
        duration_s: 5400.5,
        charge_ah: 1.0123,
        discharge_ah: 0,
        charge_wh: 3.9,
        discharge_wh: 0,
        start_voltage_v: 3.4,
        end_voltage_v: 4.2,
        max_temperature_c: 27.5,
        dcir_1s_ohm: 0.042,
      },
    ]);
  });

  it("round-trips arbitrary tag values and string fields (property, 200 generated values)", async () => {
    const enc = new RecordEncoder("b-prop");
    const tagValue = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 24 })
      .filter((s) => !/[\\\r\n]/.test(s) && s.trim() !== "");
    const values = fc.sample(fc.uniqueArray(tagValue, { minLength: 200, maxLength: 200 }), {
      numRuns: 1,
      seed: 42,
    })[0] as string[];
    values.push("a b", "a,b", "a=b", " leading", "trailing ", "x=1,y=2 z", '"quoted"', "°C µ 🔋");
    await write(
      values.map((v, i) =>
        enc.runEvent({ channel: "ch1", run: v, tWallMs: T0 + i, state: "running", reason: v, stepIndex: i }),
      ),
    );
    const [series] = await select(
      `SELECT "run", reason, step_index FROM run_event WHERE bench = 'b-prop' ORDER BY time`,
    );
    const rows = rowsAsObjects(series as Series);
    expect(rows).toHaveLength(values.length);
    rows.forEach((row, i) => {
      expect(row.run).toBe(values[i]);
      expect(row.reason).toBe(values[i]);
      expect(row.step_index).toBe(i);
    });
  });
});
