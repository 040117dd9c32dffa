import { describe, expect, it } from "vitest";
import type { DriverContext } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { EaPsbModbus, ratingsOfModel, registersToAscii } from "../../../drivers/ea/ea-psb-modbus.js";
import { expectModbusExchange, type ModbusExchange, type Transcript } from "../../support/transcript.js";
import { eventually } from "../../support/wait.js";

/** PSB 10060-60 rated 60 V, 60 A, 1500 W: 0xCCCC is 100 %. */
const NOMINAL = { voltageV: 60, currentA: 60, powerW: 1500 };
const raw = (value: number, nominal: number) => Math.round((value / nominal) * 0xcccc);
const V = (v: number) => raw(v, 60);
const A = (a: number) => raw(a, 60);
const W = (w: number) => raw(w, 1500);

function ascii(text: string, registers: number): number[] {
  const bytes = Buffer.alloc(registers * 2);
  bytes.write(text, "latin1");
  return Array.from({ length: registers }, (_, i) => bytes.readUInt16BE(i * 2));
}

function read(address: number, values: number[]): ModbusExchange {
  return {
    request: { functionCode: 3, address, quantity: values.length },
    response: { functionCode: 3, values },
  };
}
function coil(address: number, value: boolean): ModbusExchange {
  return { request: { functionCode: 5, address, value }, response: { functionCode: 5, address, value } };
}
function readCoil(address: number, value: boolean): ModbusExchange {
  return {
    request: { functionCode: 1, address, quantity: 1 },
    response: { functionCode: 1, bits: [value, false, false, false, false, false, false, false] },
  };
}
function reg(address: number, value: number): ModbusExchange {
  return { request: { functionCode: 6, address, value }, response: { functionCode: 6, address, value } };
}

const REMOTE = 1 << 11;
const OUTPUT = 1 << 7;
const ALARM = 1 << 15;
/** State bits 16–31 sit in register 505 (the high word): bit 31 is 0x8000 there. */
const SINK_HIGH = 1 << (31 - 16);
const OVP_HIGH = 1 << (16 - 16);
const OT_HIGH = 1 << (19 - 16);

const CONNECT: ModbusExchange[] = [
  read(1, ascii("PSB 10060-60", 20)),
  coil(402, true),
  coil(405, false),
  coil(409, false),
  readCoil(409, false),
  read(505, [0, REMOTE]),
];

function open(t: Transcript, clock = new VirtualClock(), options: Record<string, unknown> = {}): EaPsbModbus {
  const context: DriverContext = { clock, chamberOfChannel: () => undefined };
  return new EaPsbModbus(
    {
      id: "psb2",
      driver: "ea/psb-modbus",
      transport: `${t.url}?unit=1`,
      options: { nominal: NOMINAL, timeoutMs: 300, ...options },
    },
    context,
  );
}

describe("ea/psb-modbus helpers", () => {
  it("reads the device type and the ratings its name encodes", () => {
    expect(registersToAscii(ascii("PSB 10060-60", 20))).toBe("PSB 10060-60");
    expect(ratingsOfModel("PSB 10060-60")).toEqual({ voltageV: 60, currentA: 60 });
    expect(ratingsOfModel("PSB 11000-30")).toEqual({ voltageV: 1000, currentA: 30 });
    expect(ratingsOfModel("PS 9080-40")).toBeUndefined();
  });
});

describe("ea/psb-modbus transcript", () => {
  it("connects: device type, remote on, output off, remote bit confirmed; releases remote on close", async () => {
    await expectModbusExchange(
      [...CONNECT, coil(402, false)],
      async (t) => {
        const psb = open(t);
        await psb.connect();
        expect(psb.deviceType).toBe("PSB 10060-60");
        await psb.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("applies every mode as scaled set values in a safe order, reads signed actual values", async () => {
    const clock = new VirtualClock();
    const exchanges: ModbusExchange[] = [
      ...CONNECT,
      // cc charge 2 A with a 4.2 V clamp, output off: all set values, then output on.
      reg(500, V(4.2)),
      reg(501, A(2)),
      reg(499, A(0)),
      reg(502, W(1500)),
      reg(498, W(1500)),
      coil(405, true),
      read(505, [0, REMOTE | OUTPUT, V(3.9), A(2), W(7.8)]),
      // cc discharge 3 A down to 2.5 V, live: source current down, U, then sink current up.
      reg(501, A(0)),
      reg(500, V(2.5)),
      reg(499, A(3)),
      read(505, [SINK_HIGH, REMOTE | OUTPUT, V(3.6), A(3), W(10.8)]),
      // cv 4.1 V, 1.5 A charge limit (501, source), 2 A discharge limit (499, sink).
      reg(499, A(2)),
      reg(500, V(4.1)),
      reg(501, A(1.5)),
      // cccv charge 1 A to 4.2 V.
      reg(501, A(1)),
      reg(499, A(0)),
      reg(500, V(4.2)),
      // cp discharge 10 W down to 2.5 V.
      reg(501, A(0)),
      reg(498, W(10)),
      reg(500, V(2.5)),
      reg(499, A(60)),
      // rest and safe state: output off, each time.
      coil(405, false),
      coil(405, false),
      // profile: first point from output off, second point 5 s later.
      reg(500, V(4.2)),
      reg(501, A(0.5)),
      reg(499, A(0)),
      reg(498, W(1500)),
      coil(405, true),
      reg(501, A(0.25)),
      coil(405, false),
    ];
    await expectModbusExchange(
      exchanges,
      async (t) => {
        const psb = open(t, clock);
        await psb.connect();
        const ch = psb.channels[0]!;
        await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
        const charging = await ch.read();
        expect(charging.voltageV).toBeCloseTo(3.9, 3);
        expect(charging.currentA).toBeCloseTo(2, 3);
        await ch.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
        const discharging = await ch.read();
        expect(discharging.currentA).toBeCloseTo(-3, 3);
        await ch.apply({ mode: "cv", voltageV: 4.1, chargeLimitA: 1.5, dischargeLimitA: 2 });
        await ch.apply({ mode: "cccv", currentA: 1, voltageV: 4.2 });
        await ch.apply({ mode: "cp", powerW: -10, minV: 2.5, maxV: 4.2 });
        await ch.apply({ mode: "rest" });
        await ch.toSafeState();
        await ch.apply({
          mode: "profile",
          points: [
            { tS: 0, currentA: 0.5 },
            { tS: 5, currentA: 0.25 },
          ],
          minV: 2.5,
          maxV: 4.2,
        });
        await clock.advanceBy(5000);
        await eventually(() => t.remaining() === 1, "the profile's second point");
        await ch.toSafeState();
        psb.session.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("reports an instrument alarm and a lost remote state as typed errors", async () => {
    await expectModbusExchange(
      [...CONNECT, read(505, [0, REMOTE | ALARM, 0, 0, 0]), read(505, [0, 0, V(3.7), 0, 0])],
      async (t) => {
        const psb = open(t);
        await psb.connect();
        await expect(psb.channels[0]!.read()).rejects.toMatchObject({ code: "CYCLER_DEVICE_ALARM" });
        await expect(psb.channels[0]!.read()).rejects.toMatchObject({ code: "CYCLER_REMOTE_DENIED" });
        psb.session.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("takes the current's sign from state bit 31 (sink mode), not from bit 12", async () => {
    await expectModbusExchange(
      [
        ...CONNECT,
        read(505, [SINK_HIGH, REMOTE | OUTPUT, V(3.6), A(3), W(10.8)]),
        read(505, [0, REMOTE | OUTPUT | (1 << 12), V(3.9), A(2), W(7.8)]),
      ],
      async (t) => {
        const psb = open(t);
        await psb.connect();
        expect((await psb.channels[0]!.read()).currentA).toBeCloseTo(-3, 3);
        expect((await psb.channels[0]!.read()).currentA).toBeCloseTo(2, 3);
        psb.session.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("sets U/I/P mode at connect and refuses an instrument that stays in U/I/R", async () => {
    await expectModbusExchange(
      [
        read(1, ascii("PSB 10060-60", 20)),
        coil(402, true),
        coil(405, false),
        coil(409, false),
        readCoil(409, true),
      ],
      async (t) => {
        await expect(open(t).connect()).rejects.toMatchObject({
          code: "CYCLER_MODE_REFUSED",
          message: expect.stringMatching(/U\/I\/R/),
        });
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("names a latched alarm on every poll and never acknowledges it (no write to 411)", async () => {
    await expectModbusExchange(
      [
        ...CONNECT,
        read(505, [OVP_HIGH, REMOTE | ALARM, V(3.7), 0, 0]),
        read(505, [OVP_HIGH | OT_HIGH, REMOTE | ALARM, V(3.7), 0, 0]),
        coil(402, false),
      ],
      async (t) => {
        const psb = open(t);
        await psb.connect();
        await expect(psb.channels[0]!.read()).rejects.toMatchObject({
          code: "CYCLER_DEVICE_ALARM",
          message: expect.stringMatching(/\bOVP\b/),
        });
        const again = psb.channels[0]!.read();
        await expect(again).rejects.toMatchObject({ code: "CYCLER_DEVICE_ALARM" });
        await expect(again).rejects.toThrow(/OVP.*OT|OT.*OVP/);
        await psb.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("refuses an instrument whose ratings differ from options.nominal", async () => {
    await expectModbusExchange(
      [read(1, ascii("PSB 10080-60", 20))],
      async (t) => {
        await expect(open(t).connect()).rejects.toMatchObject({ code: "CYCLER_RATING_MISMATCH" });
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("a device that fails to connect lets go of a shared line without closing it for the others", async () => {
    await expectModbusExchange(
      [
        ...CONNECT,
        { ...read(1, ascii("PSB 10080-60", 20)), unit: 2 },
        read(505, [0, REMOTE, V(3.7), 0, 0]),
        coil(402, false),
      ],
      async (t) => {
        const first = open(t);
        await first.connect();
        const second = new EaPsbModbus(
          {
            id: "psb3",
            driver: "ea/psb-modbus",
            transport: `${t.url}?unit=2`,
            options: { nominal: NOMINAL },
          },
          { clock: new VirtualClock(), chamberOfChannel: () => undefined },
        );
        await expect(second.connect()).rejects.toMatchObject({ code: "CYCLER_RATING_MISMATCH" });
        expect(t.host.state).toBe("connected");
        expect((await first.channels[0]!.read()).voltageV).toBeCloseTo(3.7, 3);
        await first.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("switches the output off when the instrument answers a set value with an exception", async () => {
    await expectModbusExchange(
      [
        ...CONNECT,
        reg(500, V(4.2)),
        {
          request: { functionCode: 6, address: 501, value: A(2) },
          response: { functionCode: 6, exceptionCode: 3 },
        },
        coil(405, false),
      ],
      async (t) => {
        const psb = open(t);
        await psb.connect();
        await expect(
          psb.channels[0]!.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 }),
        ).rejects.toMatchObject({ code: "MODBUS_EXCEPTION" });
        expect(psb.channels[0]!.isOutputOn).toBe(false);
        psb.session.close();
      },
      { framing: "rtu", unit: 1 },
    );
  });

  it("requires the nominal ratings", () => {
    expect(
      () =>
        new EaPsbModbus(
          { id: "x", driver: "ea/psb-modbus", transport: "tcp://127.0.0.1:502" },
          { clock: new VirtualClock(), chamberOfChannel: () => undefined },
        ),
    ).toThrow(/options.nominal/);
  });

  it("refuses limits that leave nothing of the nominal ratings, before any request", () => {
    expect(
      () =>
        new EaPsbModbus(
          {
            id: "x",
            driver: "ea/psb-modbus",
            transport: "tcp://127.0.0.1:502",
            options: { nominal: NOMINAL, limits: { voltageV: [2500, 4200] } },
          },
          { clock: new VirtualClock(), chamberOfChannel: () => undefined },
        ),
    ).toThrow(
      `options.limits.voltageV [2500, 4200] V lies outside the instrument's 0..${NOMINAL.voltageV} V; give a window within it (options.nominal)`,
    );
  });
});
