import { describe, expect, it } from "vitest";
import { WatlowF4t } from "../../../drivers/watlow/watlow-f4t.js";
import { fromFloat32 } from "../../../protocols/modbus/modbus-values.js";
import { expectModbusExchange, type ModbusExchange, type Transcript } from "../../support/transcript.js";
import { eventually, rejection } from "../../support/wait.js";

const float = (v: number) => fromFloat32(v, "low-first");
const read = (address: number, values: number[]): ModbusExchange => ({
  request: { functionCode: 0x03, address, quantity: values.length },
  response: { functionCode: 0x03, values },
});
const writeFloat = (address: number, value: number): ModbusExchange => ({
  request: { functionCode: 0x10, address, values: float(value) },
  response: { functionCode: 0x10, address, quantity: 2 },
});
const partNumber = (text: string) => Array.from({ length: 15 }, (_, i) => text.charCodeAt(i) || 0);

function identify(
  loop = 1,
  limits: [number, number] = [-40, 110],
  part = "F4T1R1AAAA1A1AA",
): ModbusExchange[] {
  const o = 160 * (loop - 1);
  return [
    read(16, partNumber(part)),
    read(1328, [15]),
    read(2774 + o, [...float(limits[0]), ...float(limits[1])]),
  ];
}

function f4t(t: Transcript, options: Record<string, unknown> = {}): WatlowF4t {
  return new WatlowF4t({
    id: "tc2",
    driver: "watlow/f4t",
    transport: t.url,
    // A generous reply timeout: a timeout under a loaded machine would retry and break the transcript.
    options: { timeoutMs: 1000, retryMs: 50, ...options },
  });
}

const RTU = { framing: "rtu" } as const;

describe("watlow/f4t transcript", () => {
  it("identifies the part number and reads loop 1 limits, then PV 2820 and current set point 2810", async () => {
    await expectModbusExchange(
      [...identify(1, [-70, 180]), read(2820, float(-12.5)), read(2810, float(-15.25))],
      async (t) => {
        const dev = f4t(t);
        await dev.connect();
        expect(dev.chamber.ranges.temperatureC).toEqual([-70, 180]);
        expect(await dev.chamber.read()).toMatchObject({ temperatureC: -12.5, setpointC: -15.25 });
        await dev.close();
      },
      RTU,
    );
  });

  it("uses loop N at 160·(N−1) further on and writes the constant set point 2782 as a low-word-first float", async () => {
    await expectModbusExchange(
      [
        ...identify(3),
        writeFloat(2782 + 320, 42.5),
        read(2820 + 320, float(30)),
        read(2810 + 320, float(42.5)),
        writeFloat(2782 + 320, 22),
      ],
      async (t) => {
        const dev = f4t(t, { loop: 3 });
        await dev.connect();
        await dev.chamber.setSetpoint(42.5);
        expect(await dev.chamber.read()).toMatchObject({ temperatureC: 30, setpointC: 42.5 });
        await dev.chamber.toSafeState();
        await dev.close();
      },
      RTU,
    );
  });

  it("refuses another controller and out-of-range set points before sending", async () => {
    await expectModbusExchange(
      [read(16, partNumber("PM6C1CA-AAAAAAA"))],
      async (t) => {
        const err = await rejection(f4t(t).connect());
        expect(err.code).toBe("WATLOW_WRONG_MODEL");
        expect(err.message).toContain("PM6C1CA");
      },
      RTU,
    );
    await expectModbusExchange(
      identify(1, [-20, 90]),
      async (t) => {
        const dev = f4t(t);
        await dev.connect();
        expect((await rejection(dev.chamber.setSetpoint(95))).code).toBe("SETPOINT_OUT_OF_RANGE");
        await dev.close();
      },
      RTU,
    );
  });

  it("refuses a controller in °F (Display Units 1328 = F (30)) before reading or writing any temperature", async () => {
    await expectModbusExchange(
      [read(16, partNumber("F4T1R1AAAA1A1AA")), read(1328, [30])],
      async (t) => {
        const err = await rejection(f4t(t).connect());
        expect(err.code).toBe("WATLOW_WRONG_UNITS");
        expect(err.message).toContain("register 1328 = 30");
        expect(err.message).toContain("set Display Units to C");
      },
      RTU,
    );
    await expectModbusExchange(
      [read(16, partNumber("F4T1R1AAAA1A1AA")), read(1328, [0])],
      async (t) => {
        const err = await rejection(f4t(t).connect());
        expect(err.code).toBe("WATLOW_BAD_CONFIG");
        expect(err.message).toContain("neither C (15) nor F (30)");
      },
      RTU,
    );
  });

  it("refuses limits that make sense only high word first, and limits that make sense in neither order", async () => {
    const high = (v: number) => fromFloat32(v, "high-first");
    await expectModbusExchange(
      [read(16, partNumber("F4T1R1AAAA1A1AA")), read(1328, [15]), read(2774, [...high(-40), ...high(110)])],
      async (t) => {
        const err = await rejection(f4t(t).connect());
        expect(err.code).toBe("WATLOW_BAD_CONFIG");
        expect(err.message).toContain("only high word first ([-40, 110] °C");
        expect(err.message).toContain("low word first");
      },
      RTU,
    );
    await expectModbusExchange(
      [
        read(16, partNumber("F4T1R1AAAA1A1AA")),
        read(1328, [15]),
        read(2774, [0xffff, 0x7fff, 0xffff, 0x7fff]),
      ],
      async (t) => {
        const err = await rejection(f4t(t).connect());
        expect(err.code).toBe("WATLOW_BAD_CONFIG");
        expect(err.message).toContain("not temperatures in either word order");
      },
      RTU,
    );
  });

  it("re-identifies after a reconnect and restores the set point", async () => {
    await expectModbusExchange(
      [...identify(), writeFloat(2782, 55)],
      async (t) => {
        const dev = f4t(t);
        await dev.connect();
        await dev.chamber.setSetpoint(55);
        t.pair.unplug();
        await eventually(() => dev.linkState === "link-down", "the link to drop");
        expect((await rejection(dev.chamber.setSetpoint(56))).code).toBe("CHAMBER_LINK_DOWN");
        t.extend([...identify(), writeFloat(2782, 55)]);
        t.pair.plug();
        await eventually(() => dev.linkState === "ready", "re-identification");
        await dev.close();
      },
      RTU,
    );
  });
});
