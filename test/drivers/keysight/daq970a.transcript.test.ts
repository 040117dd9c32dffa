import { describe, expect, it } from "vitest";
import type { DriverContext, LinkEvent } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { KeysightDaq970a } from "../../../drivers/keysight/keysight-daq970a.js";
import { expectExchange, type LineExchange, type Transcript } from "../../support/transcript.js";
import { eventually, rejection } from "../../support/wait.js";

const IDN = "Keysight Technologies,DAQ970A,MY58000123,A.03.02-01.00-03.01-00.02-03.00-01.00";
const OK = '+0,"No error"';
const LIST = "(@101,102,103)";

/** The connect sequence for inputs 101 K, 102 T, 103 K with the internal reference junction. */
const CONFIGURE: LineExchange[] = [
  ["*CLS"],
  ["ABOR"],
  ["CONF:TEMP TC,K,(@101,103)"],
  ["CONF:TEMP TC,T,(@102)"],
  [`UNIT:TEMP C,${LIST}`],
  [`TEMP:TRAN:TC:RJUN:TYPE INT,${LIST}`],
  [`TEMP:TRAN:TC:CHEC ON,${LIST}`],
  [`ROUT:SCAN ${LIST}`],
  ["TRIG:SOUR IMM"],
  ["TRIG:COUN 1"],
  ["FORM:READ:CHAN ON"],
  ["SYST:ERR?", OK],
  [`UNIT:TEMP? ${LIST}`, "C,C,C"],
  ["ROUT:SCAN:SIZE?", "+3"],
];
const CONNECT: LineExchange[] = [["*IDN?", IDN], ...CONFIGURE];

function open(
  t: Transcript,
  options: Record<string, unknown> = {},
  links: LinkEvent[] = [],
): KeysightDaq970a {
  const context: DriverContext = {
    clock: new VirtualClock(),
    chamberOfChannel: () => undefined,
    reportLink: (_id, event) => links.push(event),
  };
  return new KeysightDaq970a(
    {
      id: "daq1",
      driver: "keysight/daq970a",
      transport: t.url,
      options: { inputs: { "103": "K", "101": "k", "102": "T" }, timeoutMs: 300, retryMs: 20, ...options },
    },
    context,
  );
}

describe("keysight/daq970a transcript", () => {
  it("configures the scan at connect and reads every input with one READ?", async () => {
    const exchanges: LineExchange[] = [
      ...CONNECT,
      ["READ?", "+2.51234560E+01,101,+2.43000000E+01,102,-1.05000000E+01,103"],
    ];
    await expectExchange(exchanges, async (t) => {
      const daq = open(t);
      await daq.connect();
      expect(daq.identity?.model).toBe("DAQ970A");
      expect(daq.channels).toEqual([]);
      expect(daq.temperatureInputs.inputs).toEqual(["101", "102", "103"]);
      const scan = await daq.temperatureInputs.scan();
      expect([...scan.keys()]).toEqual(["101", "102", "103"]);
      expect(scan.get("101")).toEqual({ ok: true, temperatureC: 25.123456 });
      expect(scan.get("103")).toEqual({ ok: true, temperatureC: -10.5 });
      await daq.close();
    });
  });

  it("sets a fixed reference junction after choosing its type", async () => {
    const exchanges = [
      ...CONNECT.slice(0, 6),
      [`TEMP:TRAN:TC:RJUN:TYPE FIX,${LIST}`],
      [`TEMP:TRAN:TC:RJUN 0,${LIST}`],
      ...CONNECT.slice(7),
    ] as LineExchange[];
    await expectExchange(exchanges, async (t) => {
      const daq = open(t, { referenceJunction: { fixedC: 0 } });
      await daq.connect();
      await daq.close();
    });
  });

  it("reports +9.9E+37 as an open input, -9.9E+37 as overload, a value beyond the type as out of range", async () => {
    const exchanges: LineExchange[] = [
      ...CONNECT,
      ["READ?", "+9.90000000E+37,101,+4.50000000E+02,102,-9.90000000E+37,103"],
    ];
    await expectExchange(exchanges, async (t) => {
      const daq = open(t);
      await daq.connect();
      const scan = await daq.temperatureInputs.scan();
      expect(scan.get("101")).toMatchObject({ ok: false, fault: "open" });
      expect(scan.get("102")).toMatchObject({ ok: false, fault: "out-of-range" });
      expect(scan.get("103")).toMatchObject({ ok: false, fault: "overload" });
      await daq.close();
    });
  });

  it.each([
    ["too few readings", "+2.5E+01,101,+2.4E+01,102"],
    ["a channel not configured", "+2.5E+01,101,+2.4E+01,104,+2.3E+01,103"],
    ["a channel twice", "+2.5E+01,101,+2.4E+01,101,+2.3E+01,103"],
    ["garbage", "+2.5E+01,101,#*!x,102,+2.3E+01,103"],
    ["a reading with a unit", "+2.5E+01 C,101,+2.4E+01,102,+2.3E+01,103"],
  ])("rejects a scan reply with %s (DAQ_BAD_SCAN)", async (_what, reply) => {
    await expectExchange([...CONNECT, ["READ?", reply]], async (t) => {
      const daq = open(t);
      await daq.connect();
      expect(await rejection(daq.temperatureInputs.scan())).toMatchObject({ code: "DAQ_BAD_SCAN" });
      await daq.close();
    });
  });

  it("refuses to connect when the error queue holds errors after the configuration", async () => {
    const exchanges = [
      ...CONNECT.slice(0, 12),
      ["SYST:ERR?", '-222,"Data out of range"'],
      ["SYST:ERR?", OK],
    ] as LineExchange[];
    await expectExchange(exchanges, async (t) => {
      const err = await rejection(open(t).connect());
      expect(err).toMatchObject({ code: "DAQ_CONFIG_REFUSED" });
      expect(err.message).toContain('-222,"Data out of range"');
      expect(err.message).toContain("CONF:TEMP TC,K,(@101,103)");
    });
  });

  it("refuses an instrument whose units read back other than °C", async () => {
    const exchanges = [...CONNECT.slice(0, 13), [`UNIT:TEMP? ${LIST}`, "C,F,C"]] as LineExchange[];
    await expectExchange(exchanges, async (t) => {
      expect(await rejection(open(t).connect())).toMatchObject({ code: "DAQ_SETTING_NOT_APPLIED" });
    });
  });

  it("refuses another instrument", async () => {
    await expectExchange([["*IDN?", "Keysight Technologies,34465A,MY1,A.03"]], async (t) => {
      expect(await rejection(open(t).connect())).toMatchObject({ code: "IDENTITY_MISMATCH" });
    });
  });

  it("fails fast while the link is down and configures the instrument again after a reconnect", async () => {
    const links: LinkEvent[] = [];
    await expectExchange([...CONNECT], async (t) => {
      const daq = open(t, {}, links);
      await daq.connect();
      t.pair.unplug();
      await eventually(() => links.some((e) => e.kind === "lost"), "the lost link to be reported");
      expect(await rejection(daq.temperatureInputs.scan())).toMatchObject({ code: "DAQ_LINK_DOWN" });
      t.extend([...CONNECT, ["READ?", "+2.5E+01,101,+2.4E+01,102,+2.3E+01,103"]]);
      t.pair.plug();
      await eventually(() => links.some((e) => e.kind === "restored"), "the link to be restored");
      expect((await daq.temperatureInputs.scan()).get("102")).toEqual({ ok: true, temperatureC: 24 });
      await daq.close();
    });
  });

  it("refuses bad options with what to change", () => {
    const make = (options: Record<string, unknown>, channels?: string[]) => () =>
      new KeysightDaq970a(
        {
          id: "daq1",
          driver: "keysight/daq970a",
          transport: "memory://nowhere",
          ...(channels ? { channels } : {}),
          options,
        },
        { clock: new VirtualClock(), chamberOfChannel: () => undefined },
      );
    expect(make({})).toThrow(/options.inputs must map each input/);
    expect(make({ inputs: { "1": "K" } })).toThrow(/slot·100 \+ channel/);
    expect(make({ inputs: { "141": "K" } })).toThrow(/slot·100 \+ channel/);
    expect(make({ inputs: { "101": "X" } })).toThrow(/options.inputs.101 must be a thermocouple type/);
    expect(make({ inputs: { "101": "K" }, referenceJunction: { fixedC: 100 } })).toThrow(/-20..80 °C/);
    expect(make({ inputs: { "101": "K" }, tcCheck: false })).toThrow(/unknown option "tcCheck"/);
    expect(make({ inputs: { "101": "K" } }, ["ch1"])).toThrow(/has no cycler channels/);
    expect(make({ inputs: { "101": "K" } }, ["ch1"])).toThrow(
      expect.objectContaining({ code: "DAQ_BAD_OPTIONS" }),
    );
  });
});
