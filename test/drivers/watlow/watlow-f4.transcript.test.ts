import { describe, expect, it } from "vitest";
import { WatlowF4 } from "../../../drivers/watlow/watlow-f4.js";
import { fromInt16 } from "../../../protocols/modbus/modbus-values.js";
import { expectModbusExchange, type ModbusExchange, type Transcript } from "../../support/transcript.js";
import { eventually, rejection } from "../../support/wait.js";

const read = (address: number, quantity: number, values: number[]): ModbusExchange => ({
  request: { functionCode: 0x03, address, quantity },
  response: { functionCode: 0x03, values },
});
const write = (address: number, value: number): ModbusExchange => ({
  request: { functionCode: 0x06, address, value },
  response: { functionCode: 0x06, address, value },
});

/** The connect sequence of a healthy F4 with `decimals` decimal places and limits [-40, 110] °C. */
function identify(decimals = 1, limits: [number, number] = [-40, 110]): ModbusExchange[] {
  const s = 10 ** decimals;
  return [
    read(0, 1, [5270]),
    read(606, 3, [decimals, 0, 0]),
    read(901, 1, [1]),
    read(602, 2, [fromInt16(limits[0] * s), fromInt16(limits[1] * s)]),
    read(200, 1, [0]),
  ];
}

function f4(t: Transcript, options: Record<string, unknown> = {}): WatlowF4 {
  return new WatlowF4({
    id: "tc1",
    driver: "watlow/f4",
    transport: `${t.url}?unit=1`,
    // A generous reply timeout: a timeout under a loaded machine would retry and break the transcript.
    options: { minGapMs: 0, timeoutMs: 1000, retryMs: 50, ...options },
  });
}

const RTU = { framing: "rtu" } as const;

describe("watlow/f4 transcript", () => {
  it("identifies the controller: model, decimals, units, °C, set point limits, mode", async () => {
    await expectModbusExchange(
      identify(1, [-70, 180]),
      async (t) => {
        const dev = f4(t, { rangeC: [-40, 150] });
        await dev.connect();
        expect(dev.chamber.decimals).toBe(1);
        expect(dev.chamber.ranges.temperatureC).toEqual([-40, 150]);
        await dev.close();
      },
      RTU,
    );
  });

  it("reads process value, set point and output scaled by register 606", async () => {
    await expectModbusExchange(
      [
        ...identify(2),
        read(100, 2, [fromInt16(-1234), 0]),
        read(300, 1, [fromInt16(-1500)]),
        read(103, 1, [4550]),
      ],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        expect(await dev.chamber.read()).toEqual({ temperatureC: -12.34, setpointC: -15, outputPct: 45.5 });
        await dev.close();
      },
      RTU,
    );
  });

  it("writes set point 1 with FC06, the safe state twice, and never register 25 (EEPROM)", async () => {
    await expectModbusExchange(
      [...identify(1), write(300, fromInt16(-205)), write(300, 220), write(300, 220)],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        await dev.chamber.setSetpoint(-20.5);
        await dev.chamber.toSafeState();
        await dev.chamber.toSafeState();
        await dev.close();
        expect(t.received.some((r) => r.includes("addr=25 "))).toBe(false);
      },
      RTU,
    );
  });

  it("refuses set points outside the limits before sending anything", async () => {
    await expectModbusExchange(
      identify(1, [-20, 90]),
      async (t) => {
        const dev = f4(t, { rangeC: [-40, 80] });
        await dev.connect();
        for (const bad of [-20.5, 80.1, Number.NaN]) {
          const err = await rejection(dev.chamber.setSetpoint(bad));
          expect(err.code).toBe("SETPOINT_OUT_OF_RANGE");
        }
        expect((await rejection(dev.chamber.setSetpoint(85))).message).toContain("[-20, 80]");
        await dev.close();
      },
      RTU,
    );
  });

  it("refuses a controller that is not an F4", async () => {
    await expectModbusExchange(
      [read(0, 1, [1234])],
      async (t) => {
        const err = await rejection(f4(t).connect());
        expect(err.code).toBe("WATLOW_WRONG_MODEL");
        expect(err.message).toContain("1234");
      },
      RTU,
    );
  });

  it("refuses input 1 in %RH and a controller in °F, saying what to change", async () => {
    await expectModbusExchange(
      [read(0, 1, [5270]), read(606, 3, [1, 0, 1])],
      async (t) => {
        const err = await rejection(f4(t).connect());
        expect(err.code).toBe("WATLOW_WRONG_UNITS");
        expect(err.message).toMatch(/%RH.*set Analog Input 1 units to Temperature/);
      },
      RTU,
    );
    await expectModbusExchange(
      [read(0, 1, [5270]), read(606, 3, [1, 0, 0]), read(901, 1, [0])],
      async (t) => {
        const err = await rejection(f4(t).connect());
        expect(err.code).toBe("WATLOW_WRONG_UNITS");
        expect(err.message).toMatch(/°F.*set the temperature units to °C/);
      },
      RTU,
    );
  });

  it("refuses a controller running a profile, and a reading with a failed sensor", async () => {
    await expectModbusExchange(
      [...identify(1).slice(0, -1), read(200, 1, [2])],
      async (t) => {
        expect((await rejection(f4(t).connect())).code).toBe("WATLOW_PROFILE_ACTIVE");
      },
      RTU,
    );
    await expectModbusExchange(
      [...identify(1), read(100, 2, [32767, 5])],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        expect((await rejection(dev.chamber.read())).code).toBe("WATLOW_INPUT_ERROR");
        await dev.close();
      },
      RTU,
    );
  });

  it("waits 500 ms for a reply unless told otherwise (issue 12)", async () => {
    await expectModbusExchange(
      [...identify(1), { request: { functionCode: 0x03, address: 100, quantity: 2 }, response: null }],
      async (t) => {
        const dev = new WatlowF4({ id: "tc1", driver: "watlow/f4", transport: `${t.url}?unit=1` });
        await dev.connect();
        expect(await rejection(dev.chamber.read())).toMatchObject({ code: "MODBUS_TIMEOUT", timeoutMs: 500 });
        await dev.close();
      },
      RTU,
    );
  });

  it("passes an exception reply on as a typed error", async () => {
    await expectModbusExchange(
      [
        ...identify(1),
        {
          request: { functionCode: 0x06, address: 300, value: 300 },
          response: { functionCode: 0x06, exceptionCode: 3 },
        },
      ],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        const err = await rejection(dev.chamber.setSetpoint(30));
        expect(err).toMatchObject({ code: "MODBUS_EXCEPTION", exceptionCode: 3 });
        await dev.close();
      },
      RTU,
    );
  });

  it("fails fast while unplugged, then re-reads decimals and re-applies the set point", async () => {
    await expectModbusExchange(
      [...identify(1), write(300, 350)],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        await dev.chamber.setSetpoint(35);
        t.pair.unplug();
        await eventually(() => dev.linkState === "link-down", "the link to drop");
        const started = performance.now();
        expect((await rejection(dev.chamber.read())).code).toBe("CHAMBER_LINK_DOWN");
        expect(performance.now() - started).toBeLessThan(20);
        // The controller comes back reconfigured to two decimals: the driver must scale with them.
        t.extend([
          ...identify(2),
          write(300, 3500),
          read(100, 2, [3412, 0]),
          read(300, 1, [3500]),
          read(103, 1, [0]),
        ]);
        t.pair.plug();
        await eventually(() => dev.linkState === "ready", "re-identification");
        expect(dev.chamber.decimals).toBe(2);
        expect(await dev.chamber.read()).toMatchObject({ temperatureC: 34.12, setpointC: 35 });
        await dev.close();
      },
      RTU,
    );
  });

  it("restores the safe state, not an old set point, when safe state was asked while unplugged", async () => {
    await expectModbusExchange(
      [...identify(1), write(300, 600)],
      async (t) => {
        const dev = f4(t);
        await dev.connect();
        await dev.chamber.setSetpoint(60);
        t.pair.unplug();
        await eventually(() => dev.linkState === "link-down", "the link to drop");
        expect((await rejection(dev.chamber.toSafeState())).code).toBe("CHAMBER_LINK_DOWN");
        t.extend([...identify(1), write(300, 220)]);
        t.pair.plug();
        await eventually(() => dev.linkState === "ready", "re-identification");
        await dev.close();
      },
      RTU,
    );
  });
});
