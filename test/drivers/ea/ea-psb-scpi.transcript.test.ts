import { describe, expect, it } from "vitest";
import type { DriverContext } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { EaPsbScpi } from "../../../drivers/ea/ea-psb-scpi.js";
import { expectExchange, type LineExchange, type Transcript } from "../../support/transcript.js";
import { eventually } from "../../support/wait.js";

const IDN = "EA Elektro-Automatik GmbH & Co. KG, PSB 10060-60, 2411230001, V3.02 15.02.2024";
const OK = '0,"No error"';

/** A write followed by the error-queue check the driver makes after it. */
function w(command: string, errors = OK): LineExchange[] {
  return [[command], ["SYST:ERR:ALL?", errors]];
}

/** The alarm check before every setting and read: STAT:QUES:COND? (0: no alarm). */
const Q: LineExchange = ["STAT:QUES:COND?", "0"];
const ON: LineExchange[] = [Q, ...w("OUTP ON")];
const OFF: LineExchange[] = [Q, ...w("OUTP OFF")];
/** close: the lock is released without reading the error queue (it would acknowledge alarms). */
const CLOSE: LineExchange[] = [["SYST:LOCK OFF"]];

const CONNECT: LineExchange[] = [
  ["*IDN?", IDN],
  Q,
  ...w("SYST:LOCK ON"),
  ["SYST:LOCK:OWN?", "REMOTE"],
  ...w("OUTP OFF"),
  ["SYST:NOM:VOLT?", "60.00 V"],
  ["SYST:NOM:CURR?", "60.00 A"],
  ["SYST:NOM:POW?", "1500.00 W"],
  ["SYST:CONF:MODE?", "UIP"],
];

function open(t: Transcript, clock = new VirtualClock(), options: Record<string, unknown> = {}): EaPsbScpi {
  const context: DriverContext = { clock, chamberOfChannel: () => undefined };
  return new EaPsbScpi(
    {
      id: "psb1",
      driver: "ea/psb-scpi",
      transport: t.url,
      channels: ["ch1"],
      options: { timeoutMs: 300, ...options },
    },
    context,
  );
}

describe("ea/psb-scpi transcript", () => {
  it("connects: identity, remote lock, output off, nominal ratings, U/I/P mode", async () => {
    await expectExchange([...CONNECT, ...CLOSE], async (t) => {
      const psb = open(t);
      await psb.connect();
      expect(psb.identity?.model).toBe("PSB 10060-60");
      expect(psb.channels[0]?.ranges).toMatchObject({
        voltageV: [0, 60],
        currentA: [-60, 60],
        powerW: 1500,
      });
      await psb.close();
    });
  });

  it("switches a U/I/R instrument to U/I/P and releases the lock on close", async () => {
    const exchanges = [
      ...CONNECT.slice(0, -1),
      ["SYST:CONF:MODE?", "U/I/R"],
      ...w("SYST:CONF:MODE UIP"),
      ...CLOSE,
    ] as LineExchange[];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t);
      await psb.connect();
      await psb.close();
    });
  });

  it("applies every mode with the writes ordered so no step drives more than old or new set point", async () => {
    const clock = new VirtualClock();
    const exchanges: LineExchange[] = [
      ...CONNECT,
      // cc charge 2 A, clamp 4.2 V: source quadrant, sink current 0, powers at the rating; then output on.
      Q,
      ...w("SOUR:VOLT 4.2"),
      ...w("SOUR:CURR 2"),
      ...w("SINK:CURR 0"),
      ...w("SOUR:POW 1500"),
      ...w("SINK:POW 1500"),
      ...ON,
      // cc discharge 3 A down to 2.5 V while live: the source current drops first, then U, then the sink current.
      Q,
      ...w("SOUR:CURR 0"),
      ...w("SOUR:VOLT 2.5"),
      ...w("SINK:CURR 3"),
      // cv 4.1 V, 1.5 A charge limit (source current), 2 A discharge limit (sink current).
      Q,
      ...w("SINK:CURR 2"),
      ...w("SOUR:VOLT 4.1"),
      ...w("SOUR:CURR 1.5"),
      // cccv charge 1 A to 4.2 V.
      Q,
      ...w("SOUR:CURR 1"),
      ...w("SINK:CURR 0"),
      ...w("SOUR:VOLT 4.2"),
      // cp discharge 10 W down to 2.5 V.
      Q,
      ...w("SOUR:CURR 0"),
      ...w("SINK:POW 10"),
      ...w("SOUR:VOLT 2.5"),
      ...w("SINK:CURR 60"),
      Q,
      ["MEAS:ARR?", "3.7012 V, -2.7018 A, -10.0000 W"],
      // rest, then safe state again: OUTP OFF both times.
      ...OFF,
      ...OFF,
      // profile, output off: only the changed values, then output on.
      Q,
      ...w("SOUR:VOLT 4.2"),
      ...w("SOUR:CURR 1"),
      ...w("SINK:CURR 0"),
      ...w("SINK:POW 1500"),
      ...ON,
      // 10 s later the driver steps to −1 A.
      Q,
      ...w("SOUR:CURR 0"),
      ...w("SOUR:VOLT 2.5"),
      ...w("SINK:CURR 1"),
      ...OFF,
      ...CLOSE,
    ];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t, clock);
      await psb.connect();
      const ch = psb.channels[0]!;
      await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
      await ch.apply({ mode: "cc", currentA: -3, minV: 2.5, maxV: 4.2 });
      await ch.apply({ mode: "cv", voltageV: 4.1, chargeLimitA: 1.5, dischargeLimitA: 2 });
      await ch.apply({ mode: "cccv", currentA: 1, voltageV: 4.2 });
      await ch.apply({ mode: "cp", powerW: -10, minV: 2.5, maxV: 4.2 });
      expect(await ch.read()).toEqual({ voltageV: 3.7012, currentA: -2.7018, temperatureC: Number.NaN });
      await ch.apply({ mode: "rest" });
      await ch.toSafeState();
      await ch.apply({
        mode: "profile",
        points: [
          { tS: 0, currentA: 1 },
          { tS: 10, currentA: -1 },
        ],
        minV: 2.5,
        maxV: 4.2,
      });
      expect(t.remaining()).toBe(11);
      await clock.advanceBy(9_999);
      expect(t.remaining()).toBe(11);
      await clock.advanceBy(1);
      await eventually(() => t.remaining() === 4, "the profile's second point");
      await ch.toSafeState();
      await psb.close();
    });
  });

  it("refuses set points outside the ratings before sending anything", async () => {
    await expectExchange([...CONNECT], async (t) => {
      const psb = open(t, new VirtualClock(), { limits: { currentA: [-5, 5] } });
      await psb.connect();
      const ch = psb.channels[0]!;
      await expect(ch.apply({ mode: "cc", currentA: 6, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
      await expect(
        ch.apply({ mode: "cv", voltageV: 61, chargeLimitA: 1, dischargeLimitA: 1 }),
      ).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
      await expect(ch.apply({ mode: "cp", powerW: 2000, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
      psb.session.close();
      psb.scpi.dispose();
      await psb.transport.close();
    });
  });

  it("switches the output off and reports SCPI_DEVICE_ERROR when the instrument rejects a setting", async () => {
    const exchanges: LineExchange[] = [
      ...CONNECT,
      Q,
      ...w("SOUR:VOLT 4.2"),
      ...w("SOUR:CURR 2", '-222,"Data out of range"'),
      ...OFF,
      // Cached values were forgotten: the next apply writes every value again.
      Q,
      ...w("SOUR:VOLT 4.2"),
      ...w("SOUR:CURR 1"),
      ...w("SINK:CURR 0"),
      ...w("SOUR:POW 1500"),
      ...w("SINK:POW 1500"),
      ...ON,
    ];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t);
      await psb.connect();
      const ch = psb.channels[0]!;
      await expect(ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "SCPI_DEVICE_ERROR",
      });
      await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
      psb.session.close();
      psb.scpi.dispose();
      await psb.transport.close();
    });
  });

  it("takes the lock owner and the set-value mode up to spaces and case", async () => {
    const exchanges = [
      ...CONNECT.slice(0, 4),
      ["SYST:LOCK:OWN?", "Remote"],
      ...CONNECT.slice(5, -1),
      ["SYST:CONF:MODE?", "u / i / p"],
      ...CLOSE,
    ] as LineExchange[];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t);
      await psb.connect();
      await psb.close();
    });
  });

  it("refuses to connect when the lock is not granted or another instrument answers", async () => {
    await expectExchange(
      [["*IDN?", IDN], Q, ...w("SYST:LOCK ON"), ["SYST:LOCK:OWN?", "LOCAL"]],
      async (t) => {
        await expect(open(t).connect()).rejects.toMatchObject({ code: "CYCLER_REMOTE_DENIED" });
      },
    );
    await expectExchange([["*IDN?", "Keysight Technologies,N6705C,MY1234,D.01"]], async (t) => {
      await expect(open(t).connect()).rejects.toMatchObject({ code: "IDENTITY_MISMATCH" });
    });
  });

  it("reads with MEAS:VOLT? and MEAS:CURR? when asked to", async () => {
    await expectExchange([...CONNECT, Q, ["MEAS:VOLT?", "4.0500V"], ["MEAS:CURR?", "1.2500A"]], async (t) => {
      const psb = open(t, new VirtualClock(), { measure: "separate" });
      await psb.connect();
      expect(await psb.channels[0]!.read()).toMatchObject({ voltageV: 4.05, currentA: 1.25 });
      psb.session.close();
      psb.scpi.dispose();
      await psb.transport.close();
    });
  });

  // Issue 12, finding 4: an alarm is in STAT:QUES:COND?, not in the error queue, and reading the error
  // queue acknowledges it [PGMBEN §5.4.2]; the driver names it and never reads the queue meanwhile.
  it("reports an alarm standing at connect and on every read by name, and never reads the error queue meanwhile", async () => {
    const OVP: LineExchange = ["STAT:QUES:COND?", "1"];
    const exchanges: LineExchange[] = [
      ["*IDN?", IDN],
      OVP,
      ["SYST:LOCK ON"],
      ["SYST:LOCK:OWN?", "REMOTE"],
      ["OUTP OFF"],
      ["SYST:NOM:VOLT?", "60.00 V"],
      ["SYST:NOM:CURR?", "60.00 A"],
      ["SYST:NOM:POW?", "1500.00 W"],
      ["SYST:CONF:MODE?", "UIP"],
      OVP,
      OVP,
      // A set point is refused before anything is written; the output goes off, unchecked.
      OVP,
      OVP,
      ["OUTP OFF"],
      // Safe state during the alarm: output off without reading the queue.
      OVP,
      ["OUTP OFF"],
      ...CLOSE,
    ];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t);
      await psb.connect();
      const ch = psb.channels[0]!;
      for (let i = 0; i < 2; i++)
        await expect(ch.read()).rejects.toMatchObject({
          code: "CYCLER_DEVICE_ALARM",
          message: expect.stringContaining("OVP"),
        });
      await expect(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "CYCLER_DEVICE_ALARM",
      });
      await ch.toSafeState();
      await psb.close();
    });
  });

  it("names every alarm bit set: OT and PF together", async () => {
    await expectExchange([...CONNECT, ["STAT:QUES:COND?", String((1 << 3) | (1 << 13))]], async (t) => {
      const psb = open(t);
      await psb.connect();
      const err = await psb.channels[0]!.read().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "CYCLER_DEVICE_ALARM", message: expect.stringContaining("OT, PF") });
      psb.session.close();
      psb.scpi.dispose();
      await psb.transport.close();
    });
  });

  // Issue 12, finding 6: high-power models answer in kW.
  it("reads values with an SI prefix (kW, mA) and refuses a unit it cannot convert", async () => {
    const exchanges: LineExchange[] = [
      ["*IDN?", IDN.replace("PSB 10060-60", "PSB 11000-80")],
      Q,
      ...w("SYST:LOCK ON"),
      ["SYST:LOCK:OWN?", "REMOTE"],
      ...w("OUTP OFF"),
      ["SYST:NOM:VOLT?", "1000.0 V"],
      ["SYST:NOM:CURR?", "80.00 A"],
      ["SYST:NOM:POW?", "30.00 kW"],
      ["SYST:CONF:MODE?", "UIP"],
      Q,
      ["MEAS:ARR?", "800.0 V, -12.50 A, -10.00 kW"],
      Q,
      ["MEAS:ARR?", "3.7000 V, -250.0 mA, -0.925 W"],
      Q,
      ["MEAS:ARR?", "800.0 V, -12.50 A, -10.00 kVA"],
    ];
    await expectExchange(exchanges, async (t) => {
      const psb = open(t);
      await psb.connect();
      const ch = psb.channels[0]!;
      expect(ch.ranges.powerW).toBe(30_000);
      expect(await ch.read()).toMatchObject({ voltageV: 800, currentA: -12.5 });
      expect(await ch.read()).toMatchObject({ voltageV: 3.7, currentA: -0.25 });
      await expect(ch.read()).rejects.toMatchObject({
        code: "SCPI_BAD_REPLY",
        message: expect.stringContaining('"kVA"'),
      });
      psb.session.close();
      psb.scpi.dispose();
      await psb.transport.close();
    });
  });
});
