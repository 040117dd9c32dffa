import { describe, expect, it } from "vitest";
import type { DriverContext } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { ItechItM3400, itM3400Ratings } from "../../../drivers/itech/itech-it-m3400.js";
import { expectExchange, type LineExchange, type Transcript } from "../../support/transcript.js";
import { eventually } from "../../support/wait.js";

const IDN = "ITECH Ltd., IT-M3432, 800001234567890001, 1.02-1.04";
const OK = '0,"No error"';

function w(command: string, errors: string[] = []): LineExchange[] {
  return [[command], ...errors.map((e): LineExchange => ["SYST:ERR?", e]), ["SYST:ERR?", OK]];
}

const CONNECT_HEAD: LineExchange[] = [["*IDN?", IDN], ...w("SYST:REM"), ...w("OUTP OFF")];
/** Power limits at connect, both directions, read back (issue 12, finding 5). */
function powerLimits(watts: number): LineExchange[] {
  return [
    ...w(`POW:LIM ${watts}`),
    ["POW:LIM?", watts.toFixed(3)],
    ...w(`POW:LIM:NEG -${watts}`),
    ["POW:LIM:NEG?", (-watts).toFixed(3)],
  ];
}
const CONNECT: LineExchange[] = [...CONNECT_HEAD, ...powerLimits(800)];
/** The protection check before every read. */
const Q: LineExchange = ["STAT:QUES:COND?", "0"];
/** close: SYST:LOC without reading the error queue. */
const CLOSE: LineExchange[] = [["SYST:LOC"]];

function open(
  t: Transcript,
  clock = new VirtualClock(),
  options: Record<string, unknown> = {},
): ItechItM3400 {
  const context: DriverContext = { clock, chamberOfChannel: () => undefined };
  return new ItechItM3400(
    { id: "it1", driver: "itech/it-m3400", transport: t.url, options: { timeoutMs: 300, ...options } },
    context,
  );
}

describe("itech/it-m3400 ratings", () => {
  it("reads the ratings from the model number", () => {
    expect(itM3400Ratings("IT-M3432")).toEqual({ voltageV: 60, currentA: 30, powerW: 800 });
    expect(itM3400Ratings("IT-M3415")).toEqual({ voltageV: 600, currentA: 3, powerW: 200 });
    expect(itM3400Ratings("IT6432")).toBeUndefined();
  });
});

describe("itech/it-m3400 transcript", () => {
  it("connects: identity, remote, output off; ratings from the model; local on close", async () => {
    await expectExchange([...CONNECT, ...CLOSE], async (t) => {
      const it = open(t);
      await it.connect();
      expect(it.channels[0]?.ranges).toMatchObject({ voltageV: [0, 60], currentA: [-30, 30], powerW: 800 });
      expect(it.channels[0]?.ranges.modes).not.toContain("cp");
      await it.close();
    });
  });

  it("applies cc, cv, cccv and profile; changes of function go through output off", async () => {
    const clock = new VirtualClock();
    const exchanges: LineExchange[] = [
      ...CONNECT_HEAD,
      // SENSe[:REMote][:STATe], the documented header (issue 12, finding 5; was REM:SENS).
      ...w("SENS:REM ON"),
      ...powerLimits(800),
      // cc charge 2 A within [2.5, 4.2] V.
      ...w("FUNC CURR"),
      ...w("CURR 2"),
      ...w("VOLT:LIM:LOW 2.5"),
      ...w("VOLT:LIM:HIGH 4.2"),
      ...w("OUTP ON"),
      Q,
      ["MEAS:VOLT:DC?", "3.91020"],
      ["MEAS:CURR:DC?", "2.00010"],
      // cc discharge 3 A within [3.0, 4.1] V, live: both clamps tighten, so they go before the current.
      ...w("VOLT:LIM:LOW 3"),
      ...w("VOLT:LIM:HIGH 4.1"),
      ...w("CURR -3"),
      Q,
      ["MEAS:VOLT:DC?", "3.60000"],
      ["MEAS:CURR:DC?", "-3.00020"],
      // cv 4.1 V, 1.5 A charge limit (POS), 2 A discharge limit (NEG): another function, so output off first.
      ...w("OUTP OFF"),
      ...w("FUNC VOLT"),
      ...w("VOLT 4.1"),
      ...w("CURR:LIM:POS 1.5"),
      ...w("CURR:LIM:NEG -2"),
      ...w("OUTP ON"),
      // cccv charge 1 A to 4.2 V, live: both limits tighten, then the voltage.
      ...w("CURR:LIM:POS 1"),
      ...w("CURR:LIM:NEG 0"),
      ...w("VOLT 4.2"),
      // rest.
      ...w("OUTP OFF"),
      // profile: cc points from output off.
      ...w("FUNC CURR"),
      ...w("CURR 1"),
      ...w("VOLT:LIM:LOW 2.5"),
      ...w("VOLT:LIM:HIGH 4.2"),
      ...w("OUTP ON"),
      ...w("CURR -1"),
      ...w("OUTP OFF"),
      ...CLOSE,
    ];
    await expectExchange(exchanges, async (t) => {
      const it = open(t, clock, { remoteSense: "on" });
      await it.connect();
      const ch = it.channels[0]!;
      await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
      expect(await ch.read()).toMatchObject({ voltageV: 3.9102, currentA: 2.0001 });
      await ch.apply({ mode: "cc", currentA: -3, minV: 3, maxV: 4.1 });
      expect(await ch.read()).toMatchObject({ voltageV: 3.6, currentA: -3.0002 });
      await ch.apply({ mode: "cv", voltageV: 4.1, chargeLimitA: 1.5, dischargeLimitA: 2 });
      await ch.apply({ mode: "cccv", currentA: 1, voltageV: 4.2 });
      await ch.apply({ mode: "rest" });
      await ch.apply({
        mode: "profile",
        points: [
          { tS: 0, currentA: 1 },
          { tS: 30, currentA: -1 },
        ],
        minV: 2.5,
        maxV: 4.2,
      });
      await clock.advanceBy(30_000);
      await eventually(() => t.remaining() === 3, "the profile's second point");
      await ch.toSafeState();
      await it.close();
    });
  });

  it("refuses constant power and out-of-range set points before sending anything", async () => {
    await expectExchange([...CONNECT], async (t) => {
      const it = open(t);
      await it.connect();
      const ch = it.channels[0]!;
      await expect(ch.apply({ mode: "cp", powerW: 5, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
      await expect(ch.apply({ mode: "cc", currentA: -31, minV: 2.5, maxV: 4.2 })).rejects.toMatchObject({
        code: "SETPOINT_OUT_OF_RANGE",
      });
      it.session.close();
      it.scpi.dispose();
      await it.transport.close();
    });
  });

  it("switches the output off when an error follows a setting", async () => {
    await expectExchange(
      [...CONNECT, ...w("FUNC CURR"), ...w("CURR 2", ['-222,"Data out of range"']), ...w("OUTP OFF")],
      async (t) => {
        const it = open(t);
        await it.connect();
        await expect(
          it.channels[0]!.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 }),
        ).rejects.toMatchObject({ code: "SCPI_DEVICE_ERROR" });
        expect(it.channels[0]!.isOutputOn).toBe(false);
        it.session.close();
        it.scpi.dispose();
        await it.transport.close();
      },
    );
  });

  it("asks for ratings when the model is unknown", async () => {
    await expectExchange([["*IDN?", "ITECH Ltd., IT-M3499, 1, 1.0"]], async (t) => {
      await expect(open(t).connect()).rejects.toMatchObject({ code: "CYCLER_RATING_MISMATCH" });
    });
  });

  // Issue 12, finding 5: a power limit left on the instrument would cap the current silently.
  it("writes the configured power as both power limits and refuses to connect when one reads back otherwise", async () => {
    await expectExchange([...CONNECT_HEAD, ...powerLimits(300), ...CLOSE], async (t) => {
      const it = open(t, new VirtualClock(), { limits: { powerW: 300 } });
      await it.connect();
      await it.close();
    });
    await expectExchange([...CONNECT_HEAD, ...w("POW:LIM 800"), ["POW:LIM?", "100.000"]], async (t) => {
      await expect(open(t).connect()).rejects.toMatchObject({
        code: "CYCLER_SETTING_NOT_APPLIED",
        message: expect.stringContaining("POW:LIM? reads 100 W"),
      });
    });
    // A sink limit answered as a magnitude is another sign convention: refused, naming what came back.
    await expectExchange(
      [
        ...CONNECT_HEAD,
        ...w("POW:LIM 800"),
        ["POW:LIM?", "800.000"],
        ...w("POW:LIM:NEG -800"),
        ["POW:LIM:NEG?", "800.000"],
      ],
      async (t) => {
        await expect(open(t).connect()).rejects.toMatchObject({
          code: "CYCLER_SETTING_NOT_APPLIED",
          message: expect.stringContaining("POW:LIM:NEG? reads 800 W"),
        });
      },
    );
  });

  // Issue 12, finding 4 (ITECH): a tripped protection is read on every poll and named; never cleared.
  it("reports a tripped protection by name on every read and never clears it", async () => {
    await expectExchange(
      [...CONNECT, ["STAT:QUES:COND?", "1"], ["STAT:QUES:COND?", "1"], ["STAT:QUES:COND?", "20"]],
      async (t) => {
        const it = open(t);
        await it.connect();
        const ch = it.channels[0]!;
        for (let i = 0; i < 2; i++)
          await expect(ch.read()).rejects.toMatchObject({
            code: "CYCLER_DEVICE_ALARM",
            message: expect.stringContaining("OVP"),
          });
        await expect(ch.read()).rejects.toMatchObject({
          message: expect.stringContaining("OCP (sink), OPP (sink)"),
        });
        it.session.close();
        it.scpi.dispose();
        await it.transport.close();
      },
    );
  });

  // Issue 12, finding 5: the sign of MEAS:CURR? while sinking is checked at run time.
  it("refuses a current flowing against the set one inside the clamps, not at a clamp", async () => {
    const exchanges: LineExchange[] = [
      ...CONNECT,
      ...w("FUNC CURR"),
      ...w("CURR -3"),
      ...w("VOLT:LIM:LOW 3"),
      ...w("VOLT:LIM:HIGH 4.1"),
      ...w("OUTP ON"),
      Q,
      ["MEAS:VOLT:DC?", "3.60000"],
      ["MEAS:CURR:DC?", "3.00010"],
      // At the low clamp the instrument regulates voltage, so the current may be anything.
      Q,
      ["MEAS:VOLT:DC?", "3.00000"],
      ["MEAS:CURR:DC?", "0.50000"],
    ];
    await expectExchange(exchanges, async (t) => {
      const it = open(t);
      await it.connect();
      const ch = it.channels[0]!;
      await ch.apply({ mode: "cc", currentA: -3, minV: 3, maxV: 4.1 });
      await expect(ch.read()).rejects.toMatchObject({
        code: "CYCLER_CURRENT_SIGN",
        message: expect.stringContaining("MEAS:CURR:DC? reads 3.0001 A"),
      });
      expect(await ch.read()).toMatchObject({ voltageV: 3, currentA: 0.5 });
      it.session.close();
      it.scpi.dispose();
      await it.transport.close();
    });
  });
});
