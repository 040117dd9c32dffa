import { afterEach, describe, expect, it } from "vitest";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually, rejection } from "../../support/wait.js";
import { type DaqRig, startRig } from "./daq970a-fixtures.js";

/** The real driver against the emulator over each kind of link the instrument has. */
describe("keysight/daq970a against its emulator", () => {
  let rig: DaqRig | undefined;
  let pty: PtyPair | undefined;

  afterEach(async () => {
    await rig?.stop();
    await pty?.stop();
    rig = undefined;
    pty = undefined;
  });

  async function scanTwice(r: DaqRig): Promise<void> {
    await r.daq.connect();
    r.emulator.setTemperature("102", 41.25);
    const first = await r.daq.temperatureInputs.scan();
    expect(first.get("101")).toEqual({ ok: true, temperatureC: 25 });
    expect(first.get("102")).toEqual({ ok: true, temperatureC: 41.25 });
    r.emulator.setTemperature("105", -18.5);
    expect((await r.daq.temperatureInputs.scan()).get("105")).toEqual({ ok: true, temperatureC: -18.5 });
    expect(r.emulator.errorQueue).toEqual([]);
  }

  it("configures and scans over a memory pair, each input as configured", async () => {
    rig = await startRig();
    await scanTwice(rig);
    expect(rig.emulator.scanList).toEqual([101, 102, 105]);
    expect(rig.emulator.channel(101)).toMatchObject({
      type: "K",
      unit: "C",
      check: true,
      junction: "INTernal",
    });
    expect(rig.emulator.channel(102)).toMatchObject({ type: "T", check: true });
    expect(rig.emulator.commands.filter((c) => c === "READ?")).toHaveLength(2);
  });

  it("scans over TCP loopback", async () => {
    rig = await startRig({ listen: "tcp://127.0.0.1:0" });
    await scanTwice(rig);
  });

  it("scans over a socat pty pair", async () => {
    pty = await startPtyPair();
    const a = pty.a;
    rig = await startRig({ listen: `serial://${pty.b}?baud=115200`, url: () => `serial://${a}?baud=115200` });
    await scanTwice(rig);
  });

  it("takes temperatures from the simulated cells it is given", async () => {
    let cell = 30;
    rig = await startRig({ emulator: { temperatureOf: (input: string) => (input === "101" ? cell : 20) } });
    await rig.daq.connect();
    expect((await rig.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 30 });
    cell = 47.5;
    expect((await rig.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 47.5 });
  });

  it("reads °C from an instrument left in °F (the driver sets the units itself)", async () => {
    rig = await startRig({ emulator: { temperatureUnit: "F" } });
    await rig.daq.connect();
    expect(rig.emulator.channel(101)?.unit).toBe("C");
    expect((await rig.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 25 });
  });

  it("applies a fixed reference junction: an ice-bath setting on a 25 °C terminal block reads 25 °C high", async () => {
    rig = await startRig({ driver: { referenceJunction: { fixedC: 0 } } });
    await rig.daq.connect();
    expect(rig.emulator.channel(105)).toMatchObject({ junction: "FIXed", fixedJunctionC: 0 });
    expect((await rig.daq.temperatureInputs.scan()).get("105")).toEqual({ ok: true, temperatureC: 50 });
  });

  it("refuses to connect to inputs on a slot without a multiplexer (the instrument's error is named)", async () => {
    rig = await startRig({ driver: { inputs: { "101": "K", "201": "K" } } });
    const err = await rejection(rig.daq.connect());
    expect(err).toMatchObject({ code: "DAQ_CONFIG_REFUSED" });
    expect(err.message).toContain('-222,"Data out of range"');
  });

  it("configures the instrument again after the link was cut and reports lost and restored", async () => {
    rig = await startRig({ listen: "tcp://127.0.0.1:0" });
    await rig.daq.connect();
    const configured = rig.emulator.commands.filter((c) => c.startsWith("CONF:")).length;
    rig.emulator.disconnectFor(300);
    await eventually(() => rig!.links.some((e) => e.kind === "lost"), "the lost link to be reported");
    const during = await rejection(rig.daq.temperatureInputs.scan());
    expect(["DAQ_LINK_DOWN", "DAQ_NOT_READY"]).toContain(during.code);
    await eventually(() => rig!.links.some((e) => e.kind === "restored"), "the link to be restored", 15_000);
    expect(rig.emulator.commands.filter((c) => c.startsWith("CONF:")).length).toBe(2 * configured);
    expect((await rig.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 25 });
  });
});
