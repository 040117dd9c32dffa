import { describe, expect, it } from "vitest";
import type { TemperatureInputReading } from "../../../drivers/capabilities.js";
import { ModbusTemperatureInputs } from "../../../drivers/modbus/temperature-inputs.js";
import { fromFloat32, fromInt16 } from "../../../protocols/modbus/modbus-values.js";
import { expectModbusExchange, type ModbusExchange, type Transcript } from "../../support/transcript.js";
import { rejection } from "../../support/wait.js";

const read = (fc: 3 | 4, address: number, quantity: number, values: number[]): ModbusExchange => ({
  request: { functionCode: fc, address, quantity },
  response: { functionCode: fc, values },
});
const silent = (fc: 3 | 4, address: number, quantity: number): ModbusExchange => ({
  request: { functionCode: fc, address, quantity },
  response: null,
});

function module(t: Transcript, options: Record<string, unknown>, unit = 1): ModbusTemperatureInputs {
  return new ModbusTemperatureInputs({
    id: "ti1",
    driver: "modbus/temperature-inputs",
    transport: `${t.url}?unit=${unit}`,
    // A generous reply timeout: a timeout under a loaded machine would retry and break the transcript.
    options: { timeoutMs: 1000, retryMs: 50, ...options },
  });
}

const ok = (temperatureC: number): TemperatureInputReading => ({ ok: true, temperatureC });
const RTU = { framing: "rtu" } as const;
const r4dcb08Temps = (c: number[]) => c.map((v) => fromInt16(Math.round(v * 10)));
const floats = (c: number[]) => c.flatMap((v) => fromFloat32(v, "high-first"));

describe("modbus/temperature-inputs transcript", () => {
  it("R4DCB08: checks query mode (0x00FD), then reads CH1..CH8 with one FC03 request; 0x8000 is an open sensor", async () => {
    const temps = [21.9, -11.2, 25, 0, -0.1, 124.9, 30, 22.5];
    await expectModbusExchange(
      [
        read(3, 0x00fd, 1, [0]),
        read(3, 0, 8, r4dcb08Temps(temps)),
        read(3, 0, 8, [0x00db, 0xff90, 0x8000, ...r4dcb08Temps(temps.slice(3))]),
      ],
      async (t) => {
        const dev = module(t, { preset: "eletechsup-r4dcb08" });
        expect(dev.channels).toEqual([]);
        expect(dev.temperatureInputs.inputs).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
        await dev.connect();
        const scan = await dev.temperatureInputs.scan();
        // The worked examples of the protocol sheet: 0x00DB = 21.9 °C, 0xFF90 = -11.2 °C.
        expect(scan.get("1")).toEqual(ok(21.9));
        expect(scan.get("2")).toEqual(ok(-11.2));
        const r3 = scan.get("3");
        expect(r3).toMatchObject({ ok: false, fault: "open" });
        expect(r3?.ok === false && r3.detail).toMatch(/input 3 reads 0x8000.*open-sensor/);
        expect(scan.get("6")).toEqual(ok(124.9));
        await dev.close();
      },
      RTU,
    );
  });

  it("R4DCB08: refuses a module in automatic-report mode, saying which register to write", async () => {
    await expectModbusExchange(
      [read(3, 0x00fd, 1, [10])],
      async (t) => {
        const err = await rejection(module(t, { preset: "eletechsup-r4dcb08" }).connect());
        expect(err.code).toBe("TEMPERATURE_INPUTS_BAD_CONFIG");
        expect(err.message).toMatch(/0x00FD = 10 s.*write 0 to register 0x00FD/);
      },
      RTU,
    );
  });

  it("DAM-PT100: reads floats high word first with FC04 from 0x0032; outside -200..650 °C is out of range", async () => {
    await expectModbusExchange(
      [
        read(4, 0x32, 6, floats([25, 25, 25])),
        read(4, 0x32, 6, floats([25.43, -40.5, 22])),
        read(4, 0x32, 6, [0x41cb, 0x70a4, ...floats([999.9]), 0x7fc0, 0x0000]),
      ],
      async (t) => {
        const dev = module(t, { preset: "juying-dam-pt100", inputs: [1, 2, 3] }, 7);
        await dev.connect();
        const scan = await dev.temperatureInputs.scan();
        // The sheet's example: 41 CB 70 A4 is 25.43 °C.
        expect([...scan.values()]).toEqual([ok(25.43), ok(-40.5), ok(22)]);
        const bad = await dev.temperatureInputs.scan();
        expect(bad.get("1")).toEqual(ok(25.43));
        expect(bad.get("2")).toMatchObject({ ok: false, fault: "out-of-range" });
        expect(bad.get("3")).toMatchObject({ ok: false, fault: "out-of-range" });
        await dev.close();
      },
      { framing: "rtu", unit: 7 },
    );
  });

  it("explicit map: int16 × scale on FC04 with open and overload values; non-contiguous inputs in one request", async () => {
    await expectModbusExchange(
      [read(4, 100, 5, [0, 0, 0, 0, 0]), read(4, 100, 5, [2500, 0xabcd, 0x7fff, 0xabcd, 0x8000])],
      async (t) => {
        const dev = module(t, {
          functionCode: 4,
          registerBase: 100,
          dataType: "int16",
          scale: 0.01,
          openValue: 0x8000,
          overloadValue: 32767,
          inputs: [5, 1, 3],
        });
        expect(dev.temperatureInputs.inputs).toEqual(["1", "3", "5"]);
        await dev.connect();
        const scan = await dev.temperatureInputs.scan();
        expect(scan.get("1")).toEqual(ok(25));
        expect(scan.get("3")).toMatchObject({ ok: false, fault: "overload" });
        expect(scan.get("5")).toMatchObject({ ok: false, fault: "open" });
        expect(scan.has("2")).toBe(false);
        await dev.close();
      },
      RTU,
    );
  });

  it("explicit map: float32 low word first, split into requests of at most 125 registers", async () => {
    const lo = (c: number) => fromFloat32(c, "low-first");
    await expectModbusExchange(
      [read(3, 0, 2, lo(20)), read(3, 200, 2, lo(21)), read(3, 0, 2, lo(20.5)), read(3, 200, 2, lo(-5.25))],
      async (t) => {
        const dev = module(t, {
          functionCode: 3,
          registerBase: 0,
          dataType: "float32",
          wordOrder: "low-first",
          inputs: [1, 101],
        });
        await dev.connect();
        expect([...(await dev.temperatureInputs.scan()).values()]).toEqual([ok(20.5), ok(-5.25)]);
        await dev.close();
      },
      RTU,
    );
  });

  it("a module that does not answer fails the connect, then a scan with a typed Modbus error", async () => {
    await expectModbusExchange(
      [silent(3, 0x00fd, 1)],
      async (t) => {
        const err = await rejection(module(t, { preset: "eletechsup-r4dcb08", timeoutMs: 50 }).connect());
        expect(err.code).toBe("MODBUS_TIMEOUT");
      },
      RTU,
    );
    await expectModbusExchange(
      [read(3, 0x00fd, 1, [0]), read(3, 0, 8, r4dcb08Temps(Array(8).fill(25))), silent(3, 0, 8)],
      async (t) => {
        const dev = module(t, { preset: "eletechsup-r4dcb08", timeoutMs: 100 });
        await dev.connect();
        expect((await rejection(dev.temperatureInputs.scan())).code).toBe("MODBUS_TIMEOUT");
        await dev.close();
        expect((await rejection(dev.temperatureInputs.scan())).code).toBe("TEMPERATURE_INPUTS_NOT_CONNECTED");
      },
      RTU,
    );
  });

  it("refuses options it cannot use, naming what to change", () => {
    const bad = (options: Record<string, unknown>, channels?: string[]) => {
      try {
        new ModbusTemperatureInputs({
          id: "ti1",
          driver: "modbus/temperature-inputs",
          transport: "memory://nowhere",
          options,
          ...(channels ? { channels } : {}),
        });
      } catch (err) {
        const e = err as Error & { code?: string };
        expect(e.code).toBe("TEMPERATURE_INPUTS_BAD_OPTIONS");
        return e.message;
      }
      throw new Error(`accepted ${JSON.stringify(options)}`);
    };
    expect(bad({ preset: "adam-4018" })).toMatch(
      /preset must be one of eletechsup-r4dcb08, juying-dam-pt100/,
    );
    expect(bad({ inputs: [1] })).toMatch(/functionCode is required without a preset/);
    expect(bad({ functionCode: 6, registerBase: 0, dataType: "int16", scale: 1, inputs: [1] })).toMatch(
      /functionCode must be an integer in \[3, 4\]/,
    );
    expect(bad({ functionCode: 4, registerBase: 0, dataType: "int16", inputs: [1] })).toMatch(/scale/);
    expect(bad({ functionCode: 4, registerBase: 0, dataType: "float32", inputs: [1] })).toMatch(/wordOrder/);
    expect(
      bad({
        functionCode: 4,
        registerBase: 0,
        dataType: "float32",
        scale: 0.1,
        wordOrder: "high-first",
        inputs: [1],
      }),
    ).toMatch(/scale applies to dataType "int16" only/);
    expect(bad({ preset: "eletechsup-r4dcb08", inputs: [0, 9] })).toMatch(
      /inputs must be a list of input numbers in 1..8/,
    );
    expect(bad({ preset: "eletechsup-r4dcb08", inputs: [2, 2] })).toMatch(/lists an input twice/);
    expect(bad({ preset: "eletechsup-r4dcb08", openValue: 70000 })).toMatch(
      /openValue must be a raw register value/,
    );
    expect(bad({ preset: "eletechsup-r4dcb08", inputz: [1] })).toMatch(/unknown option "inputz"/);
    expect(bad({ preset: "eletechsup-r4dcb08" }, ["ch1"])).toMatch(
      /under options.inputs instead of channels/,
    );
    expect(
      bad({
        functionCode: 3,
        registerBase: 65535,
        dataType: "float32",
        wordOrder: "high-first",
        inputs: [1],
      }),
    ).toMatch(/beyond 65535/);
  });
});
